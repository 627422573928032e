/**
 * A running mbdir node: the store, the engine, the directory and the adapters,
 * started in order and stopped in reverse. `mbdir serve` and the tests use it;
 * it reads no flags and no environment (tools/ does that).
 */
import * as grpc from '@grpc/grpc-js';
import { Directory } from '../directory/directory.js';
import { defaultWatchBounds, WatchHub, type WatchBounds } from '../directory/watch.js';
import type { Logger } from '../logging.js';
import type { Engine } from '../replication/engine.js';
import { StandaloneEngine } from '../replication/standalone.js';
import { Store, type SynchronousMode } from '../store/store.js';
import type { CallGuard } from './grpc/calls.js';
import { createGrpcServer, defaultGrpcListenerBounds, listenGrpc } from './grpc/server.js';
import type { GuardedListener, ListenerBounds } from './guarded-listener.js';

export interface NodeConfig {
  engine: 'standalone' | 'etcd';
  dataDir: string;
  listen: string;
  synchronous: SynchronousMode;
  /** SQLite page cache; defaultCacheMebibytes when absent. */
  cacheMebibytes?: number;
  nodeId: string;
  version: string;
  guard: CallGuard;
  credentials: grpc.ServerCredentials;
  /** Watch bounds; the limits when absent (tests shrink them to exercise a cut-off cheaply). */
  watchBounds?: WatchBounds;
  /** The gRPC listener's connection bounds; the limits when absent (tests shrink them). */
  grpcListenerBounds?: ListenerBounds;
  /** Overrides limits.reservationTtlMs (tests of reservation expiry). */
  reservationTtlMs?: number;
  /** Builds the etcd engine when `engine` is etcd (kept out of this module's imports). */
  etcdEngine?: (store: Store) => Engine;
}

/** How often expired reservations are released. */
export const reservationSweepIntervalMs = 30_000;

export class MbdirNode {
  private constructor(
    readonly store: Store,
    readonly engine: Engine,
    readonly directory: Directory,
    readonly grpcServer: grpc.Server,
    private readonly grpcListener: GuardedListener,
    private readonly sweeper: NodeJS.Timeout,
    private readonly logger: Logger,
  ) {}

  static async start(config: NodeConfig, logger: Logger): Promise<MbdirNode> {
    const store = new Store({
      dataDir: config.dataDir,
      synchronous: config.synchronous,
      ...(config.cacheMebibytes === undefined ? {} : { cacheMebibytes: config.cacheMebibytes }),
      onSchemaUpgrade: (from, to) =>
        logger.warn({ dataDir: config.dataDir, from, to }, 'upgrading the data directory schema before serving (a table rebuild takes about a minute per 2M mailboxes)'),
    });
    let engine: Engine;
    if (config.engine === 'etcd') {
      if (config.etcdEngine === undefined) throw new Error('the etcd engine is not available in this build');
      engine = config.etcdEngine(store);
    } else {
      engine = new StandaloneEngine(store);
    }
    await engine.start();
    const watchHub = new WatchHub(store, engine, config.watchBounds ?? defaultWatchBounds);
    const directory = new Directory(store, engine, {
      nodeId: config.nodeId,
      watchHub,
      ...(config.reservationTtlMs === undefined ? {} : { reservationTtlMs: config.reservationTtlMs }),
    });
    const { server } = createGrpcServer({ directory, logger, guard: config.guard, version: config.version });
    const listener = await listenGrpc(server, config.listen, config.credentials, config.grpcListenerBounds ?? defaultGrpcListenerBounds, logger);
    const sweeper = setInterval(() => {
      directory.sweepReservations().then(
        (released) => {
          if (released > 0) logger.info({ released }, 'released expired reservations');
        },
        (error: unknown) => logger.warn({ err: error }, 'reservation sweep failed'),
      );
    }, reservationSweepIntervalMs);
    sweeper.unref();
    return new MbdirNode(store, engine, directory, server, listener, sweeper, logger);
  }

  /** The gRPC port (the one picked for port 0). */
  get port(): number {
    return this.grpcListener.port;
  }

  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then closes the store. */
  async stop(graceMs = 5000): Promise<void> {
    clearInterval(this.sweeper);
    const listenerClosed = this.grpcListener.stopAccepting();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, graceMs);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.grpcListener.destroyAll();
    await listenerClosed;
    await this.engine.close();
    this.store.close();
    this.logger.info('stopped');
  }
}
