/**
 * Dovecot's dict protocol (src/lib-dict/dict-client.[ch]), the part a passdb
 * lookup uses, as a pure byte-driven parser: lines ending in LF, fields split at
 * TAB and un-escaped (Dovecot's tab-escaping: \x01 then 0, 1, t, r or n). No
 * socket, no timer; a line longer than its bound is refused before it is kept.
 * Commands: `H<major>\t<minor>\t<value type>\t<user>\t<uri>` once, then
 * `L<key>[\t<user>]` lookups; the replies are `O<value>`, `N` or `F<error>`.
 */

export class DictProtocolError extends Error {}

export type DictCommand =
  | { kind: 'hello'; major: number; minor: number; valueType: string; user: string; uri: string }
  | { kind: 'lookup'; key: string; user: string }
  /** Commands without a reply of their own (transactions: B, S, U, A, R). */
  | { kind: 'silent'; command: string }
  /** Commands expecting a reply that mbdir does not serve (iterate, commit). */
  | { kind: 'unsupported'; command: string };

/** Protocol major versions that carry lookups this way: 2 (Dovecot 2.2) and 3 (Dovecot 2.3). */
export const dictMajorVersions: readonly number[] = [2, 3];

const unescapes: Record<string, string> = { '0': '\x00', '1': '\x01', t: '\t', r: '\r', n: '\n' };

/** Dovecot's t_strsplit_tabescaped for one field: \x01X back to the character it stands for. */
export function unescapeField(field: string): string {
  if (!field.includes('\x01')) return field;
  return field.replace(/\x01([\s\S]?)/g, (_whole, next: string) => {
    const plain = unescapes[next];
    if (plain === undefined) throw new DictProtocolError('bad escape in a dict field');
    return plain;
  });
}

/** Dovecot's str_tabescape: the reply's value may then hold any character. */
export function escapeField(value: string): string {
  return value.replace(/[\x00\x01\t\r\n]/g, (c) => `\x01${{ '\x00': '0', '\x01': '1', '\t': 't', '\r': 'r', '\n': 'n' }[c] ?? ''}`);
}

/** One line (without its LF) as a command. Throws DictProtocolError naming the problem. */
export function parseDictLine(line: string): DictCommand {
  const command = line.slice(0, 1);
  const fields = line.slice(1).split('\t').map(unescapeField);
  if (command === 'H') {
    const [major, minor, valueType, user, uri] = fields;
    if (uri === undefined || !/^\d+$/.test(major ?? '') || !/^\d+$/.test(minor ?? '')) {
      throw new DictProtocolError('hello is not H<major>\\t<minor>\\t<value type>\\t<user>\\t<uri>');
    }
    if (!dictMajorVersions.includes(Number(major))) {
      throw new DictProtocolError(`dict protocol version ${String(major)} is not served (only ${dictMajorVersions.join(', ')})`);
    }
    return { kind: 'hello', major: Number(major), minor: Number(minor), valueType: valueType ?? '', user: user ?? '', uri };
  }
  if (command === 'L') return { kind: 'lookup', key: fields[0] ?? '', user: fields[1] ?? '' };
  if ('BSUARD'.includes(command) && command !== '') return { kind: 'silent', command };
  if (command === '') throw new DictProtocolError('empty line');
  return { kind: 'unsupported', command };
}

/** Splits bytes into lines, bounded: a line over `lineBytesMax` throws before it is buffered whole. */
export class DictLineParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  constructor(private readonly lineBytesMax: number) {}

  push(chunk: Buffer, emit: (command: DictCommand) => void): void {
    if (this.failed) throw new DictProtocolError('dict stream already failed');
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      this.pendingBytes += end - start;
      if (this.pendingBytes > this.lineBytesMax) {
        this.failed = true;
        throw new DictProtocolError(`dict line longer than the limit of ${this.lineBytesMax} bytes`);
      }
      this.pending.push(chunk.subarray(start, end));
      if (newline < 0) return;
      const line = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      try {
        emit(parseDictLine(line));
      } catch (error) {
        this.failed = true;
        throw error;
      }
    }
  }
}
