/**
 * The gRPC server: mbdir.v1 services, the standard health service and server
 * reflection, with transport limits set explicitly (message size, concurrent
 * streams, keepalive) rather than trusting grpc-js defaults.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Directory } from '../../directory/directory.js';
import type { Logger } from '../../logging.js';
import { limits } from '../../model/limits.js';
import type { CallContext, CallGuard } from './calls.js';
import { mailboxesService } from './mailboxes-service.js';
import { clusterService, placementService } from './placement-service.js';
import { loaderOptions, packageDefinition, passEncodedResponses, services } from './proto.js';

export interface GrpcServerOptions {
  directory: Directory;
  logger: Logger;
  guard: CallGuard;
  version: string;
}

export const grpcServerOptions: grpc.ServerOptions = {
  'grpc.max_receive_message_length': limits.grpcMessageBytesMax,
  'grpc.max_send_message_length': limits.grpcMessageBytesMax,
  'grpc.max_concurrent_streams': limits.grpcConcurrentStreamsMax,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  // Channelz (per-call counters for a channelz admin service we do not serve) costs every call.
  'grpc.enable_channelz': 0,
};

export interface MbdirGrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
}

export function createGrpcServer(options: GrpcServerOptions): MbdirGrpcServer {
  const server = new grpc.Server(grpcServerOptions);
  const context: CallContext = {
    guard: options.guard,
    logger: options.logger.child({ component: 'grpc' }),
    directoryFor: (principal) =>
      principal.role.kind === 'backend' ? options.directory.scopedTo(principal.role.server) : options.directory,
  };
  // Watch writes each change event encoded once for all its subscribers (mailboxes-service.ts).
  server.addService(passEncodedResponses(services.Mailboxes.service, ['Watch']), mailboxesService(context));
  server.addService(services.Placement.service, placementService(context));
  server.addService(services.Cluster.service, clusterService(context, options.version));
  const health = new HealthImplementation({
    '': 'SERVING',
    'mbdir.v1.Mailboxes': 'SERVING',
    'mbdir.v1.Placement': 'SERVING',
    'mbdir.v1.Cluster': 'SERVING',
  });
  health.addToServer(server);
  // Reflection describes every service served, the health service's contract included (`grpcurl list`).
  new ReflectionService({ ...packageDefinition, ...protoLoader.loadSync(healthProtoPath, loaderOptions) }).addToServer(server);
  return { server, health };
}

/** Binds and resolves with the bound port (the requested one, or the one picked for port 0). */
export function bindGrpcServer(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error === null ? resolve(port) : reject(error)));
  });
}
