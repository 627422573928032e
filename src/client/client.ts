/**
 * The typed client of mbdir.v1 over @grpc/grpc-js: one method per RPC of the
 * Mailboxes, Placement and Cluster services, each taking the generated request
 * type and answering the generated `__Output` type (src/client/messages.ts).
 * Unary calls are promises with a deadline; server streams are async iterators
 * (server-stream.ts); SyncServer is a writer; LookupStream a typed duplex. Every
 * call carries the bearer token. The command line, the benchmark and the tests
 * all use it; no caller names a method by a string or casts an answer.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { ProtoGrpcType } from '../api/generated/mbdir.js';
import type { ClusterClient } from '../api/generated/mbdir/v1/Cluster.js';
import type { MailboxesClient } from '../api/generated/mbdir/v1/Mailboxes.js';
import type { PlacementClient } from '../api/generated/mbdir/v1/Placement.js';
import { limits } from '../model/limits.js';
import { mbdirPackage, services } from '../api/proto.js';
import { toClientError } from './errors.js';
import type * as api from './messages.js';
import { ServerStreamReader, type MessageStream } from './server-stream.js';

export { ClientError } from './errors.js';
export type { MessageStream } from './server-stream.js';

export interface ClientOptions {
  endpoint: string;
  token?: string;
  /** PEM files for TLS; plaintext when `tls` is absent. */
  tls?: { ca?: string; cert?: string; key?: string };
  deadlineMs?: number;
  channelOptions?: grpc.ChannelOptions;
}

/**
 * The loaded contract (proto.ts, with the fast decoders installed) seen through
 * the generated types: the one place where proto-loader's untyped package meets
 * them. test/property/watch-decode.property.test.ts keeps the decoders' output
 * equal to proto-loader's, so the `__Output` types hold for them too.
 */
const contract = (mbdirPackage as unknown as ProtoGrpcType).mbdir.v1;

function credentialsOf(options: ClientOptions): grpc.ChannelCredentials {
  if (options.tls === undefined) return grpc.credentials.createInsecure();
  const read = (path: string | undefined): Buffer | null => (path === undefined ? null : readFileSync(path));
  return grpc.credentials.createSsl(read(options.tls.ca), read(options.tls.key), read(options.tls.cert));
}

/** Starts one unary call given the metadata, call options and callback. */
type UnaryStart<Response> = (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Response>) => grpc.ClientUnaryCall;

