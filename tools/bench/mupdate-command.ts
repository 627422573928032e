/**
 * `mbdir bench mupdate`: the MUPDATE figures of mbdir beside another MUPDATE
 * server's (`--mupdate-peer`, a Cyrus mupdate master) from one run. Both sides
 * are loaded with the same seeded directory through MUPDATE ACTIVATE (which is
 * the ACTIVATE figure), then each measurement runs on mbdir, then on the peer,
 * before the next one, so a host whose speed drifts moves both alike. It
 * starts its own node (fresh data directory, MUPDATE on loopback) unless given
 * `--mupdate`. Targets are printed beside the figures, never asserted in tests.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MbdirClient } from '../../src/client/client.js';
import { spawnServing, type Child } from './harness.js';
import { generateMailboxes, mailboxTotal, serverName, type DirectoryShape } from './generate.js';
import {
  activateFor,
  findFor,
  followerDelivery,
  followerServer,
  listOneServer,
  loadByActivate,
  updateDump,
  type MupdateBenchSettings,
  type MupdateSide,
  type RateFigure,
} from './mupdate-bench.js';
import { rssMebibytes } from './proc.js';

export interface MupdateBenchOptions {
  shape: DirectoryShape;
  settings: MupdateBenchSettings;
  /** mbdir's MUPDATE listener; absent: the bench starts a node (on `dataDir`, or a fresh one it loads). */
  mupdate?: string;
  /** A data directory made by `bench generate` with the same shape: the node starts on it, loaded. */
  dataDir?: string;
  authname: string;
  password: string;
  peer?: { address: string; authname: string; password: string; pid?: number };
  /** Load mbdir by ACTIVATE (a fresh node it starts). */
  loadMbdir: boolean;
  /** Load the peer by ACTIVATE (else it holds the directory already, e.g. by `ctl_mboxlist -u` of `bench cyrus-dump`). */
  loadPeer: boolean;
  synchronous: string;
}

/** One measurement on every side, in run order. */
export interface MupdateRow {
  measurement: string;
  /** Higher is better (a rate) or lower is better (a latency). */
  better: 'higher' | 'lower';
  unit: string;
  target: string;
  /** Which figure of each side's RateFigure the row shows. */
  figures: Record<string, RateFigure & { value: number; note?: string }>;
}

export interface MupdateReport {
  shape: DirectoryShape;
  mailboxes: number;
  sides: string[];
  rows: MupdateRow[];
  mbdirRssMb: number;
}

/**
 * Starts a node with MUPDATE on loopback, on `given` (loaded by bench generate) or on a fresh data
 * directory (removed at the end); registers the shape's servers and the followers' server.
 */
async function startNode(shape: DirectoryShape, synchronous: string, given: string | undefined): Promise<{ child: Child; dataDir: string; fresh: boolean }> {
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'mbdir-bench-mupdate-'));
  const child = await spawnServing(
    ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--mupdate-listen', '127.0.0.1:0', '--log-level', 'warn', '--synchronous', synchronous],
    ['MUPDATE'],
  );
  const client = new MbdirClient({ endpoint: child.endpoint });
  try {
    // bench generate registered the shape's servers already; a fresh node needs them for the load.
    const servers = [...(given === undefined ? Array.from({ length: shape.servers }, (_, index) => serverName(index)) : []), followerServer];
    for (const [index, name] of servers.entries()) {
      await client.putServer({ name, imap_address: `10.1.0.${index + 1}:143`, lmtp_address: `10.1.0.${index + 1}:24`, state: 'UP', weight: 1 });
    }
  } finally {
    client.close();
  }
  return { child, dataDir, fresh: given === undefined };
}

type Measure = (side: MupdateSide) => Promise<RateFigure & { value: number; note?: string }>;

