// The import's line splitter (tools/cli/transfer.ts linesOf): chunk boundaries,
// including ones inside a multi-byte UTF-8 character, never change the lines;
// a line longer than the limit is refused once that much of it is held.
import { describe, expect, it } from 'vitest';
import { linesOf } from '../../tools/cli/transfer.js';

const text = '{\n"user.\u00e9l\u00e8ve": {"name": "user.\u00e9l\u00e8ve"},\r\n"shared.\u{1F600}": {},\n}';

async function split(chunks: Buffer[], lineCharactersMax = 1000): Promise<string[]> {
  const out: string[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  for await (const lines of linesOf(source(), lineCharactersMax)) out.push(...lines);
  return out;
}

function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return chunks;
}

describe('linesOf', () => {
  it('gives the same lines whatever the chunk size, one byte at a time included', async () => {
    const bytes = Buffer.from(text, 'utf8');
    const expected = text.split('\n');
    for (const size of [1, 2, 3, 5, 7, bytes.length]) {
      expect(await split(chunked(bytes, size)), `chunks of ${size} bytes`).toEqual(expected);
    }
  });

  it('refuses a line longer than the limit without waiting for its end', async () => {
    const long = Buffer.from(`{\n${'x'.repeat(50)}`, 'utf8');
    await expect(split(chunked(long, 8), 20)).rejects.toThrow(/longer than 20/);
  });
});
