/**
 * The fast bulk load of an empty data directory (src/store/bulk-load.ts), as
 * `mbdir import --data-dir` and `mbdir bench generate` run it: it drops the
 * secondary indexes and the journal while loading, so the directory it leaves
 * must have exactly the schema of a migrated one (indexes included, every index
 * complete, WAL back on), conflicts in the input must still be caught, and a
 * load that dies half-way must be refused by `serve`, `import` and `export`.
 * Import parses on worker threads there: a bad line deep in a chunk, or a
 * parsing thread that dies, must stop it as clearly as line by line, keeping
 * what came before.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirSink } from '../../tools/cli/mailbox-sinks.js';
import { loadPackedDump } from '../../tools/cli/import-pipeline.js';
import { EmptyDirectoryLoad } from '../../src/store/bulk-load.js';
import { migrations } from '../../src/store/schema.js';
import { Store, bulkLoadIncompleteKey } from '../../src/store/store.js';
import { runCli, startServer } from '../helpers/server-process.js';
import { connectionOf } from '../../src/store/connection.js';

const fixtures = fileURLToPath(new URL('../fixtures/cyrus-3.6/', import.meta.url));
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
    const importRun = await runCli(['--json', 'import', backendDump, '--data-dir', imported, '--server', 'backend1', '--register-servers']);
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

  it('decides a repeated name or uniqueid in the input by the create rule: a retry is unchanged, a fork a conflict, the first kept', async () => {
    const lines = readFileSync(backendDump, 'utf8').split('\n');
    const first = lines[1] ?? '';
    const second = lines[2] ?? '';
    const sameName = first.replace(/"uniqueid": "[^"]+"/, '"uniqueid": "anotherid000000000000001"');
    const sameId = second.replace(/"shared\.support"/g, '"shared.elsewhere"');
    const dump = join(scratch, 'repeated.json');
    writeFileSync(dump, ['{', first, second, sameName, sameId, first, '}', ''].join('\n'));
    const dataDir = join(scratch, 'repeated');
    const run = await runCli(['--json', 'import', dump, '--data-dir', dataDir, '--server', 'backend1', '--register-servers']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { written: number; conflicts: number; conflictExamples: string[] };
    expect(summary).toMatchObject({ written: 2, unchanged: 1, conflicts: 2 });
    expect(summary.conflictExamples).toEqual([
      'shared: mailbox "shared" is held by uniqueid b370sjdf5ghfctk8ucyuoiy8 on server backend1; a second mailbox of the same name is never created',
      'shared.elsewhere: uniqueid lbo7ru80xjky0wrpkqjbt7mn is already registered as "shared.support" on server backend1 (a mailbox changing name is a rename)',
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
    connectionOf(store).close(); // the process dies here: no finish, the marker stays
    const refusal = /bulk load that did not finish.*Remove the data directory and run the load again/;
    await expect(startServer([], { dataDir })).rejects.toThrow(refusal);
    const imported = await runCli(['import', backendDump, '--data-dir', dataDir, '--server', 'backend1', '--register-servers']);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(refusal);
    const exported = await runCli(['export', '--data-dir', dataDir]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(refusal);
  });
});

/** A backend dump of `count` mailboxes (several 1 MiB chunks for a few thousand), the fixture's first entry as the model. */
function bigDump(count: number): string[] {
  const model = readFileSync(backendDump, 'utf8').split('\n')[1] ?? '';
  const lines = ['{'];
  for (let index = 0; index < count; index += 1) {
    const name = `user.u${String(index).padStart(6, '0')}`;
    const line = model
      .replaceAll('"shared"', JSON.stringify(name))
      .replace(/"uniqueid": "[^"]+"/, `"uniqueid": "big${String(index).padStart(21, '0')}"`)
      .replace(/"mtime": "\d+"/, `"mtime": "${'1'.repeat(200)}"`);
    lines.push(line);
  }
  lines.push('}');
  return lines;
}

