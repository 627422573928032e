/**
 * Loads the mbdir.v1 contract from proto/ at run time (@grpc/proto-loader) with
 * the options every adapter and client of this project relies on: field names
 * as written (snake_case), 64-bit integers as JS numbers (revisions stay far
 * below 2^53), enums as their names, defaults filled in, oneofs named; and the
 * server-side variant of a service whose streams may write messages encoded once.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeListResponse, encodeLookupResponse, encodeMailboxResponse } from './fast-encode.js';
import { decodeListResponse, decodeLookupResponse, decodeMailboxResponse, decodeWatchEvent } from './fast-decode.js';

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

/** Responses written by the hand-written encoders of fast-encode.ts (the generic one stays the fallback). */
const fastEncoders: Record<string, (response: Record<string, unknown>) => Buffer> = {
  GetMailbox: encodeMailboxResponse,
  LookupMailboxes: encodeLookupResponse,
  LookupStream: encodeLookupResponse,
  ListMailboxes: encodeListResponse,
};

/** `fast`, or `generic` when `fast` throws: a value or bytes the hand-written path does not take. */
function withFallback<In, Out>(fast: (value: In) => Out, generic: (value: In) => Out): (value: In) => Out {
  return (value) => {
    try {
      return fast(value);
    } catch {
      return generic(value); // the generic codec decides (and names the problem)
    }
  };
}

function mailboxesMethod(definition: protoLoader.PackageDefinition, method: string): protoLoader.MethodDefinition<unknown, unknown> {
  const found = (definition['mbdir.v1.Mailboxes'] as Record<string, protoLoader.MethodDefinition<unknown, unknown>>)[method];
  if (found === undefined) throw new Error(`proto: no method mbdir.v1.Mailboxes.${method}`);
  return found;
}

for (const [method, encode] of Object.entries(fastEncoders)) {
  const definition = mailboxesMethod(packageDefinition, method);
  definition.responseSerialize = withFallback((response: unknown) => encode(response as Record<string, unknown>), definition.responseSerialize);
}

/**
 * Clients decode Watch events and the responses that carry mailboxes by hand
 * (fast-decode.ts): a proxy receives events by the hundred per second, and a
 * LIST or a lookup batch can carry thousands of mailboxes. Servers are untouched.
 */
const fastDecoders: Record<string, (bytes: Buffer) => unknown> = {
  Watch: decodeWatchEvent,
  GetMailbox: decodeMailboxResponse,
  LookupMailboxes: decodeLookupResponse,
  LookupStream: decodeLookupResponse,
  ListMailboxes: decodeListResponse,
};

for (const [method, decode] of Object.entries(fastDecoders)) {
  const definition = mailboxesMethod(packageDefinition, method);
  definition.responseDeserialize = withFallback(decode, definition.responseDeserialize);
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
