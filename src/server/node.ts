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
import { limits } from '../model/limits.js';
import type { RecipientRules } from '../model/recipients.js';
import { dovecotDictProtocol } from './dovecot-dict/passdb.js';
import type { DictCommand } from './dovecot-dict/protocol.js';
import { FramedServer } from './framed-server.js';
import type { CallGuard } from './grpc/calls.js';
import { bindGrpcServer, createGrpcServer } from './grpc/server.js';
import { socketmapProtocol } from './socketmap/maps.js';

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
  /** Overrides limits.reservationTtlMs (tests of reservation expiry). */
  reservationTtlMs?: number;
  /** Builds the etcd engine when `engine` is etcd (kept out of this module's imports). */
  etcdEngine?: (store: Store) => Engine;
  /** Postfix socketmap on HOST:PORT (port 0 picks one); off when absent. */
  socketmap?: { host: string; port: number; rules: RecipientRules };
  /** Connection and idle bounds of the socket adapters; the limits when absent (tests shrink them). */
  adapterBounds?: AdapterBounds;
  /** Dovecot 2.3 passdb dict on a UNIX socket; off when absent. */
  dovecotDict?: { path: string; rules: RecipientRules; socketMode: number };
}

export interface AdapterBounds {
  connectionsMax: number;
  idleMs: number;
}

/** The node's adapters beside gRPC, each present when configured. */
export interface NodeAdapters {
  socketmap?: FramedServer<Buffer>;
  dovecotDict?: FramedServer<DictCommand>;
}

/** How often expired reservations are released. */
export const reservationSweepIntervalMs = 30_000;

export class MbdirNode {
  private constructor(
    readonly store: Store,
    readonly engine: Engine,
    readonly directory: Directory,
    readonly grpcServer: grpc.Server,
    readonly port: number,
    private readonly sweeper: NodeJS.Timeout,
    private readonly logger: Logger,
    readonly adapters: NodeAdapters,
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
    let port: number;
    let adapters: NodeAdapters;
    try {
      port = await bindGrpcServer(server, config.listen, config.credentials);
      adapters = await startAdapters(config, directory, logger);
    } catch (error) {
      server.forceShutdown();
      await engine.close();
      store.close();
      throw error;
    }
    const sweeper = setInterval(() => {
      directory.sweepReservations().then(
        (released) => {
          if (released > 0) logger.info({ released }, 'released expired reservations');
        },
        (error: unknown) => logger.warn({ err: error }, 'reservation sweep failed'),
      );
    }, reservationSweepIntervalMs);
    sweeper.unref();
    return new MbdirNode(store, engine, directory, server, port, sweeper, logger, adapters);
  }

  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then closes the store. */
  async stop(graceMs = 5000): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([this.adapters.socketmap?.close(), this.adapters.dovecotDict?.close()]);
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
    await this.engine.close();
    this.store.close();
    this.logger.info('stopped');
  }
}

/** Starts the configured socket adapters; on a failure, closes those already started. */
async function startAdapters(config: NodeConfig, directory: Directory, logger: Logger): Promise<NodeAdapters> {
  const adapters: NodeAdapters = {};
  try {
    if (config.socketmap !== undefined) {
      adapters.socketmap = await FramedServer.start({
        protocol: socketmapProtocol(directory, config.socketmap.rules),
        listen: { host: config.socketmap.host, port: config.socketmap.port },
        connectionsMax: config.adapterBounds?.connectionsMax ?? limits.socketmapConnectionsMax,
        idleMs: config.adapterBounds?.idleMs ?? limits.socketmapIdleMs,
        logger: logger.child({ component: 'socketmap' }),
      });
    }
    if (config.dovecotDict !== undefined) {
      const dictLogger = logger.child({ component: 'dovecot-dict' });
      adapters.dovecotDict = await FramedServer.start({
        protocol: dovecotDictProtocol(directory, config.dovecotDict.rules, dictLogger),
        listen: { path: config.dovecotDict.path },
        connectionsMax: config.adapterBounds?.connectionsMax ?? limits.dovecotDictConnectionsMax,
        idleMs: config.adapterBounds?.idleMs ?? limits.dovecotDictIdleMs,
        logger: dictLogger,
        socketMode: config.dovecotDict.socketMode,
      });
    }
  } catch (error) {
    await Promise.all([adapters.socketmap?.close(), adapters.dovecotDict?.close()]);
    throw error;
  }
  return adapters;
}
