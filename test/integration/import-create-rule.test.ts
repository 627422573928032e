// One create rule: a dump imported offline (into an empty data directory: the
// fast load; into one holding mailboxes: the checked load) and the same dump sent
// through a running node's API (CreateMailbox) give the same directory, row for
// row (mailboxes, reverse ACL index, replica index), and report the same
// conflicts in the same words. The dump is the real Cyrus 3.6 backend dump plus
// crafted lines: a known uniqueid twice, a replica pair, forks, a uniqueid under
// a second name, Cyrus reservations (mbtype `z`), a master-form entry without
// uniqueid whose real uniqueid follows, a name history, and an unknown server.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const backendDump = fileURLToPath(new URL('../fixtures/cyrus-3.6/ctl_mboxlist-d-backend.json', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-create-rule-'));
const nodes: ServerProcess[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

/** One dump line in Cyrus's member form; `fields` override the defaults. */
function line(name: string, fields: Record<string, unknown>): string {
  const entry = { name, mtime: '0', uidvalidity: '7', createdmodseq: '1', foldermodseq: '1', mbtype: 'e', partition: 'default', acl: { anyone: 'lr' }, name_history: [], ...fields };
  return `${JSON.stringify(name)}: ${JSON.stringify(entry)},`;
}

const carol = '0xabg3ij3vrmxt7xoeulgm4b';
const carolSent = 'u7jdqe5dby083eiou486wljq';
const carolProjects = 'oipocw75nlagcpw1sajwk4k6';

/** The crafted lines after the real backend dump's own (which carry no server: --server backend1). */
const craftedLines = [
  // A known uniqueid twice on its own server: a retry, nothing changes (even its ACL).
  line('user.carol', { uniqueid: carol, server: 'backend1', acl: { carol: 'lr' } }),
  // The same mailbox on a second server: a replica pair.
  line('user.carol.Sent', { uniqueid: carolSent, server: 'backend2' }),
  // A fork: the same name under another uniqueid (never a second mailbox, on any server).
  line('user.erin', { uniqueid: 'fork-erin-1', server: 'backend2' }),
  // A uniqueid already registered under another name.
  line('user.zed', { uniqueid: carolProjects, server: 'backend1' }),
  // A Cyrus reservation (mbtype z), then the same mailbox active: the reservation is activated.
  line('user.res1', { uniqueid: 'res-1', server: 'backend1', mbtype: 'ez' }),
  line('user.res1', { uniqueid: 'res-1', server: 'backend1' }),
  // A reservation that stays one, and a name held by a reservation under another uniqueid.
  line('user.res2', { uniqueid: 'res-2', server: 'backend2', mbtype: 'ez' }),
  line('user.res2', { uniqueid: 'res-2-fork', server: 'backend2' }),
  // A master-form entry (no uniqueid: one is generated), then its real uniqueid from its server.
  line('user.gen', { server: 'backend2' }),
  line('user.gen', { uniqueid: 'gen-real', server: 'backend2' }),
  // A name history, kept.
  line('user.moved', { uniqueid: 'moved-1', server: 'backend1', name_history: ['user.before'] }),
  // A server the directory does not know until --register-servers.
  line('user.far', { uniqueid: 'far-1', server: 'backend3' }),
  // The same mailbox a third time, from the replica's server: nothing changes.
  line('user.carol.Sent', { uniqueid: carolSent, server: 'backend2' }),
];

/** What a directory holds before the "non-empty" imports: written offline, the same for both paths. */
const seedLines = [
  line('user.seed', { uniqueid: 'seed-1', server: 'backend1' }),
  // The dump's user.carol under the same uniqueid (unchanged), user.grace under another (a conflict).
  line('user.carol', { uniqueid: carol, server: 'backend1', acl: { carol: 'lrswipkxtecdan' } }),
  line('user.grace', { uniqueid: 'seed-grace', server: 'backend2' }),
  // A reservation the dump activates.
  line('user.heidi', { uniqueid: heidiUniqueid(), server: 'backend1', mbtype: 'ez' }),
];

function heidiUniqueid(): string {
  const heidi = readFileSync(backendDump, 'utf8').split('\n').find((text) => text.startsWith('"user.heidi":'));
  return /"uniqueid": "([^"]+)"/.exec(heidi ?? '')?.[1] ?? 'heidi-missing';
}

