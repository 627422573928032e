/**
 * A thin etcd v3 client over @grpc/grpc-js: Range, Txn, Compact, Status and a
 * raw Watch stream, against a list of endpoints with fail-over. It owns the
 * channels and the per-request deadline; it retries nothing by itself except
 * moving to the next endpoint when one is unreachable, so the engine decides
 * what a retry means (a txn is retried only with its request id). It never
 * interprets keys or values.
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
  etcdserverpb: Record<'KV' | 'Watch' | 'Maintenance', grpc.ServiceClientConstructor>;
};

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
}

export interface ResponseHeader {
  revision: number;
  member_id: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
}

export type RequestOp =
  | { request_put: { key: Buffer; value: Buffer } }
  | { request_delete_range: { key: Buffer } }
  | { request_range: { key: Buffer; keys_only?: boolean } };

export interface Compare {
  result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  target: 'MOD';
  key: Buffer;
  mod_revision: number;
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: Array<{ response_range?: RangeResponse | null }>;
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
}

type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<unknown>) => void;

/** True for failures that say "this endpoint cannot answer now", where another endpoint might. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: number }).code;
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED;
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
  '; over TLS this is also what a refused handshake looks like: check that the etcd CA setting (etcdCa) signed the certificate ' +
  "etcd presents, and that etcd's --trusted-ca-file signed the client certificate (etcdCert) when etcd runs with --client-cert-auth";

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
      };
    });
  }

  /** What to add to the message of `error`: where to look when it says "unreachable" and TLS may be the cause. */
  unreachableHint(error: unknown): string {
    return this.secure && isUnreachable(error) ? tlsUnreachableHint : '';
  }

  /** The endpoint requests go to now. */
  currentEndpoint(): string {
    return this.clients[this.current]?.endpoint ?? '';
  }

  /** Moves to the next endpoint (after a failure of the current one). */
  rotate(): void {
    this.current = (this.current + 1) % this.clients.length;
  }

  private call<T>(service: 'kv' | 'maintenance', method: string, request: unknown, client?: EndpointClients): Promise<T> {
    const target = client ?? this.clients[this.current];
    if (target === undefined) return Promise.reject(new Error('etcd: no endpoint'));
    const stub = target[service] as unknown as Record<string, Unary>;
    const metadata = new grpc.Metadata();
    // Refuse to serve from a member cut off from the leader (etcd's "hasleader" check).
    metadata.set('hasleader', 'true');
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + limits.etcdRequestTimeoutMs;
      stub[method]?.call(target[service], request, metadata, { deadline }, (error, response) => {
        if (error !== null && error !== undefined) reject(error);
        else resolve(response as T);
      });
    });
  }

  /** Runs one request on the current endpoint, then on the others while endpoints are unreachable. */
  private async withFailover<T>(service: 'kv' | 'maintenance', method: string, request: unknown): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.clients.length; attempt += 1) {
      try {
        return await this.call<T>(service, method, request);
      } catch (error) {
        lastError = error;
        if (!isUnreachable(error)) throw error;
        this.rotate();
      }
    }
    throw lastError;
  }

  range(request: {
    key: Buffer;
    range_end?: Buffer;
    limit?: number;
    revision?: number;
    sort_order?: 'DESCEND';
    sort_target?: 'MOD';
  }): Promise<RangeResponse> {
    return this.withFailover('kv', 'Range', request);
  }

  /** One attempt of a txn on the current endpoint: the engine owns retries (they need the request id). */
  txn(request: { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }): Promise<TxnResponse> {
    return this.call('kv', 'Txn', request);
  }

  compact(revision: number): Promise<unknown> {
    return this.withFailover('kv', 'Compact', { revision, physical: false });
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
          const message = (error as Error).message + this.unreachableHint(error);
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
    }
  }
}
