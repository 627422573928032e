/**
 * The gRPC server: mbdir.v1 services, the standard health service and server
 * reflection, with transport limits set explicitly (message size, concurrent
 * streams, keepalive) rather than trusting grpc-js defaults.
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Directory } from '../../directory/directory.js';
import type { Logger } from '../../logging.js';
import type { Principal } from '../auth/roles.js';
import { limits } from '../../model/limits.js';
import { unobserved, type CallContext, type CallGuard, type CallObserver, type CallType } from './calls.js';
import { mailboxesService } from './mailboxes-service.js';
import { clusterService, placementService } from './placement-service.js';
import { packageDefinition, passEncodedResponses, services } from './proto.js';

export interface GrpcServerOptions {
  directory: Directory;
  logger: Logger;
  guard: CallGuard;
  version: string;
  /** Metrics of every call, by service (fully qualified), method and type; none when absent. */
  observeCall?: (service: string, method: string, type: CallType) => (code: grpc.status) => void;
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
  const base = {
    guard: options.guard,
    logger: options.logger.child({ component: 'grpc' }),
    directoryFor: (principal: Principal) =>
      principal.role.kind === 'backend' ? options.directory.scopedTo(principal.role.server) : options.directory,
  };
  const observeCall = options.observeCall;
  const contextOf = (service: string): CallContext => {
    const observe: CallObserver =
      observeCall === undefined ? unobserved : (method, type) => observeCall(service, method, type);
    return { ...base, observe };
  };
  // Watch writes each change event encoded once for all its subscribers (mailboxes-service.ts).
  server.addService(passEncodedResponses(services.Mailboxes.service, ['Watch']), mailboxesService(contextOf('mbdir.v1.Mailboxes')));
  server.addService(services.Placement.service, placementService(contextOf('mbdir.v1.Placement')));
  server.addService(services.Cluster.service, clusterService(contextOf('mbdir.v1.Cluster'), options.version));
  const health = new HealthImplementation({
    '': 'SERVING',
    'mbdir.v1.Mailboxes': 'SERVING',
    'mbdir.v1.Placement': 'SERVING',
    'mbdir.v1.Cluster': 'SERVING',
  });
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);
  return { server, health };
}

/** Binds and resolves with the bound port (the requested one, or the one picked for port 0). */
export function bindGrpcServer(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error === null ? resolve(port) : reject(error)));
  });
}
