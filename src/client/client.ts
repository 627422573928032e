/**
 * A typed client for mbdir.v1 over @grpc/grpc-js: promises for unary calls,
 * async iterables for server streams, a writer for SyncServer, a duplex for
 * LookupStream. It adds the bearer token to every call and a deadline to every
 * unary call. The command line, the benchmark and the tests all use it.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { limits } from '../model/limits.js';
import { services } from '../api/proto.js';
import type { WireMailbox, WireServer } from '../api/wire.js';

export type { WireMailbox, WireServer };

export interface ClientOptions {
  endpoint: string;
  token?: string;
  /** PEM files for TLS; plaintext when `tls` is absent. */
  tls?: { ca?: string; cert?: string; key?: string };
  deadlineMs?: number;
  channelOptions?: grpc.ChannelOptions;
}

export type Message = Record<string, unknown>;

/** A gRPC error as the client sees it: code name and the server's text. */
export class ClientError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly codeName: string,
    readonly details: string,
  ) {
    super(`${codeName}: ${details}`);
  }
}

/** Socket errors grpc-js reports when it could not connect, in words. */
const connectFailures: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/**
 * What a failed connection means to the caller: grpc-js says "No connection
 * established. Last error: ... Resolution note: ..."; this says which address
 * was tried and that no node answered there, or, when something answered but
 * the connection failed (TLS), grpc-js's last error. Other details pass unchanged.
 */
function connectionDetails(details: string, endpoint: string): string {
  if (/^Name resolution failed/.test(details)) return `cannot resolve the host of ${endpoint}: no mbdir node answered there`;
  if (!/^No connection established/.test(details)) return details;
  const lastError = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(details)?.[1]?.trim() ?? '';
  const code = /^connect (E[A-Z]+) /.exec(lastError)?.[1];
  if (code !== undefined) return `no mbdir node answered at ${endpoint} (${connectFailures[code] ?? code})`;
  if (lastError === '' || lastError === 'null') return `no mbdir node answered at ${endpoint}`;
  return `could not connect to ${endpoint}: ${lastError.replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, '').replace(/\s+/g, ' ').trim()}`;
}

