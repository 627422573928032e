/**
 * A thin etcd v3 client over @grpc/grpc-js: Range, Txn, Compact, Status,
 * Defragment (one named member), leases (grant, keep-alive, revoke) and a raw
 * Watch stream, against a list of endpoints with fail-over. It owns the
 * channels and the per-request deadline; it retries nothing by itself except
 * moving a read to the next endpoint when one is unreachable, so the engine
 * decides what a retry means (a txn is retried only with its request id). A
 * failure names its endpoint and says in words what happened (refused, timed
 * out, dropped, no leader), never in grpc-js's own text. It never interprets
 * keys or values.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { limits } from '../model/limits.js';

function findEtcdProto(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    const candidate = join(directory, 'proto', 'etcd', 'rpc-subset.proto');
    if (existsSync(candidate)) return candidate;
    directory = dirname(directory);
  }
  throw new Error('proto/etcd/rpc-subset.proto not found above ' + fileURLToPath(import.meta.url));
}

const definition = protoLoader.loadSync(findEtcdProto(), {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const etcdPackage = grpc.loadPackageDefinition(definition) as unknown as {
  etcdserverpb: Record<'KV' | 'Watch' | 'Maintenance' | 'Lease', grpc.ServiceClientConstructor>;
};

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  /** The lease the key is attached to; 0 for none. */
  lease: number;
}

export interface ResponseHeader {
  revision: number;
  member_id: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  /** The number of keys in the range (all of them, whatever the limit). */
  count: number;
}

export type RequestOp =
  | { request_put: { key: Buffer; value: Buffer; lease?: number } }
  | { request_delete_range: { key: Buffer } }
  | { request_range: { key: Buffer; keys_only?: boolean } }
  /** A nested txn (etcd 3.3+): its own compare decides its own branch; no two ops of one request may put one key. */
  | { request_txn: TxnRequest };

