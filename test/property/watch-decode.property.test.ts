// The hand-written WatchEvent decoder of src/api/fast-decode.ts against proto-loader's
// (protobufjs): for seeded random events (unicode names, empty and long lists, numbers up to
// 2^53 - 1, enum values outside the contract, no mailbox), encoded by protobufjs, with unknown
// fields of every wire type appended, both decoders give the same object. Random bytes make it
// throw an Error or return an event, never anything else.
// Replay a failure with FC_SEED=<seed printed by fast-check>.
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { decodeListResponse, decodeLookupResponse, decodeMailboxResponse, decodeWatchEvent } from '../../src/api/fast-decode.js';
import { loaderOptions, protoPath, services } from '../../src/api/proto.js';
import { wireCount, wireMailbox, wireText } from '../helpers/wire-arbitraries.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261123;
const genericMethods = protoLoader.loadSync(protoPath, loaderOptions)['mbdir.v1.Mailboxes'] as Record<string, protoLoader.MethodDefinition<object, object>>;
const watchMethod = genericMethods['Watch'];
if (watchMethod === undefined) throw new Error('no method Watch');
const generic = watchMethod;

const text = wireText({ binaryText: true, numericStates: true });
const count = wireCount;
const mailbox = wireMailbox({ binaryText: true, numericStates: true });
const event = fc.record({
  type: fc.oneof(fc.constantFrom('WATCH_EVENT_TYPE_UNSPECIFIED', 'SNAPSHOT', 'SNAPSHOT_END', 'PUT', 'DELETE', 'PROGRESS'), fc.integer({ min: -3, max: 20 })),
  mailbox: fc.option(mailbox, { nil: null }),
  revision: count,
});

/** A varint's bytes (non-negative, below 2^53). */
function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 128) {
    bytes.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return bytes;
}

/** An unknown field (number 14 and above) of any wire type, as another version of the contract may send. */
const unknownField = fc.record({ field: fc.integer({ min: 14, max: 5000 }), kind: fc.integer({ min: 0, max: 4 }), value: fc.maxSafeNat(), bytes: fc.uint8Array({ maxLength: 40 }) }).map(({ field, kind, value, bytes }) => {
  const tag = (wireType: number): number[] => varint(field * 8 + wireType);
  if (kind === 0) return [...tag(0), ...varint(value)];
  if (kind === 1) return [...tag(1), ...bytes.slice(0, 8), ...new Array<number>(Math.max(0, 8 - bytes.length)).fill(0)];
  if (kind === 2) return [...tag(2), ...varint(bytes.length), ...bytes];
  if (kind === 3) return [...tag(3), ...varint(8), ...varint(value), ...tag(4)]; // a group holding field 1
  return [...tag(5), 1, 2, 3, 4];
});

