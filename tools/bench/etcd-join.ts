/**
 * `bench join`: how fast a fresh node of the etcd engine loads etcd's keyspace
 * before serving, and how much memory it takes. It starts a 1-member etcd (or
 * uses given endpoints under a fresh prefix), writes the keys of a generated
 * directory straight into etcd in the node's own format (etcd-keyspace.ts: a
 * `hier/` value per user, a `uid/` marker per mailbox, server, business and
 * user records, the `log` key), plus deleted users' tombstones, then times a
 * node started on an empty data directory until its `serving gRPC` line and
 * reads its peak RSS (VmHWM). Bounded by the shape's limits; it stops what it starts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change, MailboxRecord } from '../../src/model/records.js';
import { hierarchyOf } from '../../src/model/names.js';
import { EtcdClient, type RequestOp } from '../../src/replication/etcd-client.js';
import { Keyspace } from '../../src/replication/etcd-keyspace.js';
import { MbdirClient } from '../../src/client/client.js';
import { BenchEtcdCluster } from './etcd-members.js';
import { generateMailboxes, generatePlacement, type DirectoryShape } from './generate.js';
import { spawnServing } from './harness.js';

/** Puts per etcd txn while filling (under etcd's default --max-txn-ops of 128). */
const fillPutsPerTxn = 100;
/** Bytes of values per fill txn at most (under etcd's default 1.5 MiB request). */
const fillTxnBytesMax = 1_000_000;
/** Fill txns in flight at once. */
const fillTxnsInFlight = 8;

export interface JoinOptions {
  shape: DirectoryShape;
  /** Deleted users whose tombstones (an empty hierarchy, a deleted uid marker per folder) wait for the sweep. */
  deletedUsers: number;
  /** Fresh nodes started one after the other on the same keyspace. */
  rounds: number;
  endpoints?: string;
}

export interface JoinRound {
  seconds: number;
  peakRssMb: number;
  mailboxesServed: number;
}

export interface JoinReport {
  keys: number;
  relistedKeys: number;
  valueMb: number;
  fillSeconds: number;
  rounds: JoinRound[];
}

/** Writes puts in txns of bounded size, a few in flight. */
class Filler {
  private ops: RequestOp[] = [];
  private bytes = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  keys = 0;
  relistedKeys = 0;
  valueBytes = 0;

  constructor(private readonly client: EtcdClient) {}

  async put(key: string, value: unknown, relisted: boolean): Promise<void> {
    const encoded = Buffer.from(JSON.stringify(value));
    this.ops.push({ request_put: { key: Buffer.from(key), value: encoded } });
    this.bytes += encoded.length + key.length;
    this.keys += 1;
    if (relisted) this.relistedKeys += 1;
    this.valueBytes += encoded.length;
    if (this.ops.length >= fillPutsPerTxn || this.bytes >= fillTxnBytesMax) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.ops.length > 0) {
      const sent = this.client.txn({ compare: [], success: this.ops, failure: [] });
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent)).catch(() => undefined);
      this.ops = [];
      this.bytes = 0;
    }
    while (this.inFlight.size >= fillTxnsInFlight) await Promise.race(this.inFlight);
  }

  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
  }
}

function recordPut(keyspace: Keyspace, change: Change): [string, unknown] | undefined {
  const requestId = 'bench';
  switch (change.kind) {
    case 'server.put':
      return [keyspace.key('server', change.server.name), { requestId, server: change.server }];
    case 'business.put':
      return [keyspace.key('business', change.business.id), { requestId, business: change.business }];
    case 'user.put':
      return [keyspace.key('user', change.user.user), { requestId, user: change.user }];
    default:
      return undefined;
  }
}