export type Compare =
  | { result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'; target: 'MOD'; key: Buffer; mod_revision: number }
  | { result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'; target: 'CREATE'; key: Buffer; create_revision: number };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: Array<{ response_range?: RangeResponse | null; response_txn?: TxnResponse | null }>;
}

export interface WatchResponse {
  header: ResponseHeader;
  created: boolean;
  canceled: boolean;
  compact_revision: number;
  cancel_reason: string;
  fragment: boolean;
  events: Array<{ type: 'PUT' | 'DELETE'; kv: KeyValue }>;
}

/** One member's database file: its size, and the part of it in use (the rest is freed pages a defragmentation returns). */
export interface MemberDatabase {
  endpoint: string;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
}

export interface EndpointStatus {
  endpoint: string;
  healthy: boolean;
  error: string;
  revision: number;
  leader: boolean;
}

const channelOptions: grpc.ChannelOptions = {
  // etcd fragments watch responses at its request size; a relist page holds at most
  // etcdRelistPageKeysMax hierarchies.
  'grpc.max_receive_message_length': limits.etcdResponseBytesMax,
  'grpc.max_send_message_length': limits.etcdRequestBytesMax,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

interface EndpointClients {
  endpoint: string;
  kv: grpc.Client;
  watch: grpc.Client;
  maintenance: grpc.Client;
  lease: grpc.Client;
}

type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<unknown>) => void;

/** True for failures that say "this endpoint cannot answer now", where another endpoint might. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: number }).code;
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED;
}

/** What one endpoint did with a request it did not answer. */
export type FailureKind = 'refused' | 'no-leader' | 'timeout' | 'dropped';

/** Why one endpoint did not answer a request, said plainly. */
export interface EndpointFailure {
  endpoint: string;
  kind: FailureKind;
  /** What happened, after the endpoint's URL ("refused the connection"). */
  text: string;
  /** True when the request provably never reached a member that could commit it. */
  neverSent: boolean;
}

/** A request one endpoint did not answer; `code` is the gRPC status, so isUnreachable applies. */
export class EtcdEndpointError extends Error {
  readonly code: number;
  constructor(readonly failure: EndpointFailure, code: number) {
    super(`${failure.endpoint} ${failure.text}`);
    this.code = code;
  }
}

/** A read that no endpoint answered: one failure per endpoint tried. */
export class EtcdUnreachableError extends Error {
  readonly code = grpc.status.UNAVAILABLE;
  constructor(readonly failures: readonly EndpointFailure[]) {
    super(failures.map((failure) => `${failure.endpoint} ${failure.text}`).join('; '));
  }
}

/** The failures an error carries, if it is one of this client's. */
export function failuresOf(error: unknown): EndpointFailure[] {
  if (error instanceof EtcdEndpointError) return [error.failure];
  if (error instanceof EtcdUnreachableError) return [...error.failures];
  return [];
}

/**
 * Classifies an unreachable failure from grpc-js's code and details. Only a
 * connection never established, or a member that says it has no leader (etcd's
 * hasleader check refuses before proposing), proves the request was never sent.
 */
function endpointFailure(endpoint: string, error: grpc.ServiceError, hint: string): EndpointFailure {
  const details = error.details ?? '';
  if (/no leader/i.test(details)) {
    return { endpoint, kind: 'no-leader', text: 'answered that it has no leader', neverSent: true };
  }
  if (error.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED|failed to connect/i.test(details)) {
    const text = /ECONNREFUSED/.test(details) ? 'refused the connection' : 'could not be connected to';
    return { endpoint, kind: 'refused', text: text + hint, neverSent: true };
  }
  if (error.code === grpc.status.DEADLINE_EXCEEDED) {
    return { endpoint, kind: 'timeout', text: `did not answer within ${limits.etcdRequestTimeoutMs} ms`, neverSent: false };
  }
  return { endpoint, kind: 'dropped', text: 'dropped the connection while the request was in flight', neverSent: false };
}

/**
 * How to reach etcd over TLS (https:// endpoints): the CA that signed etcd's
 * certificate (null: the system's roots), and the client certificate and key
 * etcd asks for when it runs with --client-cert-auth (null: none). With etcd's
 * auth enabled, etcd takes the certificate's common name as the user.
 */
export interface EtcdTls {
  ca: Buffer | null;
  cert: Buffer | null;
  key: Buffer | null;
}

/** Channel credentials for one endpoint: TLS for https://, plaintext for http://. */
function credentialsFor(endpoint: string, tls: EtcdTls | undefined): grpc.ChannelCredentials {
  if (!endpoint.startsWith('https://')) {
    if (tls !== undefined) throw new Error(`etcd: TLS settings given, but ${endpoint} is not an https:// endpoint`);
    return grpc.credentials.createInsecure();
  }
  if ((tls?.cert === null) !== (tls?.key === null)) throw new Error('etcd: a client certificate needs its key, and a key its certificate');
  return grpc.credentials.createSsl(tls?.ca ?? null, tls?.key ?? null, tls?.cert ?? null);
}

/**
 * Said after "unreachable" when the endpoints speak TLS: grpc-js reports a
 * refused handshake (an untrusted certificate either way) only as "No
 * connection established", which names neither side's certificate.
 */
const tlsUnreachableHint =
  ' (over TLS this is also what a refused handshake looks like: check that the etcd CA setting (etcdCa) signed the certificate ' +
  "etcd presents, and that etcd's --trusted-ca-file signed the client certificate (etcdCert) when etcd runs with --client-cert-auth)";

export class EtcdClient {
  private readonly clients: EndpointClients[];
  private current = 0;
  private readonly secure: boolean;

  constructor(
    readonly endpoints: readonly string[],
    tls?: EtcdTls,
  ) {
    if (endpoints.length === 0) throw new Error('etcd: no endpoints given');
    this.secure = endpoints.some((endpoint) => endpoint.startsWith('https://'));
    this.clients = endpoints.map((endpoint) => {
      const target = endpoint.replace(/^https?:\/\//, '');
      const credentials = credentialsFor(endpoint, tls);
      return {
        endpoint,
        kv: new etcdPackage.etcdserverpb.KV(target, credentials, channelOptions),
        watch: new etcdPackage.etcdserverpb.Watch(target, credentials, channelOptions),
        maintenance: new etcdPackage.etcdserverpb.Maintenance(target, credentials, channelOptions),
        lease: new etcdPackage.etcdserverpb.Lease(target, credentials, channelOptions),
      };
    });
  }

  /** The endpoint requests go to now. */
  currentEndpoint(): string {
    return this.clients[this.current]?.endpoint ?? '';
  }

  /**
   * Moves off `endpoint` after it failed, if requests still go there. Many calls
   * may fail on one endpoint at once: each moves the pointer only off the one it
   * saw fail, so they do not spin it back onto a dead member.
   */
  avoid(endpoint: string): void {
    if (this.currentEndpoint() === endpoint) this.current = (this.current + 1) % this.clients.length;
  }

  /** The endpoints in the order to try them: the current one first. */
  private inOrder(): EndpointClients[] {
    return this.clients.map((_, offset) => this.clients[(this.current + offset) % this.clients.length] as EndpointClients);
  }

  private call<T>(
    service: 'kv' | 'maintenance' | 'lease',
    method: string,
    request: unknown,
    target: EndpointClients,
    timeoutMs: number = limits.etcdRequestTimeoutMs,
  ): Promise<T> {
    const stub = target[service] as unknown as Record<string, Unary>;
    const metadata = new grpc.Metadata();
    // Refuse to serve from a member cut off from the leader (etcd's "hasleader" check).
    metadata.set('hasleader', 'true');
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      stub[method]?.call(target[service], request, metadata, { deadline }, (error, response) => {
        if (error === null || error === undefined) resolve(response as T);
        else if (isUnreachable(error)) reject(new EtcdEndpointError(endpointFailure(target.endpoint, error, this.secure ? tlsUnreachableHint : ''), error.code));
        else reject(error);
      });
    });
  }

  /** Runs a read on the current endpoint, then on the others while endpoints are unreachable; safe only for reads. */
  private async withFailover<T>(service: 'kv' | 'maintenance' | 'lease', method: string, request: unknown): Promise<T> {
    const failures: EndpointFailure[] = [];
    for (const target of this.inOrder()) {
      try {
        return await this.call<T>(service, method, request, target);
      } catch (error) {
        if (!(error instanceof EtcdEndpointError)) throw error;
        failures.push(error.failure);
        this.avoid(target.endpoint);
      }
    }
    throw new EtcdUnreachableError(failures);
  }

  range(request: {
    key: Buffer;
    range_end?: Buffer;
    limit?: number;
    revision?: number;
    sort_order?: 'DESCEND';
    sort_target?: 'MOD';
    keys_only?: boolean;
    count_only?: boolean;
  }): Promise<RangeResponse> {
    return this.withFailover('kv', 'Range', request);
  }

  /**
   * One attempt of a txn on the current endpoint, or the next one not in `skip`
   * (endpoints that already failed this write): the engine owns retries (they
   * need the request id).
   */
  txn(request: TxnRequest, skip: ReadonlySet<string> = new Set()): Promise<TxnResponse> {
    const target = this.inOrder().find((client) => !skip.has(client.endpoint));
    if (target === undefined) return Promise.reject(new Error('etcd: every endpoint was skipped'));
    return this.call('kv', 'Txn', request, target);
  }

  /** A txn of reads only (no compare, no put), so it may go to every endpoint in turn. */
  readTxn(request: TxnRequest): Promise<TxnResponse> {
    if (request.compare.length > 0 || [...request.success, ...request.failure].some((op) => !('request_range' in op))) {
      throw new Error('etcd: readTxn takes range operations only');
    }
    return this.withFailover('kv', 'Txn', request);
  }

  /**
   * Compacts history before `revision`. `physical`: answer only once every member has
   * removed the compacted versions from its database (what a defragmentation needs first).
   */
  compact(revision: number, physical = false): Promise<unknown> {
    if (!physical) return this.withFailover('kv', 'Compact', { revision, physical: false });
    const target = this.inOrder()[0] as EndpointClients;
    return this.call('kv', 'Compact', { revision, physical: true }, target, limits.etcdDefragmentTimeoutMs);
  }

  /** Defragments the one member at `endpoint` (it blocks its reads and writes meanwhile); never fails over. */
  async defragment(endpoint: string): Promise<void> {
    const target = this.clients.find((client) => client.endpoint === endpoint);
    if (target === undefined) throw new Error(`etcd: ${endpoint} is not one of this client's endpoints`);
    await this.call('maintenance', 'Defragment', {}, target, limits.etcdDefragmentTimeoutMs);
  }

  /** The database size of the member at `endpoint`. */
  async memberDatabase(endpoint: string): Promise<MemberDatabase> {
    const target = this.clients.find((client) => client.endpoint === endpoint);
    if (target === undefined) throw new Error(`etcd: ${endpoint} is not one of this client's endpoints`);
    const status = await this.call<{ dbSize: number; dbSizeInUse: number }>('maintenance', 'Status', {}, target);
    return { endpoint, dbSizeBytes: status.dbSize, dbSizeInUseBytes: status.dbSizeInUse };
  }

  /**
   * Grants a lease of `ttlSeconds` with id `id`. The caller picks the id below 2^53: etcd's
   * own ids use all 63 bits, which this client's numbers (longs as Number) would round.
   */
  async leaseGrant(ttlSeconds: number, id: number): Promise<number> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`etcd: lease id ${id} is not a positive safe integer`);
    const granted = await this.withFailover<{ ID: number; TTL: number; error: string }>('lease', 'LeaseGrant', { TTL: ttlSeconds, ID: id });
    if (granted.error !== '') throw new Error(`etcd refused a lease: ${granted.error}`);
    return granted.ID;
  }

  /** Revokes a lease: every key attached to it is deleted at once. */
  async leaseRevoke(id: number): Promise<void> {
    await this.withFailover('lease', 'LeaseRevoke', { ID: id });
  }

  /**
   * Renews a lease once (one LeaseKeepAlive request on a stream opened for it, then closed);
   * returns the TTL etcd gives it now, 0 when the lease has expired.
   */
  leaseKeepAliveOnce(id: number): Promise<number> {
    const target = this.inOrder()[0] as EndpointClients;
    const stub = target.lease as unknown as {
      LeaseKeepAlive: (metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, { TTL: number }>;
    };
    const stream = stub.LeaseKeepAlive.call(target.lease, new grpc.Metadata(), { deadline: Date.now() + limits.etcdRequestTimeoutMs });
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      stream.once('data', (response: { TTL: number }) => {
        settled = true;
        resolve(response.TTL);
        // Cancelling is how this call ends: the CANCELLED error it raises is ours, not the endpoint's.
        stream.cancel();
      });
      stream.on('error', (error: grpc.ServiceError) => {
        if (settled) return;
        settled = true;
        if (isUnreachable(error)) this.avoid(target.endpoint);
        reject(error);
      });
      stream.write({ ID: id });
    });
  }

  /** Health of every endpoint, asked in parallel. */
  async statusAll(): Promise<EndpointStatus[]> {
    return Promise.all(
      this.clients.map(async (client) => {
        try {
          const status = await this.call<{ header: ResponseHeader; leader: number; errors: string[] }>(
            'maintenance',
            'Status',
            {},
            client,
          );
          const leader = status.header.member_id === status.leader && status.leader !== 0;
          const error = status.leader === 0 ? 'no leader: etcd quorum lost' : status.errors.join('; ');
          return { endpoint: client.endpoint, healthy: status.leader !== 0, error, revision: status.header.revision, leader };
        } catch (error) {
          const message = failuresOf(error)[0]?.text ?? (error as Error).message;
          return { endpoint: client.endpoint, healthy: false, error: message, revision: 0, leader: false };
        }
      }),
    );
  }

  /** Opens a raw Watch stream on the current endpoint (the engine sends the create request). */
  openWatch(): grpc.ClientDuplexStream<unknown, WatchResponse> {
    const client = this.clients[this.current];
    if (client === undefined) throw new Error('etcd: no endpoint');
    const metadata = new grpc.Metadata();
    // The server cancels the stream when its member loses the leader, so we move on.
    metadata.set('hasleader', 'true');
    const stub = client.watch as unknown as { Watch: (metadata: grpc.Metadata) => grpc.ClientDuplexStream<unknown, WatchResponse> };
    return stub.Watch.call(client.watch, metadata);
  }

  close(): void {
    for (const client of this.clients) {
      client.kv.close();
      client.watch.close();
      client.maintenance.close();
      client.lease.close();
    }
  }
}