async function row(sides: MupdateSide[], measurement: string, better: MupdateRow['better'], unit: string, target: string, measure: Measure): Promise<MupdateRow> {
  const figures: MupdateRow['figures'] = {};
  for (const side of sides) {
    process.stderr.write(`${measurement}: ${side.label}...\n`);
    try {
      figures[side.label] = await measure(side);
    } catch (error) {
      // One side failing one measurement is a figure too: said in the row, the run goes on.
      const firstError = (error as Error).message;
      process.stderr.write(`${measurement}: ${side.label} failed: ${firstError}\n`);
      figures[side.label] = { operations: 0, seconds: 0, perSecond: 0, p50Ms: 0, p99Ms: 0, errors: 1, firstError, value: 0 };
    }
  }
  return { measurement, better, unit, target, figures };
}

/** Each user of the shape with the server of its root (the server its new folders go to). */
function usersOf(shape: DirectoryShape): { user: string; server: string }[] {
  const users: { user: string; server: string }[] = [];
  for (const mailbox of generateMailboxes(shape)) {
    const match = /^user\.([^.]+)$/.exec(mailbox.name);
    if (match?.[1] !== undefined) users.push({ user: match[1], server: mailbox.server });
  }
  return users;
}

/** Every measurement of the table, in order. */
async function measureAll(sides: MupdateSide[], options: MupdateBenchOptions, names: string[]): Promise<MupdateRow[]> {
  const { shape, settings } = options;
  const rows: MupdateRow[] = [];
  const loading = sides.filter((side) => (side.label === 'mbdir' ? options.loadMbdir : options.loadPeer));
  if (loading.length > 0) {
    rows.push(
      await row(loading, `load: ACTIVATE x${settings.pipeline} pipelined, every mailbox`, 'higher', 'ops/s', '', async (side) => {
        const result = await loadByActivate(side, generateMailboxes(shape), settings.pipeline);
        return { ...result, value: result.perSecond, note: `${result.operations} in ${result.seconds.toFixed(1)} s` };
      }),
    );
  }
  const users = usersOf(shape);
  rows.push(
    await row(sides, `ACTIVATE x${settings.pipeline} pipelined, new names`, 'higher', 'ops/s', '>= 1.5x', async (side) => {
      const result = await activateFor(side, users, settings.pipeline, settings, `b${Date.now().toString(36)}`);
      return { ...result, value: result.perSecond, note: `p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms` };
    }),
  );
  rows.push(
    await row(sides, 'FIND, one at a time', 'higher', 'ops/s', '>= 1.2x', async (side) => {
      const result = await findFor(side, names, 1, settings);
      return { ...result, value: result.perSecond };
    }),
    await row(sides, `FIND x${settings.pipeline} pipelined`, 'higher', 'ops/s', '>= 1.5x', async (side) => {
      const result = await findFor(side, names, settings.pipeline, settings);
      return { ...result, value: result.perSecond };
    }),
    await row(sides, `LIST "${serverName(0)}!" (one server)`, 'lower', 'ms', '>= 10x faster', async (side) => {
      const result = await listOneServer(side, serverName(0), settings.listRepeats);
      return { ...result, value: result.p50Ms, note: `${result.lines} lines` };
    }),
    await row(sides, `change -> ${settings.followers} UPDATE followers, p99`, 'lower', 'ms', '<= 50 ms', async (side) => {
      const result = await followerDelivery(side, settings, `${Date.now().toString(36)}${side.label.replace(/[^a-z0-9]/gi, '')}`);
      return { ...result, value: result.p99Ms, note: `${result.operations}/${result.expected} delivered, ${result.partial ? 'partial' : 'full'} UPDATE, p50 ${result.p50Ms.toFixed(1)} ms` };
    }),
    await row(sides, 'UPDATE dump', 'higher', 'lines/s', '>= 200,000', async (side) => {
      const result = await updateDump(side);
      return { ...result, value: result.perSecond, note: `${result.lines} lines in ${result.seconds.toFixed(2)} s` };
    }),
  );
  return rows;
}

