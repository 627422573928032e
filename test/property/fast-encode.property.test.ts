// The hand-written encoders of src/api/fast-encode.ts against proto-loader's (protobufjs):
// for seeded random responses (unicode names, empty and long lists, numbers up
// to 2^53 - 1, missing mailboxes), proto-loader decodes the fast bytes to exactly
// what it decodes from its own encoding of the same object. And the services
// really use them: the method's serializer gives the fast bytes.
// Replay a failure with FC_SEED=<seed printed by fast-check>.
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { encodeListResponse, encodeLookupResponse, encodeMailboxResponse } from '../../src/api/fast-encode.js';
import { loaderOptions, protoPath, services } from '../../src/api/proto.js';
import { wireCount, wireMailbox, wireText } from '../helpers/wire-arbitraries.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261123;
// A second load of the contract: its methods keep proto-loader's generic (protobufjs) serializers.
const generic = protoLoader.loadSync(protoPath, loaderOptions)['mbdir.v1.Mailboxes'] as Record<string, protoLoader.MethodDefinition<object, object>>;

function sameAsGeneric(method: string, fast: (value: Record<string, unknown>) => Buffer, value: Record<string, unknown>): void {
  const definition = generic[method];
  if (definition === undefined) throw new Error(`no method ${method}`);
  const decode = (bytes: Buffer): object => definition.responseDeserialize(bytes);
  expect(decode(fast(value))).toEqual(decode(definition.responseSerialize(value)));
}

const text = wireText({ binaryText: false, numericStates: false });
const count = wireCount;
const mailbox = wireMailbox({ binaryText: false, numericStates: false });
const maybeMailbox = fc.option(mailbox, { nil: null });

describe('fast protobuf encoders', () => {
  it('MailboxResponse decodes as the generic encoding does', () => {
    fc.assert(
      fc.property(fc.record({ mailbox: maybeMailbox, revision: count }), (value) => sameAsGeneric('GetMailbox', encodeMailboxResponse, value)),
      { seed, numRuns: 300 },
    );
  });

  it('LookupMailboxesResponse and LookupStreamResponse decode as the generic encoding does', () => {
    const response = fc.record({
      results: fc.array(fc.record({ name: text, found: fc.boolean(), mailbox: maybeMailbox }), { maxLength: 20 }),
      revision: count,
    });
    fc.assert(
      fc.property(response, (value) => {
        sameAsGeneric('LookupMailboxes', encodeLookupResponse, value);
        sameAsGeneric('LookupStream', encodeLookupResponse, value);
      }),
      { seed, numRuns: 200 },
    );
  });

  it('ListMailboxesResponse decodes as the generic encoding does', () => {
    const response = fc.record({
      mailboxes: fc.array(fc.record({ mailbox: maybeMailbox, my_rights: text, has_children: fc.boolean() }), { maxLength: 20 }),
      next_page_token: text,
      revision: count,
    });
    fc.assert(
      fc.property(response, (value) => sameAsGeneric('ListMailboxes', encodeListResponse, value)),
      { seed, numRuns: 200 },
    );
  });

  it('is what the services serialize with', () => {
    const response = { mailbox: { name: 'user.ann', uniqueid: 'u1', server: 'b1', state: 'ACTIVE', acl: [{ identifier: 'ann', rights: 'lrs' }] }, revision: 7 };
    const serialize = services.Mailboxes.service['GetMailbox']?.responseSerialize;
    expect(serialize?.(response)).toEqual(encodeMailboxResponse(response));
  });
});
