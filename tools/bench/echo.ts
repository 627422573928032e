/**
 * The transport's floor: a bare grpc-js server with mbdir.v1's own service
 * definitions (so the same request and response messages cross the wire, with
 * the same proto-loader serialization) that answers every call with a canned
 * response taken from the real node in the same run. No store, no rules: what
 * it costs is what gRPC costs, and each unary figure is reported against it.
 *
 * Watch too: each CreateMailbox it answers is also sent, as a PUT of the
 * canned mailbox under the requested name, to every Watch stream attached,
 * encoded once for all of them as the node does. The bench's Watch delivery
 * then measures, against the echo, what 500 subscribers cost the transport
 * and the subscriber processes alone: the floor of the Watch latency.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isInSubtree } from '../../src/model/names.js';
import { passEncodedResponses, services } from '../../src/api/proto.js';
import { grpcServerOptions } from '../../src/server/node-entry.js';

/** The node's answer to each method, by method name, as the bench received it. */
export type CannedResponses = Record<string, object>;

function canned(response: object): grpc.handleUnaryCall<unknown, unknown> {
  return (_call, callback) => callback(null, response);
}

/** A duplex that answers every message with the same response, as LookupStream answers each message with one. */
function cannedStream(response: object): grpc.handleBidiStreamingCall<unknown, unknown> {
  return (call) => {
    call.on('data', () => call.write(response));
    call.on('end', () => call.end());
  };
}

/** Creates kept (their names) for Watch streams that attach late: the bench waits for its first event. */
const watchHistoryMax = 1000;

/** A Watch stream and the name prefixes it asked for (none: every name), as the node filters them. */
interface EchoSubscriber {
  call: grpc.ServerWritableStream<unknown, unknown>;
  prefixes: string[];
}

const watches = (subscriber: EchoSubscriber, name: string): boolean =>
  subscriber.prefixes.length === 0 || subscriber.prefixes.some((prefix) => isInSubtree(name, prefix));

/**
 * Watch streams and CreateMailbox: every create answered is sent to the
 * streams whose prefixes take its name, as a PUT event of the canned mailbox
 * under that name, encoded once for all of them (as the node sends a commit).
 * With no stream attached a create costs what a canned answer costs, plus
 * keeping its name for a stream that attaches late.
 */
class EchoWatch {
  private readonly subscribers = new Set<EchoSubscriber>();
  private readonly history: Array<{ name: string; revision: number }> = [];
  private revision = 0;
  private readonly serialize = (services.Mailboxes.service['Watch'] as { responseSerialize(value: object): Buffer }).responseSerialize;

  constructor(private readonly createResponse: { mailbox?: object | null }) {}

  private event(name: string, revision: number): Buffer {
    const mailbox = { ...(this.createResponse.mailbox ?? {}), name };
    return this.serialize({ type: 'PUT', mailbox, revision });
  }

  readonly watch: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    const request = call.request as { prefixes?: unknown; from_revision?: unknown } | null;
    const prefixes = Array.isArray(request?.prefixes) ? request.prefixes.map(String) : [];
    const fromRevision = Number(request?.from_revision ?? 0);
    const subscriber = { call, prefixes };
    for (const past of this.history) {
      if (past.revision > fromRevision && watches(subscriber, past.name)) call.write(this.event(past.name, past.revision));
    }
    this.subscribers.add(subscriber);
    const detach = (): void => {
      this.subscribers.delete(subscriber);
    };
    call.on('cancelled', detach);
    call.on('close', detach);
  };

  readonly createMailbox: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
    const name = String((call.request as { mailbox?: { name?: unknown } } | null)?.mailbox?.name ?? '');
    this.revision += 1;
    this.history.push({ name, revision: this.revision });
    if (this.history.length > watchHistoryMax) this.history.shift();
    let event: Buffer | null = null;
    for (const subscriber of this.subscribers) {
      if (!watches(subscriber, name)) continue;
      event ??= this.event(name, this.revision);
      subscriber.call.write(event);
    }
    callback(null, this.createResponse);
  };
}

/** Starts the echo server on `listen`; resolves with its port. */
export async function startEchoServer(responses: CannedResponses, listen: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(grpcServerOptions);
  const mailboxes: grpc.UntypedServiceImplementation = {};
  const placement: grpc.UntypedServiceImplementation = {};
  for (const [method, response] of Object.entries(responses)) {
    if (method === 'ResolveUser') placement[method] = canned(response);
    else if (method === 'LookupStream') mailboxes[method] = cannedStream(response);
    else if (method === 'CreateMailbox') {
      const watch = new EchoWatch(response);
      mailboxes['CreateMailbox'] = watch.createMailbox;
      mailboxes['Watch'] = watch.watch;
    } else mailboxes[method] = canned(response);
  }
  server.addService(passEncodedResponses(services.Mailboxes.service, ['Watch']), mailboxes);
  server.addService(services.Placement.service, placement);
  // The Watch bench asks Status for the revision to watch from: the echo has none.
  server.addService(services.Cluster.service, { Status: canned({ engine: 'echo', applied_revision: 0 }) });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return { server, port };
}

/** `mbdir bench echo --responses FILE`: runs the echo server until killed and prints where. */
export async function runEchoServer(responsesPath: string, listen: string): Promise<void> {
  const responses = JSON.parse(readFileSync(responsesPath, 'utf8')) as CannedResponses;
  const { port } = await startEchoServer(responses, listen);
  process.stdout.write(`echo serving gRPC on 127.0.0.1:${port}\n`);
}
