/**
 * The gRPC server: mbdir.v1 services, the standard health service and server
 * reflection, with transport limits set explicitly (message size, concurrent
 * streams, keepalive, idle connections) rather than trusting grpc-js defaults.
 * Its socket is a guarded listener (connection count, handshake and idle
 * timeouts) that hands each admitted connection to grpc-js: grpc-js alone
 * keeps a connection that never sends a byte open forever.
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Directory } from '../../directory/directory.js';
import type { Socket } from 'node:net';
import type { Logger } from '../../logging.js';
import { limits } from '../../model/limits.js';
import { GuardedListener, type ListenerBounds } from '../guarded-listener.js';
import type { CallContext, CallGuard } from './calls.js';
import { mailboxesService } from './mailboxes-service.js';
import { clusterService, placementService } from './placement-service.js';
import { packageDefinition, passEncodedResponses, services } from './proto.js';

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
  'grpc.keepalive_time_ms': limits.grpcKeepaliveTimeMs,
  'grpc.keepalive_timeout_ms': limits.grpcKeepaliveTimeoutMs,
  'grpc.max_connection_idle_ms': limits.grpcConnectionIdleMs,
  // No grpc.max_connection_age_ms: it would move Watch streams, which live for days, for no bound gained.
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
  new ReflectionService(packageDefinition).addToServer(server);
  return { server, health };
}

export const defaultGrpcListenerBounds: ListenerBounds = {
  connectionsMax: limits.grpcConnectionsMax,
  handshakeTimeoutMs: limits.grpcHandshakeTimeoutMs,
  idleTimeoutMs: limits.grpcSocketIdleTimeoutMs,
};

/** The client's first bytes: HTTP/2's 24-byte connection preface, or a TLS ClientHello (longer). */
const handshakeBytesMin = 24;

/**
 * Listens on `address` through a guarded listener and serves each admitted
 * connection with `server` (plaintext or TLS as `credentials` say); resolves
 * with the listener, whose port is the one picked for port 0.
 */
export function listenGrpc(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials,
  bounds: ListenerBounds,
  logger: Logger,
): Promise<GuardedListener> {
  const injector = server.createConnectionInjector(credentials);
  return GuardedListener.listen(address, {
    protocol: 'gRPC',
    bounds,
    refusalLogIntervalMs: limits.listenerRefusalLogIntervalMs,
    handshakeDone: (socket: Socket) => socket.bytesRead >= handshakeBytesMin,
    onConnection: (socket: Socket) => injector.injectConnection(socket),
    logger,
  });
}
