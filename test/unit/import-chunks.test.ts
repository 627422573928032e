// The fast import's stages apart from threads and SQLite: wholeLineChunks cuts a byte
// stream into chunks of whole lines (chunk sizes, one byte at a time included, never
// change the bytes, and a line over the limit is refused once that much is held);
// parseDumpChunk packs a chunk's mailboxes and stops at the first bad line, naming
// it within the chunk with the message the line-at-a-time import gives.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDumpLine } from '../../src/model/cyrus-dump.js';
import { packedField, packedFieldSeparator, packedRowFields } from '../../src/store/packed-rows.js';
import { importedMailbox, parseDumpChunk } from '../../tools/cli/import-parse.js';
import { wholeLineChunks } from '../../tools/cli/import-pipeline.js';

const backendDump = readFileSync(new URL('../fixtures/cyrus-3.6/ctl_mboxlist-d-backend.json', import.meta.url), 'utf8');

async function cut(bytes: Buffer, size: number, lineBytesMax = 1000): Promise<Uint8Array[]> {
  async function* source(): AsyncGenerator<Buffer> {
    for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of wholeLineChunks(source(), lineBytesMax)) chunks.push(chunk);
  return chunks;
}

describe('wholeLineChunks', () => {
  it('gives back the same bytes in chunks of whole lines whatever the read size', async () => {
    const bytes = Buffer.from('{\n"user.\u00e9l\u00e8ve": {},\r\n"shared.\u{1F600}": {},\n\n}', 'utf8');
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const chunks = await cut(bytes, size);
      expect(Buffer.concat(chunks), `reads of ${size} bytes`).toEqual(bytes);
      for (const chunk of chunks.slice(0, -1)) expect(chunk[chunk.length - 1], `reads of ${size} bytes`).toBe(0x0a);
    }
  });

  it('refuses a line longer than the limit without waiting for its end', async () => {
    await expect(cut(Buffer.from(`{\n${'x'.repeat(50)}`), 8, 20)).rejects.toThrow(/dump line longer than 20 bytes/);
  });
});

describe('parseDumpChunk', () => {
  const options = { server: 'backend1' };

  it('packs the mailboxes of the fixture as the line-at-a-time import makes them, and counts tombstones', () => {
    const chunk = parseDumpChunk(backendDump, options);
    expect(chunk).toMatchObject({ lines: 111, mailboxes: 107, tombstones: 2, serversFromFlag: 107, generatedUniqueids: 0, failure: null });
    const fields = chunk.packed.split(packedFieldSeparator);
    expect(fields.length).toBe(107 * packedRowFields);
    const expected = backendDump
      .split('\n')
      .map((line) => parseDumpLine(line))
      .flatMap((line) => (line.kind === 'mailbox' ? [importedMailbox(line.mailbox, options, { generatedUniqueids: 0, serversFromFlag: 0 })] : []));
    expect(expected.map((mailbox) => mailbox.name)).toEqual(fields.filter((_, index) => index % packedRowFields === packedField.name));
    const { revision: _revision, ...record } = expected[0] ?? { revision: 0 };
    expect(JSON.parse(fields[packedField.record] ?? '')).toEqual(record);
  });

  it('stops at a bad line in the middle, keeping the rows before it and naming the line within the chunk', () => {
    const lines = backendDump.split('\n');
    lines.splice(60, 0, '"user.broken": {"name": "user.broken", "uidvalidity": "many"},');
    const chunk = parseDumpChunk(`${lines.join('\n')}\n`, options);
    expect(chunk.failure).toEqual({ line: 61, message: 'dump entry "user.broken": uidvalidity "many" is not a non-negative integer' });
    expect(chunk.lines).toBe(61);
    const before = lines.slice(0, 60).filter((line) => parseDumpLine(line).kind === 'mailbox').length;
    expect(chunk.packed.split(packedFieldSeparator).length).toBe(before * packedRowFields);
  });

  it('asks for --server, as line by line, when an entry has none and none was given', () => {
    const chunk = parseDumpChunk(backendDump, { server: '' });
    expect(chunk.failure).toEqual({ line: 2, message: 'shared has no server in the dump: give --server NAME' });
    expect(chunk.packed).toBe('');
  });
});