function toClientError(error: unknown, endpoint: string): Error {
  const service = error as Partial<grpc.ServiceError>;
  if (typeof service.code === 'number') {
    const details = service.code === grpc.status.UNAVAILABLE ? connectionDetails(service.details ?? '', endpoint) : service.details ?? '';
    return new ClientError(service.code, grpc.status[service.code] ?? String(service.code), details);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function credentialsOf(options: ClientOptions): grpc.ChannelCredentials {
  if (options.tls === undefined) return grpc.credentials.createInsecure();
  const read = (path: string | undefined): Buffer | null => (path === undefined ? null : readFileSync(path));
  return grpc.credentials.createSsl(read(options.tls.ca), read(options.tls.key), read(options.tls.cert));
}

/** A server stream's messages; `return()` (also leaving a for-await loop early) cancels the call. */
export interface MessageStream extends AsyncIterableIterator<Message> {
  return(value?: unknown): Promise<IteratorResult<Message>>;
}

/**
 * Reads a server stream with one promise per message taken, none per message
 * queued (an async generator over the call's own iterator costs several): a
 * proxy following hundreds of Watch streams spends its time on them. The call
 * starts at the first `next()`. Past `limits.clientStreamBufferMessagesMax`
 * unread messages the call is paused, so a slow reader slows the server's
 * sending (which cuts off a Watch that falls too far behind) instead of
 * growing this queue.
 */
class ServerStreamReader implements MessageStream {
  private call: grpc.ClientReadableStream<Message> | null = null;
  private readonly queue: Message[] = [];
  private head = 0;
  private waiter: { resolve(result: IteratorResult<Message>): void; reject(error: Error): void } | null = null;
  /** Returned or aborted: nothing more is read. */
  private closed = false;
  private ended = false;
  private failure: Error | null = null;
  private readonly abort = (): void => {
    void this.return();
  };

  constructor(
    private readonly open: () => grpc.ClientReadableStream<Message>,
    private readonly signal: AbortSignal | undefined,
    private readonly endpoint: string,
  ) {}

  [Symbol.asyncIterator](): MessageStream {
    return this;
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.call === null && !this.closed) this.start();
    if (this.head < this.queue.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.closed || (this.ended && this.failure === null)) return Promise.resolve({ value: undefined, done: true });
    // A failed call's status can come before the messages it sent are read: those first.
    if (this.failure !== null && (this.ended || this.call?.readableLength === 0)) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Message>> {
    if (!this.closed) {
      this.closed = true;
      this.signal?.removeEventListener('abort', this.abort);
      this.call?.cancel();
      this.queue.length = 0;
      this.head = 0;
      this.settle({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  private start(): void {
    if (this.signal?.aborted === true) {
      this.closed = true;
      return;
    }
    const call = this.open();
    this.call = call;
    this.signal?.addEventListener('abort', this.abort);
    call.on('data', (message: Message) => this.onMessage(message));
    call.on('end', () => {
      this.ended = true;
      this.settle(this.failure ?? { value: undefined, done: true });
    });
    call.on('error', (error: unknown) => {
      if (this.closed) return; // cancelled by return() or the abort signal
      this.failure = toClientError(error, this.endpoint);
      if (call.readableLength === 0) this.settle(this.failure);
    });
  }

  private take(): Message {
    const value = this.queue[this.head] as Message;
    this.head += 1;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.call?.resume();
    }
    return value;
  }

  private onMessage(message: Message): void {
    if (this.closed) return;
    if (this.waiter !== null) {
      this.settle({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    if (this.queue.length - this.head >= limits.clientStreamBufferMessagesMax) this.call?.pause();
  }

  private settle(outcome: IteratorResult<Message> | Error): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}

type UnaryMethod = (
  request: Message,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Message) => void,
) => grpc.ClientUnaryCall;

export class MbdirClient {
  readonly mailboxes: grpc.Client;
  readonly placement: grpc.Client;
  readonly cluster: grpc.Client;
  private readonly deadlineMs: number;
  private readonly token: string | undefined;
  /** The address this client dials, as given (named in connection errors). */
  readonly endpoint: string;

  constructor(options: ClientOptions) {
    const credentials = credentialsOf(options);
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': limits.grpcMessageBytesMax,
      'grpc.max_send_message_length': limits.grpcMessageBytesMax,
      'grpc-node.flow_control_window': limits.clientFlowControlWindowBytes,
      ...options.channelOptions,
    };
    this.mailboxes = new services.Mailboxes(options.endpoint, credentials, channelOptions);
    // The other services share the first client's channel.
    const shared = { ...channelOptions, channelOverride: this.mailboxes.getChannel() };
    this.placement = new services.Placement(options.endpoint, credentials, shared);
    this.cluster = new services.Cluster(options.endpoint, credentials, shared);
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.token = options.token;
    this.endpoint = options.endpoint;
  }

  metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token !== undefined && this.token !== '') metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  private unary(client: grpc.Client, method: string, request: Message, deadlineMs = this.deadlineMs): Promise<Message> {
    const call = (client as unknown as Record<string, UnaryMethod>)[method];
    if (call === undefined) throw new Error(`no method ${method}`);
    return new Promise((resolve, reject) => {
      call.call(client, request, this.metadata(), { deadline: Date.now() + deadlineMs }, (error, response) =>
        error === null ? resolve(response) : reject(toClientError(error, this.endpoint)),
      );
    });
  }

  /** Calls a unary method of mbdir.v1.Mailboxes by name. */
  mailbox(method: string, request: Message = {}, deadlineMs?: number): Promise<Message> {
    return this.unary(this.mailboxes, method, request, deadlineMs);
  }

  /** Calls a unary method of mbdir.v1.Placement by name. */
  place(method: string, request: Message = {}, deadlineMs?: number): Promise<Message> {
    return this.unary(this.placement, method, request, deadlineMs);
  }

  status(): Promise<Message> {
    return this.unary(this.cluster, 'Status', {});
  }

  /** A server stream (ScanMailboxes, Watch) as an async iterator; errors become ClientError; aborting ends it. */
  stream(method: 'ScanMailboxes' | 'Watch', request: Message, signal?: AbortSignal): MessageStream {
    const start = (this.mailboxes as unknown as Record<string, (r: Message, m: grpc.Metadata) => grpc.ClientReadableStream<Message>>)[method];
    if (start === undefined) throw new Error(`no method ${method}`);
    return new ServerStreamReader(() => start.call(this.mailboxes, request, this.metadata()), signal, this.endpoint);
  }

  /** Backup (admin): the node's database as chunks, the first one carrying its revision and size. */
  backup(signal?: AbortSignal): MessageStream {
    const start = (this.cluster as unknown as Record<string, (r: Message, m: grpc.Metadata) => grpc.ClientReadableStream<Message>>)['Backup'];
    if (start === undefined) throw new Error('no method Backup');
    return new ServerStreamReader(() => start.call(this.cluster, {}, this.metadata()), signal, this.endpoint);
  }

  /** SyncServer: sends the batches, then resolves with the directory's answer. */
  syncServer(server: string, dryRun: boolean, batches: Iterable<readonly object[]>): Promise<Message> {
    return new Promise((resolve, reject) => {
      const start = (this.mailboxes as unknown as Record<string, (m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Message) => void) => grpc.ClientWritableStream<Message>>)['SyncServer'];
      if (start === undefined) throw new Error('no method SyncServer');
      const call = start.call(this.mailboxes, this.metadata(), (error, response) =>
        error === null ? resolve(response) : reject(toClientError(error, this.endpoint)),
      );
      let first = true;
      for (const batch of batches) {
        call.write({ server: first ? server : '', dry_run: dryRun, mailboxes: batch });
        first = false;
      }
      if (first) call.write({ server, dry_run: dryRun, mailboxes: [] });
      call.end();
    });
  }

  /** LookupStream: a duplex of names in, results out, in order. */
  lookupStream(): grpc.ClientDuplexStream<Message, Message> {
    const start = (this.mailboxes as unknown as Record<string, (m: grpc.Metadata) => grpc.ClientDuplexStream<Message, Message>>)['LookupStream'];
    if (start === undefined) throw new Error('no method LookupStream');
    return start.call(this.mailboxes, this.metadata());
  }

  close(): void {
    this.placement.close();
    this.cluster.close();
    this.mailboxes.close();
  }
}
