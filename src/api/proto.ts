/**
 * Loads the mbdir.v1 contract from proto/ at run time (@grpc/proto-loader) with
 * the options every adapter and client of this project relies on: field names
 * as written (snake_case), 64-bit integers as JS numbers (revisions stay far
 * below 2^53), enums as their names, defaults filled in, oneofs named; puts the
 * fast codecs in the place of the generic ones for the methods that carry
 * mailboxes by the dozen, after checking their tables against the .proto (a
 * mismatch stops the process here, naming the field); and the server-side
 * variant of a service whose streams may write messages encoded once.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordCodecFallback, registerFastPath, type CodecDirection } from './codec-fallbacks.js';
import { decodeMessage } from './fast-decode.js';
import { encodeMessage } from './fast-encode.js';
import {
  checkFastFields,
  type FastMessage,
  listMailboxesResponseTable,
  lookupMailboxesResponseTable,
  lookupStreamResponseTable,
  mailboxResponseTable,
  watchEventTable,
} from './fast-fields.js';

/** Finds proto/ above this file, whether it runs from src/ (tests) or dist/src/ (built). */
function findProto(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    const candidate = join(directory, 'proto', 'mbdir', 'v1', 'mbdir.proto');
    if (existsSync(candidate)) return candidate;
    directory = dirname(directory);
  }
  throw new Error('proto/mbdir/v1/mbdir.proto not found above ' + fileURLToPath(import.meta.url));
}

export const protoPath = findProto();

export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const packageDefinition = protoLoader.loadSync(protoPath, loaderOptions);

/** The .proto at `path` as protobufjs reads it for proto-loader (field names as written), every type resolved. */
export function loadProtoRoot(path: string): protobuf.Root {
  const root = new protobuf.Root().loadSync(path, { keepCase: true });
  root.resolveAll();
  return root;
}

/** The contract's descriptor: message types, fields, enums, services. */
export const protoRoot = loadProtoRoot(protoPath);

/**
 * Responses written by the fast encoders (fast-encode.ts) on the server, and read
 * by the fast decoders (fast-decode.ts) on clients: a proxy receives Watch events
 * by the hundred per second, and a LIST or a lookup batch can carry thousands of
 * mailboxes. Every other method keeps proto-loader's codecs.
 */
const fastEncoded: Readonly<Record<string, FastMessage>> = {
  GetMailbox: mailboxResponseTable,
  LookupMailboxes: lookupMailboxesResponseTable,
  LookupStream: lookupStreamResponseTable,
  ListMailboxes: listMailboxesResponseTable,
};
const fastDecoded: Readonly<Record<string, FastMessage>> = { ...fastEncoded, Watch: watchEventTable };

/** Throws unless every fast table matches the .proto, and each method answers the message its table describes. */
export function checkFastCodecs(root: protobuf.Root): void {
  checkFastFields(root);
  const service = root.lookupService('mbdir.v1.Mailboxes');
  for (const [method, table] of Object.entries(fastDecoded)) {
    const answered = service.methods[method]?.resolvedResponseType?.fullName.replace(/^\./, '');
    if (answered !== table.name) throw new Error(`the fast codecs of mbdir.v1.Mailboxes.${method} carry ${table.name}, the .proto answers ${answered ?? 'nothing'}`);
  }
}

checkFastCodecs(protoRoot);

/** `fast`, or `generic` when `fast` throws (a value or bytes the fast path does not take), counted and logged. */
export function withFallback<In, Out>(method: string, direction: CodecDirection, fast: (value: In) => Out, generic: (value: In) => Out): (value: In) => Out {
  registerFastPath(method, direction);
  return (value) => {
    try {
      return fast(value);
    } catch (error) {
      recordCodecFallback(method, direction, error);
      return generic(value); // the generic codec decides (and names the problem)
    }
  };
}

function mailboxesMethod(definition: protoLoader.PackageDefinition, method: string): protoLoader.MethodDefinition<unknown, unknown> {
  const found = (definition['mbdir.v1.Mailboxes'] as Record<string, protoLoader.MethodDefinition<unknown, unknown>>)[method];
  if (found === undefined) throw new Error(`proto: no method mbdir.v1.Mailboxes.${method}`);
  return found;
}

for (const [method, table] of Object.entries(fastEncoded)) {
  const definition = mailboxesMethod(packageDefinition, method);
  const encode = (response: unknown): Buffer => encodeMessage(table, response as Record<string, unknown>);
  definition.responseSerialize = withFallback(method, 'encode', encode, definition.responseSerialize);
}

for (const [method, table] of Object.entries(fastDecoded)) {
  const definition = mailboxesMethod(packageDefinition, method);
  const decode = (bytes: Buffer): unknown => decodeMessage(table, bytes);
  definition.responseDeserialize = withFallback(method, 'decode', decode, definition.responseDeserialize);
}

interface MbdirPackage {
  mbdir: {
    v1: {
      Mailboxes: grpc.ServiceClientConstructor;
      Placement: grpc.ServiceClientConstructor;
      Cluster: grpc.ServiceClientConstructor;
    };
  };
}

export const mbdirPackage = grpc.loadPackageDefinition(packageDefinition) as unknown as MbdirPackage;
export const services = mbdirPackage.mbdir.v1;

/**
 * A copy of `service` whose `methods` send a response given as a Buffer as it
 * is, already encoded; any other value is serialized as usual. A stream that
 * writes one message to many callers (Watch) encodes it once. The shared
 * definitions in `services` are left as they are.
 */
export function passEncodedResponses(service: grpc.ServiceDefinition, methods: readonly string[]): grpc.ServiceDefinition {
  const copy: Record<string, grpc.MethodDefinition<object, object>> = { ...service };
  for (const method of methods) {
    const definition = service[method];
    if (definition === undefined) throw new Error(`passEncodedResponses: no method ${method}`);
    const serialize = definition.responseSerialize;
    copy[method] = { ...definition, responseSerialize: (value: object) => (Buffer.isBuffer(value) ? value : serialize(value)) };
  }
  return copy;
}
