/**
 * Small helpers shared by the integration tests: expecting a gRPC error with a
 * given code and message, reading a whole ScanMailboxes stream, and recording a
 * Watch stream so a test can wait for the events it expects. They talk to the
 * real server only through MbdirClient; they hold no state between tests.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { AclEntry__Output, CreateMailboxRequest, CreateMailboxResponse__Output, Mailbox, Mailbox__Output, ScanMailboxesRequest, WatchEvent__Output, WatchRequest } from '../../src/client/messages.js';

/** Waits for `call` to fail with `codeName` and a message matching `pattern`; returns the error. */
export async function expectError(call: Promise<unknown>, codeName: string, pattern?: RegExp): Promise<ClientError> {
  let caught: unknown = null;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  // Raw grpc-js errors (LookupStream's duplex) carry the same code and details.
  const raw = caught as { code?: unknown; details?: unknown } | null;
  if (!(caught instanceof ClientError) && typeof raw?.code === 'number') {
    caught = new ClientError(raw.code, grpcStatus[raw.code] ?? String(raw.code), String(raw.details ?? ''));
  }
  expect(caught, `expected ${codeName}, the call succeeded`).toBeInstanceOf(ClientError);
  const error = caught as ClientError;
  expect(error.codeName, error.details).toBe(codeName);
  if (pattern !== undefined) expect(error.details).toMatch(pattern);
  return error;
}

/** Every mailbox a ScanMailboxes call streams, in order. */
export async function scanAll(client: MbdirClient, request: ScanMailboxesRequest = {}): Promise<Mailbox__Output[]> {
  const mailboxes: Mailbox__Output[] = [];
  for await (const mailbox of client.scanMailboxes(request)) mailboxes.push(mailbox);
  return mailboxes;
}

/** Names of scanned mailboxes. */
export async function scanNames(client: MbdirClient, request: ScanMailboxesRequest = {}): Promise<string[]> {
  return (await scanAll(client, request)).map((mailbox) => mailbox.name);
}

export interface WatchRecording {
  readonly events: WatchEvent__Output[];
  /** Resolves once `predicate` holds for the events so far; rejects after `timeoutMs`. */
  until(predicate: (events: readonly WatchEvent__Output[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
  error(): unknown;
}

/** Starts a Watch and records every event it delivers. */
export function recordWatch(client: MbdirClient, request: WatchRequest): WatchRecording {
  const abort = new AbortController();
  const events: WatchEvent__Output[] = [];
  let failure: unknown = null;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  void (async () => {
    try {
      for await (const event of client.watch(request, abort.signal)) {
        events.push(event);
        notify();
      }
    } catch (error) {
      failure = error;
      notify();
    }
  })();
  return {
    events,
    error: () => failure,
    stop: () => abort.abort(),
    until(predicate, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (predicate(events)) {
            cleanup();
            resolve();
          } else if (failure !== null) {
            cleanup();
            reject(failure instanceof Error ? failure : new Error(String(failure)));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`watch: expected events did not arrive; got ${JSON.stringify(events.map(brief))}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** `TYPE name@revision`, for readable assertions on watch events. */
export function brief(event: WatchEvent__Output): string {
  return `${event.type} ${event.mailbox === null ? '-' : event.mailbox.name}`;
}

/** ACL entries as a map identifier -> sorted set of letters (order-insensitive). */
export function aclAsSets(acl: readonly AclEntry__Output[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of acl ?? []) {
    out[entry.identifier] = [...entry.rights].sort().join('');
  }
  return out;
}

/** A CreateMailbox call with a mailbox built from `fields`. */
export function create(client: MbdirClient, fields: Mailbox, extra: Omit<CreateMailboxRequest, 'mailbox'> = {}): Promise<CreateMailboxResponse__Output> {
  return client.createMailbox({ mailbox: fields, ...extra });
}

/** Registers servers by name (PutServer), as a write naming a server needs (`mbdir server-put`). */
export async function registerServers(client: MbdirClient, names: readonly string[]): Promise<void> {
  for (const name of names) await client.putServer({ name });
}
