// The hand-written decoders of src/api/fast-decode.ts against proto-loader's (protobufjs):
// for seeded random messages drawn from the .proto's descriptor (every field of every
// message, unicode names, empty and long lists, numbers up to 2^53 - 1, enum values outside
// the contract, no mailbox), encoded by protobufjs, with unknown fields of every wire type
// appended, both decoders give the same object. A field the .proto gains and the fast tables
// lack is drawn too, so the property fails on it (shown below with a copy of the .proto that
// adds `string note = 99` to Mailbox). Random bytes make them throw an Error or return an
// object, never anything else.
// Replay a failure with FC_SEED=<seed printed by fast-check>.
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeListResponse, decodeLookupResponse, decodeMailboxResponse, decodeWatchEvent } from '../../src/api/fast-decode.js';
import { loaderOptions, loadProtoRoot, protoPath, protoRoot, services } from '../../src/api/proto.js';
import { messageArbitrary } from '../helpers/wire-arbitraries.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261123;
type Methods = Record<string, protoLoader.MethodDefinition<object, object>>;
type Root = ReturnType<typeof loadProtoRoot>;
const loadMethods = (path: string): Methods => protoLoader.loadSync(path, loaderOptions)['mbdir.v1.Mailboxes'] as Methods;
const genericMethods = loadMethods(protoPath);
const watchMethod = genericMethods['Watch'];
if (watchMethod === undefined) throw new Error('no method Watch');
const generic = watchMethod;

/** `method`'s responses drawn from `root`'s descriptor, enum numbers outside the contract and lone surrogates included. */
function responses(root: Root, method: string): fc.Arbitrary<Record<string, unknown>> {
  const type = root.lookupService('mbdir.v1.Mailboxes').methods[method]?.resolvedResponseType;
  if (type === null || type === undefined) throw new Error(`no method ${method}`);
  return messageArbitrary(type, { binaryText: true, numericStates: true });
}

const event = responses(protoRoot, 'Watch');

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

const responseCases: Array<[string, (bytes: Buffer) => unknown]> = [
  ['GetMailbox', decodeMailboxResponse],
  ['LookupMailboxes', decodeLookupResponse],
  ['LookupStream', decodeLookupResponse],
  ['ListMailboxes', decodeListResponse],
];

describe('response decoders (GetMailbox, LookupMailboxes, LookupStream, ListMailboxes)', () => {
  for (const [method, decode] of responseCases) {
    it(`${method}: decodes what protobufjs encodes to what proto-loader decodes, unknown fields ignored`, () => {
      const generic = genericOf(method);
      fc.assert(
        fc.property(responses(protoRoot, method), fc.array(unknownField, { maxLength: 3 }), (value, unknown) => {
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

describe('the property against a .proto the fast tables lag behind', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mbdir-fast-decode-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('fails on an event whose Mailbox carries a field added to the .proto (`string note = 99`)', () => {
    const path = join(directory, 'mbdir.proto');
    writeFileSync(path, readFileSync(protoPath, 'utf8').replace('bool uniqueid_generated = 14;', 'bool uniqueid_generated = 14;\n  string note = 99;'));
    const edited = loadMethods(path)['Watch'] as protoLoader.MethodDefinition<object, object>;
    const result = fc.check(
      fc.property(responses(loadProtoRoot(path), 'Watch'), (value) => {
        const bytes = edited.responseSerialize(value);
        expect(decodeWatchEvent(bytes)).toEqual(edited.responseDeserialize(bytes));
      }),
      { seed, numRuns: 300 },
    );
    // The fast decoder skips field 99 as unknown; proto-loader gives `note` (at least '').
    expect(result.failed).toBe(true);
    expect((result.counterexample?.[0] as { mailbox: unknown }).mailbox).not.toBeNull();
  });
});