/** Runs every measurement on mbdir, and on the peer when given. */
export async function runMupdateBench(options: MupdateBenchOptions): Promise<MupdateReport> {
  const { shape } = options;
  let started: { child: Child; dataDir: string; fresh: boolean } | null = null;
  try {
    let address = options.mupdate;
    let pid: number | undefined;
    if (address === undefined) {
      started = await startNode(shape, options.synchronous, options.dataDir);
      address = started.child.served.get('MUPDATE') ?? '';
      pid = started.child.process.pid;
    }
    const sides: MupdateSide[] = [{ label: 'mbdir', address, authname: options.authname, password: options.password, pid }];
    if (options.peer !== undefined) sides.push({ label: 'peer', ...options.peer, pid: options.peer.pid });
    const names = Array.from(generateMailboxes(shape), (mailbox) => mailbox.name);
    const rows = await measureAll(sides, options, names);
    return { shape, mailboxes: mailboxTotal(shape), sides: sides.map((side) => side.label), rows, mbdirRssMb: rssMebibytes(pid) };
  } finally {
    if (started !== null) {
      await started.child.stop();
      if (started.fresh) rmSync(started.dataDir, { recursive: true, force: true });
    }
  }
}

/** The ratio of mbdir to the peer, oriented so that > 1 means mbdir is better. */
export function ratioOf(row: MupdateRow): number | null {
  const mbdir = row.figures['mbdir']?.value;
  const peer = row.figures['peer']?.value;
  if (mbdir === undefined || peer === undefined || mbdir <= 0 || peer <= 0) return null;
  return row.better === 'higher' ? mbdir / peer : peer / mbdir;
}

export function printMupdateTable(report: MupdateReport): void {
  const header = ['measurement', 'unit', ...report.sides.map((side) => side), 'mbdir vs peer', 'target', 'notes'];
  const rows = report.rows.map((row) => {
    const ratio = ratioOf(row);
    const notes = report.sides
      .map((side) => {
        const figure = row.figures[side];
        if (figure === undefined) return '';
        const errors = figure.errors > 0 ? `, ${figure.errors} errors (${figure.firstError})` : '';
        return figure.note === undefined && errors === '' ? '' : `${side}: ${figure.note ?? ''}${errors}`;
      })
      .filter((note) => note !== '')
      .join('; ');
    const cells = report.sides.map((side) => {
      const value = row.figures[side]?.value ?? 0;
      return value >= 100 ? String(Math.round(value)) : value.toFixed(2);
    });
    return [row.measurement, row.unit, ...cells, ratio === null ? '' : `${ratio.toFixed(2)}x`, row.target, notes];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => (cells[column] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n${line(widths.map((width) => '-'.repeat(width)))}\n`);
  for (const cells of rows) process.stdout.write(`${line(cells)}\n`);
  process.stdout.write(`${report.mailboxes} mailboxes over ${report.shape.servers} servers; mbdir RSS at the end: ${report.mbdirRssMb} MB\n`);
}

/**
 * The shape as Cyrus 3.6's `ctl_mboxlist -u` reads it (one JSON object, an entry a line, as `-d`
 * writes): a master's entries carry `server` and mbtype `er`, and -u skips any without a uniqueid.
 */
export async function writeCyrusDump(shape: DirectoryShape, path: string): Promise<number> {
  const out = createWriteStream(path);
  let count = 0;
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('{\n');
  for (const mailbox of generateMailboxes(shape)) {
    const acl = Object.fromEntries(mailbox.acl.map((entry) => [entry.identifier, entry.rights]));
    const entry = {
      name: mailbox.name,
      mtime: '0',
      uidvalidity: String(mailbox.uidvalidity),
      createdmodseq: String(mailbox.createdmodseq),
      foldermodseq: String(mailbox.foldermodseq),
      mbtype: 'er',
      partition: mailbox.partition,
      server: mailbox.server,
      acl,
      uniqueid: mailbox.uniqueid,
      name_history: [],
    };
    await write(`${count === 0 ? '' : ',\n'}${JSON.stringify(mailbox.name)}: ${JSON.stringify(entry)}`);
    count += 1;
  }
  await write('\n}\n');
  out.end();
  await once(out, 'finish');
  return count;
}
