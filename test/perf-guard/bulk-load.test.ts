/**
 * The fast bulk load of an empty data directory (src/store/bulk-load.ts), as
 * `mbdir import --data-dir` and `mbdir bench generate` run it: it drops the
 * secondary indexes and the journal while loading, so the directory it leaves
 * must have exactly the schema of a migrated one (indexes included, every index
 * complete, WAL back on), conflicts in the input must still be caught, and a
 * load that dies half-way must be refused by `serve`, `import` and `export`.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EmptyDirectoryLoad } from '../../src/store/bulk-load.js';
import { migrations } from '../../src/store/schema.js';
import { Store, bulkLoadIncompleteKey } from '../../src/store/store.js';
import { runCli, startServer } from '../helpers/server-process.js';

const fixtures = fileURLToPath(new URL('../../../shared/fixtures/cyrus-3.6/', import.meta.url));
const backendDump = join(fixtures, 'ctl_mboxlist-d-backend.json');
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-bulk-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** What a reader sees of a data directory's database: schema, version, journal, marker, integrity. */
function inspect(dataDir: string): {
  schema: SchemaRow[];
  userVersion: unknown;
  journalMode: unknown;
  marker: unknown;
  integrity: unknown;
  indexedCounts: Record<string, number>;
} {
  const db = new Database(join(dataDir, 'mbdir.sqlite'), { readonly: true });
  try {
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    return {
      schema: db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all() as SchemaRow[],
      userVersion: db.pragma('user_version', { simple: true }),
      journalMode: db.pragma('journal_mode', { simple: true }),
      marker: db.prepare('SELECT value FROM meta WHERE key = ?').get(bulkLoadIncompleteKey),
      integrity: db.pragma('integrity_check', { simple: true }),
      indexedCounts: {
        mailboxes: count('SELECT count(*) AS n FROM mailboxes'),
        byServer: count('SELECT count(*) AS n FROM mailboxes INDEXED BY mailboxes_by_server WHERE server > \'\''),
        aclRows: count('SELECT count(*) AS n FROM acl_index'),
        aclByUniqueid: count('SELECT count(*) AS n FROM acl_index INDEXED BY acl_index_by_uniqueid WHERE uniqueid > \'\''),
      },
    };
  } finally {
    db.close();
  }
}

function migratedSchema(): SchemaRow[] {
  const dataDir = join(scratch, 'migrated');
  new Store({ dataDir, synchronous: 'NORMAL' }).close();
  return inspect(dataDir).schema;
}

describe('bulk load of an empty data directory', () => {
  it('leaves exactly the schema of a migrated directory, every index complete, WAL on, no marker', async () => {
    const imported = join(scratch, 'imported');
    const importRun = await runCli(['--json', 'import', backendDump, '--data-dir', imported, '--server', 'backend1']);
    expect(importRun.code, importRun.stderr).toBe(0);
    const generated = join(scratch, 'generated');
    const generateRun = await runCli(['bench', 'generate', '--data-dir', generated, '--users', '40', '--folders', '5', '--businesses', '4', '--seed', '3']);
    expect(generateRun.code, generateRun.stderr).toBe(0);
    const expected = migratedSchema();
    for (const dataDir of [imported, generated]) {
      const seen = inspect(dataDir);
      expect(seen.schema).toEqual(expected);
      expect(seen.userVersion).toBe(migrations.length);
      expect(seen.journalMode).toBe('wal');
      expect(seen.marker).toBeUndefined();
      expect(seen.integrity).toBe('ok');
      expect(seen.indexedCounts.byServer).toBe(seen.indexedCounts.mailboxes);
      expect(seen.indexedCounts.aclByUniqueid).toBe(seen.indexedCounts.aclRows);
    }
    expect(inspect(imported).indexedCounts.mailboxes).toBe(107);
    expect(inspect(generated).indexedCounts.mailboxes).toBe(20 + 40 * 5);
  });

  it('counts a repeated name or uniqueid in the input as a conflict and keeps the first', async () => {
    const lines = readFileSync(backendDump, 'utf8').split('\n');
    const first = lines[1] ?? '';
    const second = lines[2] ?? '';
    const sameName = first.replace(/"uniqueid": "[^"]+"/, '"uniqueid": "anotherid000000000000001"');
    const sameId = second.replace(/"shared\.support"/g, '"shared.elsewhere"');
    const dump = join(scratch, 'repeated.json');
    writeFileSync(dump, ['{', first, second, sameName, sameId, first, '}', ''].join('\n'));
    const dataDir = join(scratch, 'repeated');
    const run = await runCli(['--json', 'import', dump, '--data-dir', dataDir, '--server', 'backend1']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { written: number; conflicts: number; conflictExamples: string[] };
    expect(summary).toMatchObject({ written: 2, conflicts: 3 });
    expect(summary.conflictExamples).toEqual([
      'shared: held by uniqueid b370sjdf5ghfctk8ucyuoiy8',
      'shared.elsewhere: uniqueid lbo7ru80xjky0wrpkqjbt7mn is registered as shared.support',
      'shared (b370sjdf5ghfctk8ucyuoiy8): appears twice in the input',
    ]);
    expect(inspect(dataDir).integrity).toBe('ok');
  });

  it('is refused by serve, import and export when it stopped before finishing', async () => {
    const dataDir = join(scratch, 'interrupted');
    const store = new Store({ dataDir, synchronous: 'NORMAL' });
    store.enterBulkMode();
    const load = EmptyDirectoryLoad.begin(store, 1, 'NORMAL');
    load.put({
      uniqueid: 'interrupted0000000000001', name: 'user.alice', server: 'backend1', partition: 'default', replicas: [],
      acl: [{ identifier: 'alice', rights: 'lrswipkxtecdan' }], mbtype: 'e', state: 'ACTIVE', uidvalidity: 1,
      createdmodseq: 1, foldermodseq: 1, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
    });
    store.db.close(); // the process dies here: no finish, the marker stays
    const refusal = /bulk load that did not finish.*Remove the data directory and run the load again/;
    await expect(startServer([], { dataDir })).rejects.toThrow(refusal);
    const imported = await runCli(['import', backendDump, '--data-dir', dataDir, '--server', 'backend1']);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(refusal);
    const exported = await runCli(['export', '--data-dir', dataDir]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(refusal);
  });
});