export class MbdirClient {
  readonly mailboxes: MailboxesClient;
  readonly placement: PlacementClient;
  readonly cluster: ClusterClient;
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
    this.mailboxes = new contract.Mailboxes(options.endpoint, credentials, channelOptions);
    // The other services share the first client's channel.
    const shared = { ...channelOptions, channelOverride: this.mailboxes.getChannel() };
    this.placement = new contract.Placement(options.endpoint, credentials, shared);
    this.cluster = new contract.Cluster(options.endpoint, credentials, shared);
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.token = options.token;
    this.endpoint = options.endpoint;
  }

  metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token !== undefined && this.token !== '') metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  /** Runs one unary call with the token and a deadline (`deadlineMs`, else the client's). */
  private unary<Response>(start: UnaryStart<Response>, deadlineMs = this.deadlineMs): Promise<Response> {
    return new Promise((resolve, reject) => {
      start(this.metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
        if (error === null && response !== undefined) resolve(response);
        else reject(toClientError(error ?? new Error('the call ended without an answer'), this.endpoint));
      });
    });
  }

  /**
   * A unary call of Mailboxes whose answer grpc-js hands over as bytes, decoded
   * here once the call is over. An answer decoded inside grpc-js stays referenced
   * from its call's objects, which a scavenge has often already moved to the old
   * generation: the answer's thousands of objects then survived every scavenge
   * until the next full collection (half of all a LIST caller allocated),
   * which made each scavenge long. Decoded here, they die young.
   */
  private decodedAfter<Response>(method: string, request: object, deadlineMs?: number): Promise<Response> {
    const definition = services.Mailboxes.service[method];
    if (definition === undefined) throw new Error(`no method Mailboxes.${method}`);
    const bytes = (buffer: Buffer): Buffer => buffer;
    return this.unary<Buffer>((metadata, options, callback) =>
      this.mailboxes.makeUnaryRequest(definition.path, definition.requestSerialize, bytes, request, metadata, options, callback), deadlineMs,
    ).then((answer) => definition.responseDeserialize(answer) as Response);
  }

  // mbdir.v1.Mailboxes

  createMailbox(request: api.CreateMailboxRequest, deadlineMs?: number): Promise<api.CreateMailboxResponse__Output> {
    return this.unary((metadata, options, callback) => this.mailboxes.CreateMailbox(request, metadata, options, callback), deadlineMs);
  }

  activateMailbox(request: api.ActivateMailboxRequest, deadlineMs?: number): Promise<api.MailboxResponse__Output> {
    return this.unary((metadata, options, callback) => this.mailboxes.ActivateMailbox(request, metadata, options, callback), deadlineMs);
  }

  getMailbox(request: api.GetMailboxRequest, deadlineMs?: number): Promise<api.MailboxResponse__Output> {
    return this.unary((metadata, options, callback) => this.mailboxes.GetMailbox(request, metadata, options, callback), deadlineMs);
  }

  lookupMailboxes(request: api.LookupMailboxesRequest, deadlineMs?: number): Promise<api.LookupMailboxesResponse__Output> {
    return this.decodedAfter('LookupMailboxes', request, deadlineMs);
  }

  renameMailbox(request: api.RenameMailboxRequest, deadlineMs?: number): Promise<api.RenameMailboxResponse__Output> {
    return this.unary((metadata, options, callback) => this.mailboxes.RenameMailbox(request, metadata, options, callback), deadlineMs);
  }

  deleteMailbox(request: api.DeleteMailboxRequest, deadlineMs?: number): Promise<api.DeleteMailboxResponse__Output> {
    return this.unary((metadata, options, callback) => this.mailboxes.DeleteMailbox(request, metadata, options, callback), deadlineMs);
  }

  setAcl(request: api.SetAclRequest, deadlineMs?: number): Promise<api.MailboxResponse__Output> {
    return this.unary((metadata, options, callback) => this.mailboxes.SetAcl(request, metadata, options, callback), deadlineMs);
  }

  listMailboxes(request: api.ListMailboxesRequest, deadlineMs?: number): Promise<api.ListMailboxesResponse__Output> {
    return this.decodedAfter('ListMailboxes', request, deadlineMs);
  }

  /** ScanMailboxes: every mailbox matching, in Cyrus order; aborting ends it. */
  scanMailboxes(request: api.ScanMailboxesRequest, signal?: AbortSignal): MessageStream<api.Mailbox__Output> {
    return new ServerStreamReader(() => this.mailboxes.ScanMailboxes(request, this.metadata()), signal, this.endpoint);
  }

  /** Watch: a snapshot (from revision 0) or the changes after a revision, until aborted or cut off. */
  watch(request: api.WatchRequest, signal?: AbortSignal): MessageStream<api.WatchEvent__Output> {
    return new ServerStreamReader(() => this.mailboxes.Watch(request, this.metadata()), signal, this.endpoint);
  }

  /** SyncServer: sends the batches, then resolves with the directory's answer. */
  syncServer(server: string, dryRun: boolean, batches: Iterable<readonly api.Mailbox[]>): Promise<api.SyncServerResponse__Output> {
    return new Promise((resolve, reject) => {
      const call = this.mailboxes.SyncServer(this.metadata(), (error, response) => {
        if (error === null && response !== undefined) resolve(response);
        else reject(toClientError(error ?? new Error('SyncServer ended without an answer'), this.endpoint));
      });
      let first = true;
      for (const batch of batches) {
        call.write({ server: first ? server : '', dry_run: dryRun, mailboxes: [...batch] });
        first = false;
      }
      if (first) call.write({ server, dry_run: dryRun, mailboxes: [] });
      call.end();
    });
  }

  /** LookupStream: a duplex of names in, results out, in order. */
  lookupStream(): grpc.ClientDuplexStream<api.LookupStreamRequest, api.LookupStreamResponse__Output> {
    return this.mailboxes.LookupStream(this.metadata());
  }

  // mbdir.v1.Placement

  putServer(request: api.Server, deadlineMs?: number): Promise<api.ServerResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.PutServer(request, metadata, options, callback), deadlineMs);
  }

  listServers(request: api.ListServersRequest = {}, deadlineMs?: number): Promise<api.ListServersResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.ListServers(request, metadata, options, callback), deadlineMs);
  }

  putBusiness(request: api.Business, deadlineMs?: number): Promise<api.BusinessResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.PutBusiness(request, metadata, options, callback), deadlineMs);
  }

  setUserBusiness(request: api.SetUserBusinessRequest, deadlineMs?: number): Promise<api.WriteResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.SetUserBusiness(request, metadata, options, callback), deadlineMs);
  }

  resolveUser(request: api.ResolveUserRequest, deadlineMs?: number): Promise<api.ResolveUserResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.ResolveUser(request, metadata, options, callback), deadlineMs);
  }

  planRebalance(request: api.PlanRebalanceRequest, deadlineMs?: number): Promise<api.PlanRebalanceResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.PlanRebalance(request, metadata, options, callback), deadlineMs);
  }

  moveUser(request: api.MoveUserRequest, deadlineMs?: number): Promise<api.MoveUserResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.MoveUser(request, metadata, options, callback), deadlineMs);
  }

  markUserMoving(request: api.MarkUserMovingRequest, deadlineMs?: number): Promise<api.MarkUserMovingResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.MarkUserMoving(request, metadata, options, callback), deadlineMs);
  }

  acquireLock(request: api.AcquireLockRequest, deadlineMs?: number): Promise<api.AcquireLockResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.AcquireLock(request, metadata, options, callback), deadlineMs);
  }

  releaseLock(request: api.ReleaseLockRequest, deadlineMs?: number): Promise<api.ReleaseLockResponse__Output> {
    return this.unary((metadata, options, callback) => this.placement.ReleaseLock(request, metadata, options, callback), deadlineMs);
  }

  // mbdir.v1.Cluster

  status(request: api.StatusRequest = {}, deadlineMs?: number): Promise<api.StatusResponse__Output> {
    return this.unary((metadata, options, callback) => this.cluster.Status(request, metadata, options, callback), deadlineMs);
  }

  /** Backup (admin): the node's database as chunks, the first one carrying its revision and size. */
  backup(signal?: AbortSignal): MessageStream<api.BackupChunk__Output> {
    return new ServerStreamReader(() => this.cluster.Backup({}, this.metadata()), signal, this.endpoint);
  }

  close(): void {
    this.placement.close();
    this.cluster.close();
    this.mailboxes.close();
  }
}
