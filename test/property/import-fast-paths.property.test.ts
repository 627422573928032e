// The fast import's shortcuts must agree with the references they stand in for:
// parseDumpLine (a regular expression for Cyrus's own formatting, then JSON.parse of
// the value alone) against parseDumpLineGeneral (JSON.parse of the whole member), on
// lines as Cyrus writes them and on lines bent out of that shape, answers and error
// messages alike; a packed row against the store's own row (mailboxRow); and the
// printable-ASCII shortcut of parseName against the same checks on names of any
// character. Seeded; replay a failure with FC_SEED=<seed printed by fast-check>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeCreatedFields } from '../../src/directory/mailbox-rules.js';
import { formatDumpLine, parseDumpLine, parseDumpLineGeneral, type DumpLine } from '../../src/model/cyrus-dump.js';
import { nameColumns, nameTextColumns } from '../../src/model/names.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { packedField, packedFieldSeparator, packedList, packMailboxRow } from '../../src/store/packed-rows.js';
import { mailboxRow } from '../../src/store/store.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261123;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns });

/** What a reader answers: its DumpLine, or the message it throws. */
function answer(read: (line: string) => DumpLine, line: string): unknown {
  try {
    return read(line);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// Strings that reach the corners: quotes, backslashes, control characters, digits first, non-ASCII.
const awkward = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '0', '12', '-1', '1.5', '9007199254740993', ' 7', 'user.a', 'a"b', 'a\\b', 'tab\there', '\u00e9l\u00e8ve', '\u{1F600}', '__proto__', '-bob'),
);

const entry = fc.record({
  name: awkward,
  uniqueid: fc.option(awkward, { nil: undefined }),
  server: fc.option(awkward, { nil: undefined }),
  partition: awkward,
  mbtype: fc.constantFrom('e', 'ed', 'er', '', 'x'),
  counters: fc.tuple(awkward, awkward, awkward),
  acl: fc.array(fc.tuple(awkward, awkward), { maxLength: 3 }),
  history: fc.constantFrom('[]', '["user.old"]', '[{"name": "user.older"}]'),
});

type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

/** A line in Cyrus's member formatting, from awkward values (JSON-escaped as Cyrus would). */
function cyrusLine(value: Entry): string {
  const q = (text: string): string => JSON.stringify(text);
  const members = [
    `"name": ${q(value.name)}`,
    '"mtime": "0"',
    `"uidvalidity": ${q(value.counters[0])}`,
    `"createdmodseq": ${q(value.counters[1])}`,
    `"foldermodseq": ${q(value.counters[2])}`,
    `"mbtype": ${q(value.mbtype)}`,
    `"partition": ${q(value.partition)}`,
  ];
  if (value.server !== undefined) members.push(`"server": ${q(value.server)}`);
  members.push(`"acl": {${value.acl.map(([identifier, rights]) => `${q(identifier)}: ${q(rights)}`).join(', ')}}`);
  if (value.uniqueid !== undefined) members.push(`"uniqueid": ${q(value.uniqueid)}`);
  members.push(`"name_history": ${value.history}`);
  return `${q(value.name)}: {${members.join(', ')}},`;
}

describe('parseDumpLine agrees with the JSON.parse reference', () => {
  it('on lines in Cyrus formatting, awkward values included', () => {
    fc.assert(
      fc.property(entry, (value) => {
        const line = cyrusLine(value);
        expect(answer(parseDumpLine, line)).toEqual(answer(parseDumpLineGeneral, line));
      }),
      runs(3000),
    );
  });

  it('on lines bent out of that shape (a character dropped, doubled or changed)', () => {
    const base = cyrusLine({
      name: 'user.alice.Sent', uniqueid: 'abc123', server: 'backend1', partition: 'default', mbtype: 'e',
      counters: ['1', '2', '3'], acl: [['alice', 'lrswipkxtecdan'], ['bob', 'lr']], history: '[]',
    });
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.constantFrom('drop', 'double', '"', '\\', ',', ' ', '}', '0', '\u0001'), (at, edit) => {
        const line =
          edit === 'drop' ? base.slice(0, at) + base.slice(at + 1)
          : edit === 'double' ? base.slice(0, at) + base.charAt(at) + base.slice(at)
          : base.slice(0, at) + edit + base.slice(at + 1);
        expect(answer(parseDumpLine, line)).toEqual(answer(parseDumpLineGeneral, line));
      }),
      runs(3000),
    );
  });

  it('on the exported form of records (formatDumpLine), both forms', () => {
    const record: MailboxRecord = {
      uniqueid: 'u1', name: 'example.com!user.a^b.Sent', server: 'backend1', partition: 'p1', replicas: [],
      acl: [{ identifier: 'a.b@example.com', rights: 'lrs' }, { identifier: '-group:x', rights: 'w' }], mbtype: 'e', state: 'ACTIVE',
      uidvalidity: 5, createdmodseq: 6, foldermodseq: 7, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
    };
    for (const format of [{ withServer: true, withUniqueid: false, mtime: '0' }, { withServer: false, withUniqueid: true, mtime: '0' }]) {
      const line = `${formatDumpLine(record, format)},`;
      expect(parseDumpLine(line)).toEqual(parseDumpLineGeneral(line));
    }
  });
});

