// The bench's MUPDATE response parser (tools/bench/mupdate-wire.ts): whole
// responses from Cyrus's own bytes (literals, quoted strings), the same parse
// when the bytes come one at a time, and oversized input refused, not buffered.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeCommand, mupdateLiteralBytesMax, parseResponse, type MupdateResponse } from '../../tools/bench/mupdate-wire.js';

/** Every whole response in `buffer`, and where the unparsed rest starts. */
function parseAll(buffer: Buffer): { responses: MupdateResponse[]; rest: number } {
  const responses: MupdateResponse[] = [];
  let offset = 0;
  for (;;) {
    const parsed = parseResponse(buffer, offset);
    if (parsed === null) return { responses, rest: offset };
    responses.push(parsed.response);
    offset = parsed.next;
  }
}

/** Server-to-client blocks of the captured Cyrus 3.6 session, joined. */
function masterBytes(): Buffer {
  const text = readFileSync(new URL('../fixtures/cyrus-3.6/mupdate-backend-session.txt', import.meta.url), 'utf8');
  const blocks = text.split(/^--- conn \d+ (S>C|C>S)\n/m);
  let out = '';
  for (let index = 1; index + 1 < blocks.length; index += 2) {
    if (blocks[index] === 'S>C') out += blocks[index + 1];
  }
  return Buffer.from(out.replace(/\r?\n/g, '\r\n'), 'utf8');
}

describe('bench MUPDATE wire', () => {
  it('parses a MAILBOX of literals and a quoted OK', () => {
    const bytes = Buffer.from('X1 MAILBOX {6+}\r\nshared {16+}\r\nbackend1!default {11+}\r\nanyone\tlrs\t\r\nX1 OK "Search completed"\r\n');
    expect(parseAll(bytes).responses).toEqual([
      { tag: 'X1', keyword: 'MAILBOX', args: ['shared', 'backend1!default', 'anyone\tlrs\t'] },
      { tag: 'X1', keyword: 'OK', args: ['Search completed'] },
    ]);
  });

  it('gives the same responses from the real master bytes fed one byte at a time', () => {
    const bytes = masterBytes();
    const whole = parseAll(bytes);
    expect(whole.responses.length).toBeGreaterThan(20);
    expect(whole.responses.some((response) => response.keyword === 'MAILBOX')).toBe(true);
    const seen: MupdateResponse[] = [];
    let buffer = Buffer.alloc(0);
    for (const byte of bytes) {
      buffer = Buffer.concat([buffer, Buffer.from([byte])]);
      const parsed = parseAll(buffer);
      seen.push(...parsed.responses);
      buffer = buffer.subarray(parsed.rest);
    }
    expect(seen).toEqual(whole.responses);
  });

  it('refuses a literal over the limit before its bytes arrive', () => {
    const header = Buffer.from(`X1 MAILBOX {${mupdateLiteralBytesMax + 1}+}\r\n`);
    expect(() => parseResponse(header, 0)).toThrow(/over/);
  });

  it('encodes commands with non-synchronizing literals, as Cyrus clients do', () => {
    expect(encodeCommand('X2', 'ACTIVATE', ['shared', 'be!default', 'anyone\tlrs\t']).toString()).toBe(
      'X2 ACTIVATE {6+}\r\nshared {10+}\r\nbe!default {11+}\r\nanyone\tlrs\t\r\n',
    );
  });
});
