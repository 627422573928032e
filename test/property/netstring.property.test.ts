// Netstring parser properties: parse(encode(x)) = x, any chunking gives the same
// parse, and an oversized length is refused before its payload is read.
// Replay a failure with FC_SEED=<seed>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeNetstring, NetstringParser } from '../../src/model/netstring.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261206;
const runs = { seed, numRuns: 300 };
const payloadsMax = 256;

describe(`netstrings (seed ${seed})`, () => {
  it('parse(encode(payloads)) = payloads, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: payloadsMax }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((payload) => encodeNetstring(Buffer.from(payload))));
          const parser = new NetstringParser(payloadsMax);
          const parsed: Buffer[] = [];
          let offset = 0;
          for (let index = 0; offset < stream.length; index += 1) {
            const size = cuts[index % cuts.length] ?? 1;
            parser.push(stream.subarray(offset, offset + size), (payload) => parsed.push(payload));
            offset += size;
          }
          expect(parsed.map((payload) => [...payload])).toEqual(payloads.map((payload) => [...payload]));
          expect(parser.idle).toBe(true);
        },
      ),
      runs,
    );
  });

  it('refuses any length over the bound without reading its payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000_000 }), (bound, over) => {
        const parser = new NetstringParser(bound);
        let emitted = 0;
        expect(() => parser.push(Buffer.from(`${bound + over}:`), () => (emitted += 1))).toThrow(/longer than the limit/);
        expect(emitted).toBe(0);
      }),
      runs,
    );
  });
});