describe('WatchEvent decoder', () => {
  it('decodes what protobufjs encodes to what proto-loader decodes, unknown fields ignored', () => {
    fc.assert(
      fc.property(event, fc.array(unknownField, { maxLength: 3 }), (value, unknown) => {
        const bytes = Buffer.concat([generic.responseSerialize(value), Buffer.from(unknown.flat())]);
        expect(decodeWatchEvent(bytes)).toEqual(generic.responseDeserialize(bytes));
      }),
      { seed, numRuns: 500 },
    );
  });

  it('decodes a message in the middle of a larger buffer (a DATA chunk) as the message alone', () => {
    fc.assert(
      fc.property(event, fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), (value, before, after) => {
        const message = generic.responseSerialize(value);
        const chunk = Buffer.concat([Buffer.from(before), message, Buffer.from(after)]);
        expect(decodeWatchEvent(chunk, before.length, before.length + message.length)).toEqual(generic.responseDeserialize(message));
      }),
      { seed, numRuns: 200 },
    );
  });

  it('reads 64-bit values above 2^53 as protobufjs does', () => {
    // uint64 revision = 3, 2^64 - 1: ten bytes.
    const bytes = Buffer.from([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(decodeWatchEvent(bytes)).toEqual(generic.responseDeserialize(bytes));
  });

  it('throws an Error on bytes that are no WatchEvent, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const decoded = decodeWatchEvent(Buffer.from(bytes));
          expect(typeof decoded['type'] === 'string' || typeof decoded['type'] === 'number').toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('refuses a message cut short', () => {
    const bytes = generic.responseSerialize({ type: 'PUT', mailbox: { name: 'user.ann.Sent', uniqueid: 'u1' }, revision: 9 });
    for (let length = 1; length < bytes.length; length += 1) {
      const cut = bytes.subarray(0, length);
      let decodedOrThrown: 'decoded' | 'thrown' = 'decoded';
      try {
        decodeWatchEvent(cut);
      } catch {
        decodedOrThrown = 'thrown';
      }
      // A cut at a field boundary is a valid shorter message; anywhere else it must throw, as protobufjs does.
      let generic_: 'decoded' | 'thrown' = 'decoded';
      try {
        generic.responseDeserialize(cut);
      } catch {
        generic_ = 'thrown';
      }
      expect(decodedOrThrown, `cut at ${length}`).toBe(generic_);
    }
  });
});

/** proto-loader's own (generic) method definition of `method`, for reference. */
function genericOf(method: string): protoLoader.MethodDefinition<object, object> {
  const definition = genericMethods[method];
  if (definition === undefined) throw new Error(`no method ${method}`);
  return definition;
}

const optionalMailbox = fc.option(mailbox, { nil: null });
const responses: Array<[string, (bytes: Buffer) => unknown, fc.Arbitrary<Record<string, unknown>>]> = [
  ['GetMailbox', decodeMailboxResponse, fc.record({ mailbox: optionalMailbox, revision: count })],
  [
    'LookupMailboxes',
    decodeLookupResponse,
    fc.record({ results: fc.array(fc.record({ name: text, found: fc.boolean(), mailbox: optionalMailbox }), { maxLength: 30 }), revision: count }),
  ],
  [
    'ListMailboxes',
    decodeListResponse,
    fc.record({
      mailboxes: fc.array(fc.record({ mailbox: optionalMailbox, my_rights: text, has_children: fc.boolean() }), { maxLength: 30 }),
      next_page_token: text,
      revision: count,
    }),
  ],
];

describe('response decoders (GetMailbox, LookupMailboxes and LookupStream, ListMailboxes)', () => {
  for (const [method, decode, response] of responses) {
    it(`${method}: decodes what protobufjs encodes to what proto-loader decodes, unknown fields ignored`, () => {
      const generic = genericOf(method);
      fc.assert(
        fc.property(response, fc.array(unknownField, { maxLength: 3 }), (value, unknown) => {
          const bytes = Buffer.concat([generic.responseSerialize(value), Buffer.from(unknown.flat())]);
          expect(decode(bytes)).toEqual(generic.responseDeserialize(bytes));
        }),
        { seed, numRuns: 300 },
      );
    });

    it(`${method}: throws an Error on bytes that are not its response, never anything else`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          try {
            expect(typeof decode(Buffer.from(bytes))).toBe('object');
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
          }
        }),
        { seed, numRuns: 1000 },
      );
    });
  }

  it('is what the mbdir client deserializes with, falling back to proto-loader on bytes it refuses', () => {
    const definitions = services.Mailboxes.service;
    const listed = { mailboxes: [{ mailbox: { name: 'user.ann', uniqueid: 'u1', state: 'ACTIVE' }, my_rights: 'lr', has_children: true }], next_page_token: 't', revision: 7 };
    const bytes = genericOf('ListMailboxes').responseSerialize(listed);
    expect(definitions['ListMailboxes']?.responseDeserialize(bytes)).toEqual(genericOf('ListMailboxes').responseDeserialize(bytes));
    // Field 1 as a varint: malformed for the fast path, and for protobufjs too, which names the problem.
    const malformed = Buffer.from([0x08, 0x01]);
    expect(() => decodeListResponse(malformed)).toThrow(/field 1 has wire type 0/);
    expect(() => definitions['ListMailboxes']?.responseDeserialize(malformed)).toThrow(Error);
  });
});
