/**
 * The gRPC server: mbdir.v1 services, the standard health service and server
 * reflection, with transport limits set explicitly (message size, concurrent
 * streams, keepalive) rather than trusting grpc-js defaults. As a NodeAdapter
 * it drains by reporting NOT_SERVING and refusing new calls, counts mbdir
 * calls in flight, and cuts what is left (health watches included) on close.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { setTimeout as delay } from 'node:timers/promises';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Directory } from '../../directory/directory.js';
import type { Logger } from '../../logging.js';
import { limits } from '../../model/limits.js';
import { InFlight, type NodeAdapter } from '../adapter.js';
import { clusterAdminService } from './backup-service.js';
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

/** The names the health service answers for: the whole server and each mbdir service. */
const healthServiceNames = ['', 'mbdir.v1.Mailboxes', 'mbdir.v1.Placement', 'mbdir.v1.Cluster'] as const;

export interface MbdirGrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** The server as one of the node's adapters (graceful stop). */
  adapter: NodeAdapter;
}

export function createGrpcServer(options: GrpcServerOptions): MbdirGrpcServer {
  const server = new grpc.Server(grpcServerOptions);
  const logger = options.logger.child({ component: 'grpc' });
  const stopping = new AbortController();
  const context: CallContext = {
    guard: options.guard,
    logger,
    directoryFor: (principal) =>
      principal.role.kind === 'backend' ? options.directory.scopedTo(principal.role.server) : options.directory,
    inFlight: new InFlight(),
    stopping: stopping.signal,
  };
  // Watch writes each change event encoded once for all its subscribers (mailboxes-service.ts).
  server.addService(passEncodedResponses(services.Mailboxes.service, ['Watch']), mailboxesService(context));
  server.addService(services.Placement.service, placementService(context));
  server.addService(services.Cluster.service, {
    ...clusterService(context, options.version),
    ...clusterAdminService(context),
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
      // watched through context.inFlight: health watches never end, so this may never call back.
      shutDown = new Promise((resolve) => server.tryShutdown(() => resolve()));
      stopping.abort();
      logger.info({ inFlight: context.inFlight.size }, 'draining: health NOT_SERVING, new calls refused');
    },
    idle: () => context.inFlight.idle(),
    close: async () => {
      if (context.inFlight.size > 0) logger.warn({ inFlight: context.inFlight.size }, 'cutting calls still in flight');
      else await Promise.race([shutDown, delay(limits.shutdownFlushMs)]); // the last statuses leave first
      server.forceShutdown();
    },
  };
  return { server, health, adapter };
}

/** Binds and resolves with the bound port (the requested one, or the one picked for port 0). */
export function bindGrpcServer(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error === null ? resolve(port) : reject(error)));
  });
}