function writeDump(path: string, lines: readonly string[]): string {
  writeFileSync(path, `{\n${lines.join('\n').replace(/,$/, '')}\n}\n`);
  return path;
}

function mainDump(): string {
  const real = readFileSync(backendDump, 'utf8').trimEnd().split('\n').slice(1, -1);
  return writeDump(join(scratch, 'dump.json'), [...real.map((text) => (text.endsWith(',') ? text : `${text},`)), ...craftedLines]);
}

interface ImportAnswer {
  written: number;
  unchanged: number;
  conflicts: number;
  conflictExamples: string[];
  mailboxes: number;
}

async function importInto(target: { dataDir: string } | { endpoint: string }, dump: string, extra: string[] = []): Promise<ImportAnswer> {
  const where = 'dataDir' in target ? ['--data-dir', target.dataDir] : [];
  const endpoint = 'endpoint' in target ? ['--endpoint', target.endpoint] : [];
  const result = await runCli(['--json', ...endpoint, 'import', dump, ...where, '--server', 'backend1', '--register-servers', ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ImportAnswer;
}

/** The mailbox whose dump line carries no uniqueid: the import generates one, a different one each time. */
const generatedName = 'user.gen';

/** The rows a directory holds, normalised only where two loads may differ: revisions, reservation deadlines, generated uniqueids. */
function directoryRows(dataDir: string): { rows: unknown; generated: Map<string, string> } {
  const db = new Database(join(dataDir, 'mbdir.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const generated = new Map<string, string>();
    const mailboxes = db
      .prepare<[], { record: string; state: number; server: string; owner: string | null; is_root: number; reserved: number }>(
        'SELECT record, state, server, owner, is_root, reserved_until_ms > 0 AS reserved FROM mailboxes ORDER BY sortkey',
      )
      .all()
      .map((row) => {
        const record = JSON.parse(row.record) as Record<string, unknown>;
        if (record['name'] === generatedName) generated.set(String(record['uniqueid']), `generated:${generatedName}`);
        const normalised: Record<string, unknown> = { ...record, reservedUntilMs: Number(record['reservedUntilMs']) > 0 ? 'set' : 0 };
        return { ...row, record: normalised };
      });
    const rename = (uniqueid: string): string => generated.get(uniqueid) ?? uniqueid;
    for (const row of mailboxes) row.record['uniqueid'] = rename(String(row.record['uniqueid']));
    const acl = db.prepare<[], { identifier: string; uniqueid: string }>('SELECT identifier, uniqueid FROM acl_index').all();
    const replicas = db.prepare<[], { server: string; uniqueid: string }>('SELECT server, uniqueid FROM mailbox_replicas').all();
    const sorted = (rows: Array<Record<string, string>>): string[] => rows.map((row) => Object.values(row).map((value) => rename(value)).join(' ')).sort();
    return { rows: { mailboxes, acl: sorted(acl), replicas: sorted(replicas) }, generated };
  } finally {
    db.close();
  }
}

/** What an import reported, and the directory it left, generated uniqueids named by their mailbox. */
function outcomeOf(answer: ImportAnswer, dataDir: string): unknown {
  const { rows, generated } = directoryRows(dataDir);
  const named = (text: string): string => [...generated].reduce((result, [uniqueid, name]) => result.replaceAll(uniqueid, name), text);
  const conflictExamples = answer.conflictExamples.map(named).sort();
  return { written: answer.written, unchanged: answer.unchanged, conflicts: answer.conflicts, conflictExamples, rows };
}

interface MailboxRow {
  state: number;
  reserved: number;
  record: Record<string, unknown>;
}

function mailboxNamed(outcome: unknown, name: string): MailboxRow | undefined {
  const rows = (outcome as { rows: { mailboxes: MailboxRow[] } }).rows.mailboxes;
  return rows.find((row) => row.record['name'] === name);
}

async function throughNode(dataDir: string, dump: string): Promise<unknown> {
  const node = await startServer([], { dataDir });
  nodes.push(node);
  const answer = await importInto({ endpoint: node.endpoint }, dump);
  await node.stop();
  return outcomeOf(answer, dataDir);
}

describe('mbdir import: one create rule offline and through the API', () => {
  const dump = mainDump();
  const seed = writeDump(join(scratch, 'seed.json'), seedLines);

  it('refuses the dump on both paths while it names a server the directory does not know', async () => {
    const node = await startServer();
    nodes.push(node);
    const offlineDir = mkdtempSync(join(scratch, 'refused-'));
    const offline = await runCli(['import', dump, '--data-dir', offlineDir, '--server', 'backend1']);
    const online = await runCli(['--endpoint', node.endpoint, 'import', dump, '--server', 'backend1']);
    await node.stop();
    for (const refused of [offline, online]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/names 3 servers the directory does not know: backend1 \(\d+ mailboxes\), backend2 \(\d+ mailboxes\), backend3 \(1 mailbox\)/);
    }
    expect(offline.stderr.replace(/in \S+$/m, '')).toBe(online.stderr.replace(/in \S+$/m, ''));
  });

  it('gives the same directory and the same conflicts into an empty directory', async () => {
    const offlineDir = mkdtempSync(join(scratch, 'offline-empty-'));
    const offline = outcomeOf(await importInto({ dataDir: offlineDir }, dump), offlineDir);
    const online = await throughNode(mkdtempSync(join(scratch, 'api-empty-')), dump);
    expect(offline).toEqual(online);
    // What the rule decided, as a user would check it.
    // At most five conflicts, so the examples list each of them.
    expect(online).toMatchObject({ written: 113, unchanged: 3, conflicts: 4 });
    expect(mailboxNamed(online, 'user.carol.Sent')?.record).toMatchObject({ server: 'backend1', replicas: [{ server: 'backend2', partition: 'default' }] });
    expect(mailboxNamed(online, 'user.carol')?.record['acl']).toEqual([{ identifier: 'carol', rights: 'lrswipkxtecdan' }]);
    expect(mailboxNamed(online, 'user.res1')).toMatchObject({ state: 2, reserved: 0, record: { state: 'ACTIVE', mbtype: 'e' } });
    expect(mailboxNamed(online, 'user.res2')).toMatchObject({ state: 1, reserved: 1, record: { state: 'RESERVED', mbtype: 'e', uniqueid: 'res-2' } });
    expect(mailboxNamed(online, 'user.moved')?.record['nameHistory']).toEqual(['user.before']);
  });

  it('gives the same directory and the same conflicts into a directory holding mailboxes', async () => {
    const offlineDir = mkdtempSync(join(scratch, 'offline-seeded-'));
    const apiDir = mkdtempSync(join(scratch, 'api-seeded-'));
    await importInto({ dataDir: offlineDir }, seed);
    await importInto({ dataDir: apiDir }, seed);
    const offline = outcomeOf(await importInto({ dataDir: offlineDir }, dump), offlineDir);
    const online = await throughNode(apiDir, dump);
    expect(offline).toEqual(online);
    expect(online).toMatchObject({ conflicts: 5 });
    expect(mailboxNamed(online, 'user.heidi')).toMatchObject({ state: 2, record: { state: 'ACTIVE' } });
    expect(mailboxNamed(online, 'user.grace')?.record).toMatchObject({ uniqueid: 'seed-grace', server: 'backend2' });
  });
});
