/**
 * Properties of the MUPDATE parser: any chunking of a stream gives the same
 * events as the whole stream; commands written by the test's own encoder
 * (quoted or literal arguments) parse back to what was encoded; oversized
 * input is refused and the command after it still parses. Seeded by fast-check;
 * a failure prints its seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MupdateParser, type ParseEvent, type ParserLimits } from '../../src/server/mupdate/parser.js';

const limits: ParserLimits = { lineBytesMax: 512, literalBytesMax: 256, argumentsMax: 8 };

function parseChunks(chunks: readonly Buffer[]): ParseEvent[] {
  const events: ParseEvent[] = [];
  const parser = new MupdateParser(limits, (event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

/** Splits `bytes` at the given cut points. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

const argument = fc.string({ unit: fc.constantFrom('a', 'b', '.', '!', '\t', ' ', '"', '\\', 'é', '\r', '\n'), maxLength: 40 });
const style = fc.constantFrom('quoted', 'plus', 'sync');
const command = fc.record({
  tag: fc.stringMatching(/^[A-Za-z0-9]{1,6}$/),
  name: fc.constantFrom('FIND', 'ACTIVATE', 'RESERVE', 'LIST', 'NOOP'),
  args: fc.array(fc.tuple(argument, style), { maxLength: 4 }),
});

function encode(value: { tag: string; name: string; args: Array<[string, string]> }): string {
  let line = `${value.tag} ${value.name}`;
  for (const [text, how] of value.args) {
    const quotable = !/[\r\n]/.test(text);
    if (how === 'quoted' && quotable) line += ` "${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    else line += ` {${Buffer.byteLength(text)}${how === 'sync' ? '' : '+'}}\r\n${text}`;
  }
  return `${line}\r\n`;
}

describe('MUPDATE parser properties', () => {
  it('chunking never changes the events, and encoded commands parse back', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (commands, cuts) => {
        const bytes = Buffer.from(commands.map(encode).join(''), 'utf8');
        const whole = parseChunks([bytes]);
        expect(parseChunks(split(bytes, cuts))).toEqual(whole);
        const parsed = whole.filter((event) => event.kind === 'command');
        expect(parsed).toEqual(commands.map((value) => ({ kind: 'command', tag: value.tag, name: value.name, args: value.args.map(([text]) => text) })));
      }),
      { seed: 4932, numRuns: 300 },
    );
  });

  it('oversized literals and lines are refused, and the next command still parses', () => {
    fc.assert(
      fc.property(fc.integer({ min: limits.lineBytesMax + 1, max: 5000 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (size, asLiteral, cuts) => {
        const oversized = asLiteral ? `O FIND {${size}+}\r\n${'x'.repeat(size)}\r\n` : `O FIND "${'x'.repeat(size)}"\r\n`;
        const bytes = Buffer.from(`${oversized}N NOOP\r\n`);
        const events = parseChunks(split(bytes, cuts));
        expect(events[0]).toMatchObject({ kind: 'bad', tag: 'O' });
        expect(events.slice(1)).toEqual([{ kind: 'command', tag: 'N', name: 'NOOP', args: [] }]);
      }),
      { seed: 3656, numRuns: 100 },
    );
  });
});
