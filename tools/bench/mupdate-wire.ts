/**
 * The MUPDATE client side's bytes, for the bench and the interop tests: pure
 * encoders for commands (Cyrus's own `{n+}` literals) and a pull parser that
 * takes the server's responses from a buffer, one whole response at a time, or
 * says it needs more bytes. No socket here. Every response is bounded: a
 * literal over `mupdateLiteralBytesMax` or a line of more than
 * `mupdateResponseTokensMax` words is an error, never buffered further.
 */

/** A server literal larger than this is refused (Cyrus's names and ACLs are far smaller). */
export const mupdateLiteralBytesMax = 1024 * 1024;
/** Words in one response line at most (MAILBOX has five). */
export const mupdateResponseTokensMax = 64;

/** One server response: `TAG WORD args...` (`*` for untagged, '' for a SASL challenge). */
export interface MupdateResponse {
  tag: string;
  keyword: string;
  args: string[];
}

/** A command line with each argument sent as a non-synchronizing literal, as Cyrus's client does. */
export function encodeCommand(tag: string, command: string, args: readonly string[]): Buffer {
  const parts: string[] = [`${tag} ${command}`];
  for (const arg of args) parts.push(` {${Buffer.byteLength(arg, 'utf8')}+}\r\n${arg}`);
  parts.push('\r\n');
  return Buffer.from(parts.join(''), 'utf8');
}

/** The SASL PLAIN initial response, base64. */
export function plainResponse(authname: string, password: string): string {
  return Buffer.from(`${authname}\0${authname}\0${password}`, 'utf8').toString('base64');
}

/** Parses one response from `buffer` at `offset`; null when more bytes are needed. */
export function parseResponse(buffer: Buffer, offset: number): { response: MupdateResponse; next: number } | null {
  const words: string[] = [];
  let position = offset;
  for (;;) {
    if (words.length > mupdateResponseTokensMax) throw new Error(`MUPDATE response of more than ${mupdateResponseTokensMax} words`);
    if (position >= buffer.length) return null;
    const byte = buffer[position];
    if (byte === 0x0d || byte === 0x0a) {
      const end = byte === 0x0d ? position + 2 : position + 1;
      if (end > buffer.length) return null;
      const [tag = '', keyword = '', ...args] = words;
      return { response: { tag, keyword, args }, next: end };
    }
    if (byte === 0x20) {
      position += 1;
      continue;
    }
    const word = byte === 0x22 ? readQuoted(buffer, position) : byte === 0x7b ? readLiteral(buffer, position) : readAtom(buffer, position);
    if (word === null) return null;
    words.push(word.value);
    position = word.next;
  }
}

function readAtom(buffer: Buffer, start: number): { value: string; next: number } | null {
  let end = start;
  while (end < buffer.length && buffer[end] !== 0x20 && buffer[end] !== 0x0d && buffer[end] !== 0x0a) end += 1;
  if (end === buffer.length) return null;
  return { value: buffer.toString('latin1', start, end), next: end };
}

function readQuoted(buffer: Buffer, start: number): { value: string; next: number } | null {
  let position = start + 1;
  let value = '';
  while (position < buffer.length) {
    const byte = buffer[position];
    if (byte === 0x22) return { value, next: position + 1 };
    if (byte === 0x5c) {
      if (position + 1 >= buffer.length) return null;
      position += 1;
    } else if (byte === 0x0d || byte === 0x0a) {
      throw new Error('MUPDATE quoted string broken by a line end');
    }
    value += String.fromCharCode(buffer[position] ?? 0);
    position += 1;
    if (value.length > mupdateLiteralBytesMax) throw new Error(`MUPDATE quoted string over ${mupdateLiteralBytesMax} bytes`);
  }
  return null;
}

function readLiteral(buffer: Buffer, start: number): { value: string; next: number } | null {
  const close = buffer.indexOf('}', start);
  if (close < 0) {
    if (buffer.length - start > 32) throw new Error('MUPDATE literal header without "}"');
    return null;
  }
  const header = buffer.toString('latin1', start + 1, close);
  const match = /^(\d{1,10})\+?$/.exec(header);
  if (match === null) throw new Error(`MUPDATE literal header {${header}} is not a size`);
  const size = Number(match[1]);
  if (size > mupdateLiteralBytesMax) throw new Error(`MUPDATE literal of ${size} bytes is over ${mupdateLiteralBytesMax}`);
  const dataStart = close + 3; // "}\r\n"
  if (dataStart + size > buffer.length) return null;
  return { value: buffer.toString('utf8', dataStart, dataStart + size), next: dataStart + size };
}
