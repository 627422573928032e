/**
 * fast-check arbitraries for mbdir.v1 wire messages, drawn from the .proto's
 * descriptor (a protobufjs Type), never from a hand copy of its fields: every
 * field of the message is drawn (a field added to the .proto is drawn too),
 * strings of every kind (unicode, and lone UTF-16 halves when `binaryText`),
 * empty and long lists, 64-bit numbers up to 2^53 - 1, enum names (and, when
 * `numericStates`, numbers outside the contract), nested messages or null.
 * The values are the plain objects proto-loader takes and gives.
 */
import fc from 'fast-check';
import type protobuf from 'protobufjs';

export interface WireArbitraryOptions {
  binaryText: boolean;
  numericStates: boolean;
}

/** Nested messages at most this deep (mbdir's go three deep: response, result, mailbox, ACL entry). */
const depthMax = 6;
/** Entries of a repeated field at most: at the top (results, listed mailboxes), and inside. */
const topListMax = 20;
const innerListMax = 6;

export function wireText(options: WireArbitraryOptions): fc.Arbitrary<string> {
  const kinds = [fc.constant(''), fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 200 })];
  return fc.oneof(...kinds, ...(options.binaryText ? [fc.string({ unit: 'binary', maxLength: 70 })] : []));
}

export const wireCount = fc.oneof(fc.constant(0), fc.nat(127), fc.nat(), fc.maxSafeNat());

/** One value of a scalar or enum field of protobuf type `type`. */
function scalarArbitrary(field: protobuf.Field, options: WireArbitraryOptions): fc.Arbitrary<unknown> {
  const resolved = field.resolvedType;
  if (resolved !== null && 'values' in resolved) {
    const names = fc.constantFrom(...Object.keys((resolved as protobuf.Enum).values));
    return options.numericStates ? fc.oneof(names, fc.integer({ min: -5, max: 20 })) : names;
  }
  switch (field.type) {
    case 'string':
      return wireText(options);
    case 'bool':
      return fc.boolean();
    case 'uint64':
    case 'int64':
    case 'fixed64':
      return wireCount;
    case 'uint32':
    case 'fixed32':
      return fc.oneof(fc.constant(0), fc.nat(127), fc.nat({ max: 2 ** 32 - 1 }));
    case 'int32':
      return fc.integer({ min: 0, max: 2 ** 31 - 1 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes));
    default:
      throw new Error(`wire-arbitraries: no arbitrary for ${field.parent?.name ?? ''}.${field.name} of type ${field.type}`);
  }
}

/** A plain object with every field of `type`, each drawn as its descriptor says. */
export function messageArbitrary(type: protobuf.Type, options: WireArbitraryOptions, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (depth > depthMax) throw new Error(`wire-arbitraries: ${type.fullName} nests deeper than ${depthMax}`);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    const resolved = field.resolvedType;
    const isMessage = resolved !== null && 'fieldsArray' in resolved;
    const one = isMessage ? messageArbitrary(resolved as protobuf.Type, options, depth + 1) : scalarArbitrary(field, options);
    if (field.repeated) fields[field.name] = fc.array(one, { maxLength: depth === 0 ? topListMax : innerListMax });
    else fields[field.name] = isMessage ? fc.option(one, { nil: null }) : one;
  }
  return fc.record(fields);
}