describe('import on parsing threads', () => {
  it('stops at a bad line deep in a chunk with the line-at-a-time message, keeping the lines before it', async () => {
    const lines = bigDump(8000);
    lines[6000] = '"user.broken": {"name": "user.broken", "uidvalidity": "-3"},';
    const dump = join(scratch, 'bad-line.json');
    writeFileSync(dump, `${lines.join('\n')}\n`);
    const fast = await runCli(['import', dump, '--data-dir', join(scratch, 'bad-fast'), '--server', 'backend1', '--register-servers']);
    // The same dump into a directory that holds a mailbox already goes line by line.
    const checkedDir = join(scratch, 'bad-checked');
    const seeded = await runCli(['import', backendDump, '--data-dir', checkedDir, '--server', 'backend1', '--register-servers']);
    expect(seeded.code, seeded.stderr).toBe(0);
    const checked = await runCli(['import', dump, '--data-dir', checkedDir, '--server', 'backend1', '--register-servers']);
    expect(fast.code).toBe(1);
    expect(checked.code).toBe(1);
    expect(fast.stderr).toContain(`${dump}:6001: dump entry "user.broken": uidvalidity "-3" is not a non-negative integer`);
    expect(fast.stderr).toBe(checked.stderr);
    const exported = await runCli(['export', '--data-dir', join(scratch, 'bad-fast')]);
    expect(exported.stderr).toBe('exported 5999 mailboxes\n');
    expect(inspect(join(scratch, 'bad-fast'))).toMatchObject({ marker: undefined, integrity: 'ok', journalMode: 'wal' });
  });

  it('refuses an over-long line with the line-at-a-time message', async () => {
    const dump = join(scratch, 'long-line.json');
    writeFileSync(dump, `{\n"user.long": {"name": "${'x'.repeat(3 * 1024 * 1024)}"}\n}\n`);
    const fast = await runCli(['import', dump, '--data-dir', join(scratch, 'long-fast'), '--server', 'backend1', '--register-servers']);
    const checked = await runCli(['import', dump, '--data-dir', join(scratch, 'bad-checked'), '--server', 'backend1', '--register-servers']);
    expect(fast.code).toBe(1);
    expect(fast.stderr).toContain(`${dump}: dump line longer than 1048576 bytes`);
    expect(fast.stderr).toBe(checked.stderr);
  });

  it('refuses a uniqueid loaded thousands of lines earlier, while its unique index is dropped', async () => {
    const lines = bigDump(8000);
    // user.u006999 takes the uniqueid of user.u000009, loaded in an earlier chunk; user.u007000 that
    // of user.u006998, two rows before it (the same 16-row statement, or the one before).
    lines[7000] = (lines[7000] ?? '').replace(/"uniqueid": "[^"]+"/, `"uniqueid": "big${String(9).padStart(21, '0')}"`);
    lines[7001] = (lines[7001] ?? '').replace(/"uniqueid": "[^"]+"/, `"uniqueid": "big${String(6998).padStart(21, '0')}"`);
    const dump = join(scratch, 'far-duplicate.json');
    writeFileSync(dump, `${lines.join('\n')}\n`);
    const dataDir = join(scratch, 'far-duplicate');
    const run = await runCli(['--json', 'import', dump, '--data-dir', dataDir, '--server', 'backend1', '--register-servers']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      written: 7998,
      conflicts: 2,
      conflictExamples: [
        `user.u006999: uniqueid big${String(9).padStart(21, '0')} is already registered as "user.u000009" on server backend1 (a mailbox changing name is a rename)`,
        `user.u007000: uniqueid big${String(6998).padStart(21, '0')} is already registered as "user.u006998" on server backend1 (a mailbox changing name is a rename)`,
      ],
    });
    expect(inspect(dataDir)).toMatchObject({ integrity: 'ok', marker: undefined });
    expect(inspect(dataDir).schema).toEqual(migratedSchema());
  });

  it('decides a refused entry as things stood at its turn, when a later entry of the same statement takes its name', async () => {
    const [, first = ''] = readFileSync(backendDump, 'utf8').split('\n');
    const sameIdOtherName = first.replace(/"shared"/g, '"shared.other"');
    const otherIdSameName = sameIdOtherName.replace(/"uniqueid": "[^"]+"/, '"uniqueid": "anotherid000000000000002"');
    const dump = join(scratch, 'taken-later.json');
    writeFileSync(dump, ['{', first, sameIdOtherName, otherIdSameName, '}', ''].join('\n'));
    const run = await runCli(['--json', 'import', dump, '--data-dir', join(scratch, 'taken-later'), '--server', 'backend1', '--register-servers']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      written: 2,
      conflicts: 1,
      conflictExamples: ['shared.other: uniqueid b370sjdf5ghfctk8ucyuoiy8 is already registered as "shared" on server backend1 (a mailbox changing name is a rename)'],
    });
  });

  it('reports progress by the bytes of the dump loaded, up to the whole file', async () => {
    const dump = join(scratch, 'progress.json');
    writeFileSync(dump, `${bigDump(8000).join('\n')}\n`);
    const sink = new DataDirSink(join(scratch, 'progress'), 'NORMAL');
    const counts = { mailboxes: 0, tombstones: 0, generatedUniqueids: 0, serversFromFlag: 0 };
    const reports: Array<[number, number]> = [];
    const script = new URL('../../dist/tools/cli/import-worker.js', import.meta.url);
    await loadPackedDump(dump, sink, { server: 'backend1' }, counts, (bytes, mailboxes) => reports.push([bytes, mailboxes]), { count: 2, script });
    await sink.finish();
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)).toEqual([statSync(dump).size, 8000]);
    for (let index = 1; index < reports.length; index += 1) {
      expect(reports[index]?.[0]).toBeGreaterThan(reports[index - 1]?.[0] ?? 0);
    }
    expect(inspect(join(scratch, 'progress')).indexedCounts.mailboxes).toBe(8000);
  });

  it('stops with a clear error when a parsing thread dies, leaving the chunks before it loaded and the directory usable', async () => {
    const dump = join(scratch, 'thread-dies.json');
    writeFileSync(dump, `${bigDump(8000).join('\n')}\n`);
    // A parsing thread that answers its first chunk, then throws.
    const parser = new URL('../../dist/tools/cli/import-parse.js', import.meta.url).href;
    const script = new URL(
      `data:text/javascript,${encodeURIComponent(`
        import { parentPort, workerData } from 'node:worker_threads';
        import { parseDumpChunk } from ${JSON.stringify(parser)};
        let chunks = 0;
        parentPort.on('message', ({ bytes }) => {
          chunks += 1;
          if (chunks > 1) throw new Error('parser exploded');
          parentPort.postMessage(parseDumpChunk(new TextDecoder().decode(bytes), workerData.options));
        });`)}`,
    );
    const dataDir = join(scratch, 'thread-dies');
    const sink = new DataDirSink(dataDir, 'NORMAL');
    const counts = { mailboxes: 0, tombstones: 0, generatedUniqueids: 0, serversFromFlag: 0 };
    await expect(loadPackedDump(dump, sink, { server: 'backend1' }, counts, () => undefined, { count: 1, script })).rejects.toThrow(
      'import parsing thread failed: parser exploded',
    );
    await sink.finish();
    const seen = inspect(dataDir);
    expect(seen).toMatchObject({ marker: undefined, integrity: 'ok', journalMode: 'wal' });
    expect(seen.indexedCounts.mailboxes).toBe(counts.mailboxes);
    expect(counts.mailboxes).toBeGreaterThan(0);
    expect(counts.mailboxes).toBeLessThan(8000);
  });
});