describe('packed rows', () => {
  it('carry the columns and record the store writes for the same mailbox', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('user.alice', 'user.alice.Sent', 'example.com!user.a^b.x', 'shared.support', 'user.\u00e9l\u00e8ve.\u{1F600}'),
        fc.array(fc.tuple(fc.constantFrom('alice', '-bob', 'anyone', 'group:staff', 'bob'), fc.constantFrom('lr', 'lrswipkxtecdan', 'x')), { maxLength: 4 }),
        fc.array(fc.constantFrom('backend2', 'backend3'), { maxLength: 2 }),
        (name, acl, replicaServers) => {
          const mailbox: MailboxRecord = {
            uniqueid: 'id0000000001', name, server: 'backend1', partition: '', replicas: replicaServers.map((server) => ({ server, partition: '' })),
            acl: acl.map(([identifier, rights]) => ({ identifier, rights })), mbtype: 'e', state: 'ACTIVE', uidvalidity: 1,
            createdmodseq: 2, foldermodseq: 3, revision: 9, nameHistory: ['user.old'], reservedUntilMs: 0, requestId: '',
          };
          normalizeCreatedFields(mailbox);
          const fields = packMailboxRow(mailbox).split(packedFieldSeparator);
          const row = mailboxRow(mailbox);
          expect(fields[packedField.uniqueid]).toBe(row[0]);
          expect(fields[packedField.name]).toBe(row[1]);
          expect(Buffer.from(fields[packedField.sortkey] ?? '', 'utf8')).toEqual(row[2]);
          expect(fields[packedField.owner]).toBe(row[3] ?? '');
          expect(fields[packedField.isRoot]).toBe(String(row[4]));
          expect(fields[packedField.server]).toBe(row[5]);
          expect(fields[packedField.record]).toBe(row[9]);
          const { revision: _revision, ...stored } = mailbox;
          expect(fields[packedField.record]).toBe(JSON.stringify(stored));
          expect(packedList(fields[packedField.aclIdentifiers] ?? '')).toEqual(mailbox.acl.map((entry) => entry.identifier.replace(/^-/, '')));
          expect(packedList(fields[packedField.replicaServers] ?? '')).toEqual(replicaServers);
        },
      ),
      runs(300),
    );
  });
});

describe('name checks', () => {
  it('give the same columns or the same error as checking byte length and characters first, for any name', () => {
    const outcome = (compute: () => unknown): unknown => {
      try {
        return compute();
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    const columnsOf = (name: string): unknown => {
      const columns = nameColumns(name);
      const text = nameTextColumns(name);
      return { key: columns.sortkey.toString('hex'), textKey: Buffer.from(text.dbName, 'utf8').toString('hex'), owner: columns.owner, isRoot: columns.isRoot };
    };
    // parseName's first checks as they read before the printable-ASCII shortcut, then the rest of it.
    const reference = (name: string): unknown => {
      if (name.length === 0) throw new Error('mailbox name is empty');
      const bytes = Buffer.byteLength(name, 'utf8');
      if (bytes > 490) throw new Error(`mailbox name is ${bytes} bytes, longer than the limit of 490`);
      if (/[\x00-\x1f\x7f-\x9f]/.test(name)) throw new Error(`mailbox name "${name}" contains a control character`);
      if (/\p{Cs}/u.test(name)) throw new Error(`mailbox name "${name}" is not valid Unicode (lone surrogate)`);
      return columnsOf(name);
    };
    fc.assert(
      fc.property(fc.oneof(awkward, fc.string({ maxLength: 600 }), fc.constantFrom('a..b', '.a', 'a.', '!a', 'a!', 'a!b!c', 'x'.repeat(491), 'user.\ud800')), (name) => {
        const seen = outcome(() => columnsOf(name)) as { error?: string };
        const expected = outcome(() => reference(name)) as { error?: string };
        if (expected.error !== undefined && /control|surrogate/.test(expected.error)) {
          expect(seen.error).toMatch(/control|surrogate/);
        } else {
          expect(seen).toEqual(expected);
        }
      }),
      runs(3000),
    );
  });
});
