/**
 * The MUPDATE parser fed whole, one byte at a time, and in odd chunks: the
 * same events every way. Cyrus's byte forms (the fixture's `{n+}` literals,
 * quoted strings, `{n}` with a go-ahead) and its BAD texts; limits refused as
 * the bytes arrive, with the parser still reading the next command.
 */
import { describe, expect, it } from 'vitest';
import { MupdateParser, type ParseEvent, type ParserLimits } from '../../src/server/mupdate/parser.js';

const smallLimits: ParserLimits = { lineBytesMax: 64, literalBytesMax: 32, argumentsMax: 4 };

function parse(input: string | Buffer, chunk = 0, limits: ParserLimits = smallLimits): ParseEvent[] {
  const events: ParseEvent[] = [];
  const parser = new MupdateParser(limits, (event) => events.push(event));
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (chunk === 0) parser.push(bytes);
  else for (let at = 0; at < bytes.length; at += chunk) parser.push(bytes.subarray(at, at + chunk));
  return events;
}

/** Parses whole and one byte at a time, checks both agree, returns the events. */
function parseEveryWay(input: string, limits: ParserLimits = smallLimits): ParseEvent[] {
  const whole = parse(input, 0, limits);
  expect(parse(input, 1, limits)).toEqual(whole);
  expect(parse(input, 3, limits)).toEqual(whole);
  return whole;
}

