/**
 * The transport's floor: a bare grpc-js server with mbdir.v1's own service
 * definitions (so the same request and response messages cross the wire, with
 * the same proto-loader serialization) that answers every call with a canned
 * response taken from the real node in the same run. No store, no rules: what
 * it costs is what gRPC costs, and each unary figure is reported against it.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { services } from '../../src/server/grpc/proto.js';
import { grpcServerOptions } from '../../src/server/grpc/server.js';

export type CannedResponses = Record<string, Record<string, unknown>>;

function canned(response: Record<string, unknown>): grpc.handleUnaryCall<unknown, unknown> {
  return (_call, callback) => callback(null, response);
}

/** A duplex that answers every message with the same response, as LookupStream answers each message with one. */
function cannedStream(response: Record<string, unknown>): grpc.handleBidiStreamingCall<unknown, unknown> {
  return (call) => {
    call.on('data', () => call.write(response));
    call.on('end', () => call.end());
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
    else mailboxes[method] = canned(response);
  }
  server.addService(services.Mailboxes.service, mailboxes);
  server.addService(services.Placement.service, placement);
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
