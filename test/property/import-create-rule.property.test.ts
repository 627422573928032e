// The offline import decides every mailbox as the directory's create rule does:
// random dump lines over a few names, uniqueids and servers (retries, replica
// pairs, forks, a uniqueid under a second name, reservations) loaded by the fast
// load of an empty data directory (packed rows, 16 to an INSERT) and by the
// checked load of a directory holding a mailbox give the rows, counts and
// conflict texts of decideCreate applied line by line to a plain Store.
// Seeded; replay a failure with FC_SEED=<seed printed by fast-check>.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInputOf, decideCreate } from '../../src/directory/mailbox-rules.js';
import { DirectoryError } from '../../src/model/errors.js';
import type { ServerRecord } from '../../src/model/records.js';
import { Store } from '../../src/store/store.js';
import { importedMailbox, parseDumpChunk } from '../../tools/cli/import-parse.js';
import { DataDirSink } from '../../tools/cli/mailbox-sinks.js';
import { parseDumpLine } from '../../src/model/cyrus-dump.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261206;
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-create-rule-property-'));
let directories = 0;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const servers: ServerRecord[] = ['s1', 's2', 's3'].map((name) => ({
  name, imapAddress: '', lmtpAddress: '', pop3Address: '', state: 'UP', weight: 1, datacenter: '', replicaPartner: '',
}));

const entry = fc.record({
  name: fc.constantFrom('user.a', 'user.a.x', 'user.b', 'shared.s', 'user.c'),
  uniqueid: fc.constantFrom('id1', 'id2', 'id3', 'id4', 'id5'),
  server: fc.constantFrom('s1', 's2', 's3'),
  reserved: fc.boolean(),
  rights: fc.constantFrom('lr', 'lrs'),
});
type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

function dumpLine(value: Entry): string {
  const fields = {
    name: value.name, mtime: '0', uidvalidity: '1', createdmodseq: '1', foldermodseq: '1', mbtype: value.reserved ? 'ez' : 'e',
    partition: 'default', server: value.server, acl: { anyone: value.rights }, uniqueid: value.uniqueid, name_history: [],
  };
  return `${JSON.stringify(value.name)}: ${JSON.stringify(fields)},`;
}

interface Outcome {
  written: number;
  unchanged: number;
  conflicts: string[];
  rows: unknown;
}

function newDataDir(): string {
  directories += 1;
  return join(scratch, `d${directories}`);
}

/** Rows as stored, but for the revision and the reservation's deadline (the clock's). */
function rowsOf(dataDir: string): unknown {
  const db = new Database(join(dataDir, 'mbdir.sqlite'), { readonly: true });
  try {
    const mailboxes = db
      .prepare<[], { record: string; state: number; server: string; reserved: number }>('SELECT record, state, server, reserved_until_ms > 0 AS reserved FROM mailboxes ORDER BY sortkey')
      .all()
      .map((row) => ({ ...row, record: { ...(JSON.parse(row.record) as object), reservedUntilMs: row.reserved } }));
    const acl = db.prepare('SELECT identifier, uniqueid FROM acl_index ORDER BY identifier, uniqueid').all();
    const replicas = db.prepare('SELECT server, uniqueid FROM mailbox_replicas ORDER BY server, uniqueid').all();
    return { mailboxes, acl, replicas };
  } finally {
    db.close();
  }
}

/** decideCreate line by line against a plain Store, `seeded` first. */
function byTheRule(lines: readonly string[], seeded: readonly string[]): Outcome {
  const dataDir = newDataDir();
  const store = new Store({ dataDir, synchronous: 'OFF' });
  let revision = 1;
  store.apply(servers.map((server) => ({ kind: 'server.put' as const, server })), revision);
  const outcome: Outcome = { written: 0, unchanged: 0, conflicts: [], rows: null };
  for (const [index, line] of [...seeded, ...lines].entries()) {
    const parsed = parseDumpLine(line);
    if (parsed.kind !== 'mailbox') throw new Error('a mailbox line');
    const mailbox = importedMailbox(parsed.mailbox, { server: '' }, { generatedUniqueids: 0, serversFromFlag: 0 });
    try {
      const decision = decideCreate(store, createInputOf(mailbox), Date.now());
      revision += 1;
      store.apply(decision.changes, revision);
      if (index < seeded.length) continue;
      if (decision.result.outcome === 'ALREADY_PRESENT') outcome.unchanged += 1;
      else outcome.written += 1;
    } catch (error) {
      if (!(error instanceof DirectoryError) || error.kind !== 'Conflict') throw error;
      outcome.conflicts.push(`${mailbox.name}: ${error.message}`);
    }
  }
  store.close();
  return { ...outcome, rows: rowsOf(dataDir) };
}

/** The offline import: the fast load of an empty directory, or (after `seeded`) the checked load. */
async function byTheImport(lines: readonly string[], seeded: readonly string[]): Promise<Outcome> {
  const dataDir = newDataDir();
  if (seeded.length > 0) {
    const first = new DataDirSink(dataDir, 'OFF');
    await first.registerServers(servers);
    const chunk = parseDumpChunk(`${seeded.join('\n')}\n`, { server: '' });
    first.addPacked(chunk.packed, chunk.reservations);
    await first.finish();
  }
  const sink = new DataDirSink(dataDir, 'OFF');
  if (seeded.length === 0) await sink.registerServers(servers);
  if (sink.takesPackedRows) {
    const chunk = parseDumpChunk(`${lines.join('\n')}\n`, { server: '' });
    sink.addPacked(chunk.packed, chunk.reservations);
  } else {
    for (const line of lines) {
      const parsed = parseDumpLine(line);
      if (parsed.kind === 'mailbox') sink.add(importedMailbox(parsed.mailbox, { server: '' }, { generatedUniqueids: 0, serversFromFlag: 0 }));
    }
  }
  await sink.finish();
  const counts = sink.counts;
  return { written: counts.written, unchanged: counts.unchanged, conflicts: counts.conflictExamples, rows: rowsOf(dataDir) };
}

describe('the offline import and the create rule', () => {
  const seededLine = dumpLine({ name: 'user.a', uniqueid: 'id1', server: 's1', reserved: false, rights: 'lr' });

  for (const seeded of [[], [seededLine]]) {
    it(`give the same directory, counts and conflicts (${seeded.length === 0 ? 'empty directory: fast load' : 'directory holding a mailbox: checked load'})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 60 }), async (entries) => {
          const lines = entries.map(dumpLine);
          const expected = byTheRule(lines, seeded);
          const actual = await byTheImport(lines, seeded);
          expect(actual.rows).toEqual(expected.rows);
          expect({ written: actual.written, unchanged: actual.unchanged }).toEqual({ written: expected.written, unchanged: expected.unchanged });
          expect(actual.conflicts).toEqual(expected.conflicts.slice(0, 5));
        }),
        { seed, numRuns: 40 },
      );
    }, 120_000);
  }
});