describe('MUPDATE parser', () => {
  it("reads the fixture's AUTHENTICATE and ACTIVATE with {n+} literals", () => {
    const input =
      'A01 AUTHENTICATE "PLAIN" {20+}\r\nYWRtaW4AYWRtaW4AcHc=\r\n' +
      'X2 ACTIVATE {6+}\r\nshared {16+}\r\nbackend1!default {11+}\r\nanyone\tlrs\t\r\n';
    expect(parseEveryWay(input, { lineBytesMax: 256, literalBytesMax: 64, argumentsMax: 4 })).toEqual([
      { kind: 'command', tag: 'A01', name: 'AUTHENTICATE', args: ['PLAIN', 'YWRtaW4AYWRtaW4AcHc='] },
      { kind: 'command', tag: 'X2', name: 'ACTIVATE', args: ['shared', 'backend1!default', 'anyone\tlrs\t'] },
    ]);
  });

  it('upper-cases the command, keeps the tag, reads quoted strings with escapes', () => {
    expect(parseEveryWay('t1 find "a\\"b\\\\c"\r\nq Logout\n')).toEqual([
      { kind: 'command', tag: 't1', name: 'FIND', args: ['a"b\\c'] },
      { kind: 'command', tag: 'q', name: 'LOGOUT', args: [] },
    ]);
  });

  it('asks for a go-ahead before a synchronizing literal, not before {n+}', () => {
    expect(parseEveryWay('X FIND {3}\r\nabc\r\nY FIND {0+}\r\n\r\n')).toEqual([
      { kind: 'goAhead' },
      { kind: 'command', tag: 'X', name: 'FIND', args: ['abc'] },
      { kind: 'command', tag: 'Y', name: 'FIND', args: [''] },
    ]);
  });

  it("answers Cyrus's BAD texts and goes on with the next line", () => {
    const events = parseEveryWay('\r\nT  \r\nU FIND abc\r\nV FIND "a"b\r\nW FIND "open\r\nX NOOP\r\n');
    expect(events).toEqual([
      { kind: 'bad', tag: '*', text: 'Need command' },
      { kind: 'bad', tag: 'T', text: 'Null command' },
      { kind: 'bad', tag: 'U', text: 'Badly formed arguments' },
      { kind: 'bad', tag: 'V', text: 'Badly formed arguments' },
      { kind: 'bad', tag: 'W', text: 'Badly formed arguments' },
      { kind: 'command', tag: 'X', name: 'NOOP', args: [] },
    ]);
  });

  it('refuses a line over the limit while reading it, then reads the next command', () => {
    const long = `L FIND "${'a'.repeat(200)}"\r\nN NOOP\r\n`;
    expect(parseEveryWay(long)).toEqual([
      { kind: 'bad', tag: 'L', text: 'line longer than the limit of 64 bytes (literals apart)' },
      { kind: 'command', tag: 'N', name: 'NOOP', args: [] },
    ]);
  });

  it('skips an oversized {n+} literal without buffering it, and refuses an oversized {n} at once', () => {
    const plus = `P FIND {40+}\r\n${'x'.repeat(40)}\r\nN NOOP\r\n`;
    expect(parseEveryWay(plus)).toEqual([
      { kind: 'bad', tag: 'P', text: 'literal of 40 bytes is larger than the limit of 32' },
      { kind: 'command', tag: 'N', name: 'NOOP', args: [] },
    ]);
    expect(parseEveryWay('S FIND {99999999}\r\nN NOOP\r\n')).toEqual([
      { kind: 'bad', tag: 'S', text: 'literal of 99999999 bytes is larger than the limit of 32' },
      { kind: 'command', tag: 'N', name: 'NOOP', args: [] },
    ]);
  });

  it('refuses more arguments than the limit', () => {
    expect(parseEveryWay('U UPDATE "a" "b" "c" "d" "e"\r\nN NOOP\r\n')).toEqual([
      { kind: 'bad', tag: 'U', text: 'more than 4 arguments' },
      { kind: 'command', tag: 'N', name: 'NOOP', args: [] },
    ]);
  });

  it('refuses a command holding bytes that are not UTF-8, read to its end (literals too), and reads the next', () => {
    // Strings as UTF-8, number arrays as raw bytes.
    const parts: Array<string | number[]> = [
      'X ACTIVATE {7+}\r\nuser.x', [0xff], ' {11}\r\nbe1!default ""\r\n',
      'Y FIND "user.', [0xc3, 0x28], '"\r\n',
      'Z', [0xfe], ' NOOP\r\n',
      '\ufeffT NOOP\r\nU FIND "us\u00e9r"\r\n',
    ];
    const input = Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
    const events = parse(input);
    expect(parse(input, 1)).toEqual(events);
    expect(parse(input, 5)).toEqual(events);
    expect(events).toEqual([
      { kind: 'goAhead' },
      { kind: 'bad', tag: 'X', text: 'string is not valid UTF-8' },
      { kind: 'bad', tag: 'Y', text: 'string is not valid UTF-8' },
      { kind: 'bad', tag: '*', text: 'string is not valid UTF-8' },
      { kind: 'command', tag: '\ufeffT', name: 'NOOP', args: [] },
      { kind: 'command', tag: 'U', name: 'FIND', args: ['us\u00e9r'] },
    ]);
  });

  it('reads a raw SASL line when asked, then commands again', () => {
    const events: ParseEvent[] = [];
    const parser = new MupdateParser(smallLimits, (event) => {
      events.push(event);
      if (event.kind === 'command' && event.name === 'AUTHENTICATE') parser.expectRawLine();
    });
    for (const byte of Buffer.from('A AUTHENTICATE "PLAIN"\r\n+YWJj\r\nN NOOP\r\n')) parser.push(Buffer.from([byte]));
    expect(events).toEqual([
      { kind: 'command', tag: 'A', name: 'AUTHENTICATE', args: ['PLAIN'] },
      { kind: 'rawLine', line: '+YWJj' },
      { kind: 'command', tag: 'N', name: 'NOOP', args: [] },
    ]);
  });

  it('ignores everything after stop()', () => {
    const events: ParseEvent[] = [];
    const parser = new MupdateParser(smallLimits, (event) => {
      events.push(event);
      parser.stop();
    });
    parser.push(Buffer.from('Q LOGOUT\r\nX FIND "a"\r\n'));
    expect(events).toHaveLength(1);
  });
});