/** Writes the shape's keys in the node's format, then `deletedUsers` users' tombstones, then the `log` key. */
export async function fillEtcdKeyspace(client: EtcdClient, keyspace: Keyspace, options: Pick<JoinOptions, 'shape' | 'deletedUsers'>): Promise<Filler> {
  const filler = new Filler(client);
  for (const change of generatePlacement(options.shape)) {
    const put = recordPut(keyspace, change);
    if (put !== undefined) await filler.put(put[0], put[1], true);
  }
  let hierarchy = '';
  let records: MailboxRecord[] = [];
  const flushHierarchy = async (): Promise<void> => {
    if (records.length > 0) await filler.put(keyspace.key('hier', hierarchy), { requestId: 'bench', mailboxes: records }, true);
    records = [];
  };
  for (const mailbox of generateMailboxes(options.shape)) {
    const home = hierarchyOf(mailbox.name);
    if (home !== hierarchy) await flushHierarchy();
    hierarchy = home;
    records.push(mailbox);
    await filler.put(keyspace.key('uid', mailbox.uniqueid), { requestId: 'bench', uniqueid: mailbox.uniqueid }, false);
  }
  await flushHierarchy();
  for (let index = 0; index < options.deletedUsers; index += 1) {
    const user = `gone${String(index).padStart(7, '0')}`;
    await filler.put(keyspace.key('hier', `user.${user}`), { requestId: 'bench', mailboxes: [] }, true);
    for (let folder = 0; folder < options.shape.foldersPerUser; folder += 1) {
      const uniqueid = `gone-${index}-${folder}`;
      await filler.put(keyspace.key('uid', uniqueid), { requestId: 'bench', uniqueid, deleted: true }, false);
    }
  }
  await filler.drain();
  await filler.put(keyspace.logKey(), { requestId: 'bench', changes: [] }, false);
  await filler.drain();
  return filler;
}

/** Peak resident memory of a process in MiB (VmHWM), 0 when unknown. */
function peakRssMebibytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? 0 : Math.round(Number(match[1]) / 1024);
  } catch {
    return 0;
  }
}

async function countMailboxes(endpoint: string): Promise<number> {
  const client = new MbdirClient({ endpoint });
  try {
    let count = 0;
    for await (const record of client.scanMailboxes({})) if (record !== undefined) count += 1;
    return count;
  } finally {
    client.close();
  }
}

/** Starts a node on an empty data directory and times it to its `serving gRPC` line. */
async function joinOnce(endpoints: string, prefix: string, dataDir: string): Promise<JoinRound> {
  const started = process.hrtime.bigint();
  const child = await spawnServing([
    'serve', '--engine', 'etcd', '--etcd-endpoints', endpoints, '--etcd-prefix', prefix,
    '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn',
  ]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const peakRssMb = peakRssMebibytes(child.process.pid);
    return { seconds, peakRssMb, mailboxesServed: await countMailboxes(child.endpoint) };
  } finally {
    await child.stop();
  }
}

/** Fills etcd, then starts `rounds` fresh nodes one after the other. */
export async function runJoinBench(options: JoinOptions): Promise<JoinReport> {
  const cluster = options.endpoints === undefined ? await BenchEtcdCluster.start(1) : undefined;
  const endpoints = options.endpoints ?? cluster?.endpoints() ?? '';
  const prefix = `/mbdir-join-${process.pid}-${Date.now()}`;
  const client = new EtcdClient(endpoints.split(','));
  const dataRoot = mkdtempSync(join(tmpdir(), 'mbdir-bench-join-'));
  try {
    const fillStarted = process.hrtime.bigint();
    const filled = await fillEtcdKeyspace(client, new Keyspace(prefix), options);
    const fillSeconds = Number(process.hrtime.bigint() - fillStarted) / 1e9;
    process.stderr.write(`filled ${filled.keys} keys (${filled.relistedKeys} a relist reads) in ${fillSeconds.toFixed(1)} s\n`);
    const rounds: JoinRound[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      rounds.push(await joinOnce(endpoints, prefix, join(dataRoot, `node${round}`)));
      rmSync(join(dataRoot, `node${round}`), { recursive: true, force: true });
    }
    return { keys: filled.keys, relistedKeys: filled.relistedKeys, valueMb: filled.valueBytes / 1024 / 1024, fillSeconds, rounds };
  } finally {
    client.close();
    rmSync(dataRoot, { recursive: true, force: true });
    await cluster?.stop();
  }
}

export function printJoinReport(report: JoinReport, mailboxes: number): void {
  process.stdout.write(
    `etcd keyspace: ${report.keys} keys, ${report.valueMb.toFixed(0)} MB of values, ${mailboxes} mailboxes (${report.relistedKeys} keys outside uid/ and log)\n`,
  );
  process.stdout.write('round  seconds  keys/s  mailboxes/s  peak RSS MB  mailboxes served\n');
  report.rounds.forEach((round, index) => {
    process.stdout.write(
      `${String(index + 1).padStart(5)}  ${round.seconds.toFixed(1).padStart(7)}  ${Math.round(report.keys / round.seconds).toString().padStart(6)}` +
        `  ${Math.round(mailboxes / round.seconds).toString().padStart(11)}  ${String(round.peakRssMb).padStart(11)}  ${String(round.mailboxesServed).padStart(16)}\n`,
    );
  });
}
