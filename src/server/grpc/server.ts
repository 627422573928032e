/**
 * The gRPC server: mbdir.v1 services, the standard health service and server
 * reflection, with transport limits set explicitly (message size, concurrent
 * streams, keepalive, idle connections) rather than trusting grpc-js defaults.
 * Its socket is a guarded listener (connection count, handshake and idle
 * timeouts) that hands each admitted connection to grpc-js: grpc-js alone
 * keeps a connection that never sends a byte open forever. As a NodeAdapter
 * it drains by reporting NOT_SERVING and refusing new calls, counts mbdir
 * calls in flight, and cuts what is left (health watches included) on close.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { setTimeout as delay } from 'node:timers/promises';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Directory } from '../../directory/directory.js';
import type { Socket } from 'node:net';
import type { Logger } from '../../logging.js';
import type { Principal } from '../auth/roles.js';
import { limits } from '../../model/limits.js';
import { InFlight, type NodeAdapter } from '../adapter.js';
import { clusterAdminService } from './backup-service.js';
import { unobserved, type CallContext, type CallGuard, type CallObserver, type CallType } from './calls.js';
import { GuardedListener, type ListenerBounds } from '../guarded-listener.js';
import { mailboxesService } from './mailboxes-service.js';
import { clusterService, placementService } from './placement-service.js';
import { loaderOptions, packageDefinition, passEncodedResponses, services } from '../../api/proto.js';

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
  'grpc.keepalive_time_ms': limits.grpcKeepaliveTimeMs,
  'grpc.keepalive_timeout_ms': limits.grpcKeepaliveTimeoutMs,
  'grpc.max_connection_idle_ms': limits.grpcConnectionIdleMs,
  // No grpc.max_connection_age_ms: it would move Watch streams, which live for days, for no bound gained.
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  // Channelz (per-call counters for a channelz admin service we do not serve) costs every call.
  'grpc.enable_channelz': 0,
};

/** The names the health service answers for: the whole server and each mbdir service. */
const healthServiceNames = ['', 'mbdir.v1.Mailboxes', 'mbdir.v1.Placement', 'mbdir.v1.Cluster'] as const;

export interface MbdirGrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** The server as one of the node's adapters (graceful stop). */
  adapter: NodeAdapter;
  /** Reports readiness to the health service: every service SERVING or NOT_SERVING together. */
  setServing(serving: boolean): void;
}

export function createGrpcServer(options: GrpcServerOptions): MbdirGrpcServer {
  const server = new grpc.Server(grpcServerOptions);
  const logger = options.logger.child({ component: 'grpc' });
  const stopping = new AbortController();
  const inFlight = new InFlight();
  const base = {
    guard: options.guard,
    logger,
    directoryFor: (principal: Principal) =>
      principal.role.kind === 'backend' ? options.directory.scopedTo(principal.role.server) : options.directory,
    inFlight,
    stopping: stopping.signal,
  };
  const observeCall = options.observeCall;
  const contextOf = (service: string): CallContext => {
    const observe: CallObserver =
      observeCall === undefined ? unobserved : (method, type) => observeCall(service, method, type);
    return { ...base, observe };
  };
  // Watch writes each change event encoded once for all its subscribers (mailboxes-service.ts).
  server.addService(passEncodedResponses(services.Mailboxes.service, ['Watch', 'ListMailboxes', 'ScanMailboxes', 'LookupMailboxes', 'LookupStream']), mailboxesService(contextOf('mbdir.v1.Mailboxes')));
  server.addService(services.Placement.service, placementService(contextOf('mbdir.v1.Placement')));
  const clusterContext = contextOf('mbdir.v1.Cluster');
  server.addService(services.Cluster.service, {
    ...clusterService(clusterContext, options.version),
    ...clusterAdminService(clusterContext),
  });
  const health = new HealthImplementation(Object.fromEntries(healthServiceNames.map((name) => [name, 'SERVING'])));
  health.addToServer(server);
  // Reflection describes every service served, the health service's contract included (`grpcurl list`).
  new ReflectionService({ ...packageDefinition, ...protoLoader.loadSync(healthProtoPath, loaderOptions) }).addToServer(server);
  let shutDown: Promise<void> = Promise.resolve();
  const adapter: NodeAdapter = {
    protocol: 'gRPC',
    drain: () => {
      for (const name of healthServiceNames) health.setStatus(name, 'NOT_SERVING');
      // Stops the listener and refuses new calls (GOAWAY); calls in flight go on. Their end is
      // watched through inFlight: health watches never end, so this may never call back.
      shutDown = new Promise((resolve) => server.tryShutdown(() => resolve()));
      stopping.abort();
      logger.info({ inFlight: inFlight.size }, 'draining: health NOT_SERVING, new calls refused');
    },
    idle: () => inFlight.idle(),
    close: async () => {
      if (inFlight.size > 0) logger.warn({ inFlight: inFlight.size }, 'cutting calls still in flight');
      else await Promise.race([shutDown, delay(limits.shutdownFlushMs)]); // the last statuses leave first
      server.forceShutdown();
    },
  };
  const setServing = (serving: boolean): void => {
    for (const name of healthServiceNames) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  return { server, health, adapter, setServing };
}

/** The gRPC adapter with its guarded listener: drain stops accepting too; close cuts every connection left. */
export function guardedGrpcAdapter(adapter: NodeAdapter, listener: GuardedListener): NodeAdapter {
  let listenerClosed: Promise<void> = Promise.resolve();
  return {
    protocol: adapter.protocol,
    drain: () => {
      listenerClosed = listener.stopAccepting();
      adapter.drain();
    },
    idle: () => adapter.idle(),
    close: async () => {
      await adapter.close();
      listener.destroyAll();
      await listenerClosed;
    },
  };
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
