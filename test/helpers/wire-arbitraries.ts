/**
 * fast-check arbitraries for mbdir.v1 wire messages, shared by the property tests
 * of the hand-written encoders and decoder: strings of every kind (unicode, and
 * lone UTF-16 halves when `binaryText`), empty and long lists, numbers up to
 * 2^53 - 1, and, when `numericStates`, enum values outside the contract.
 */
import fc from 'fast-check';

export interface WireArbitraryOptions {
  binaryText: boolean;
  numericStates: boolean;
}

export function wireText(options: WireArbitraryOptions): fc.Arbitrary<string> {
  const kinds = [fc.constant(''), fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 200 })];
  return fc.oneof(...kinds, ...(options.binaryText ? [fc.string({ unit: 'binary', maxLength: 70 })] : []));
}

export const wireCount = fc.oneof(fc.constant(0), fc.nat(127), fc.nat(), fc.maxSafeNat());

export function wireMailbox(options: WireArbitraryOptions): fc.Arbitrary<Record<string, unknown>> {
  const text = wireText(options);
  const states = fc.constantFrom('MAILBOX_STATE_UNSPECIFIED', 'RESERVED', 'ACTIVE');
  return fc.record({
    uniqueid: text,
    name: text,
    server: text,
    partition: text,
    replicas: fc.array(fc.record({ server: text, partition: text }), { maxLength: 3 }),
    acl: fc.array(fc.record({ identifier: text, rights: text }), { maxLength: 40 }),
    mbtype: text,
    state: options.numericStates ? fc.oneof(states, fc.integer({ min: -5, max: 10 })) : states,
    uidvalidity: wireCount,
    createdmodseq: wireCount,
    foldermodseq: wireCount,
    revision: wireCount,
    name_history: fc.array(text, { maxLength: 3 }),
  });
}
