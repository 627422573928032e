// The fast codecs' field tables (src/api/fast-fields.ts) against the .proto: the real
// contract passes; a copy of it with a field added to Mailbox, a field renumbered, an
// enum value added, or a field added to a response fails, naming message and field.
// This is the check src/api runs when it loads, so such a .proto stops the process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fastFieldProblems } from '../../src/api/fast-fields.js';
import { checkFastCodecs, loadProtoRoot, protoPath, protoRoot } from '../../src/api/proto.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-fast-fields-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const original = readFileSync(protoPath, 'utf8');

/** The contract with `edit` applied, loaded as src/api loads it; `edit` must change something. */
function editedRoot(name: string, edit: (text: string) => string): ReturnType<typeof loadProtoRoot> {
  const edited = edit(original);
  expect(edited, `the edit ${name} changed nothing`).not.toBe(original);
  const path = join(directory, `${name}.proto`);
  writeFileSync(path, edited);
  return loadProtoRoot(path);
}

describe('fast codec tables against the .proto', () => {
  it('match the real contract', () => {
    expect(fastFieldProblems(protoRoot)).toEqual([]);
    expect(() => checkFastCodecs(protoRoot)).not.toThrow();
  });

  it('refuse a field added to Mailbox, naming it', () => {
    const root = editedRoot('note', (text) => text.replace('bool uniqueid_generated = 14;', 'bool uniqueid_generated = 14;\n  string note = 99;'));
    expect(() => checkFastCodecs(root)).toThrow(/mbdir\.v1\.Mailbox\.note \(field 99, string\) is not carried by the fast codecs/);
  });

  it('refuse a field carried with another number or type', () => {
    const renumbered = editedRoot('renumbered', (text) => text.replace('bool uniqueid_generated = 14;', 'bool uniqueid_generated = 15;'));
    expect(fastFieldProblems(renumbered)).toEqual(['mbdir.v1.Mailbox.uniqueid_generated: the fast codecs carry field 14, bool, the .proto has field 15, bool']);
    const retyped = editedRoot('retyped', (text) => text.replace('uint64 foldermodseq = 11;', 'int64 foldermodseq = 11;'));
    expect(fastFieldProblems(retyped)).toEqual(['mbdir.v1.Mailbox.foldermodseq: the fast codecs carry field 11, uint64, the .proto has field 11, int64']);
  });

  it('refuse an enum value they would not name', () => {
    const root = editedRoot('archived', (text) => text.replace('  ACTIVE = 2;\n', '  ACTIVE = 2;\n  ARCHIVED = 3;\n'));
    expect(fastFieldProblems(root).join('\n')).toMatch(/^mbdir\.v1\.Mailbox\.state: the fast codecs know mbdir\.v1\.MailboxState as .* the \.proto has .*ARCHIVED=3/);
  });

  it('refuse a field added to a response or an event, and one removed from the .proto', () => {
    const added = editedRoot('cursor', (text) => text.replace('message ListedMailbox {\n', 'message ListedMailbox {\n  string cursor = 4;\n'));
    expect(fastFieldProblems(added)).toEqual(['mbdir.v1.ListedMailbox.cursor (field 4, string) is not carried by the fast codecs']);
    const removed = editedRoot('removed', (text) => text.replace('  repeated string name_history = 13;\n', ''));
    expect(fastFieldProblems(removed)).toEqual(['mbdir.v1.Mailbox.name_history is carried by the fast codecs but not in the .proto']);
  });
});
