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
import type { Principal } from './auth/roles.js';
import type { CallGuard } from './grpc/calls.js';
import { bindGrpcServer, createGrpcServer } from './grpc/server.js';
import { MupdateListener } from './mupdate/listener.js';
import type { LiteralStyle } from './mupdate/writer.js';

/** The MUPDATE adapter's settings, when it is on. */
export interface MupdateConfig {
  listen: string;
  literals: LiteralStyle;
  /** The banner's host name. */
  host: string;
  principalOf(password: string): Principal;
  /** Lowered bounds (tests only): limits.mupdateConnectionsMax and mupdatePendingNamesMax otherwise. */
  connectionsMax?: number;
  pendingNamesMax?: number;
}

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
  /** The MUPDATE listener (off when absent). */
  mupdate?: MupdateConfig;
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
    readonly mupdate: MupdateListener | null,
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
    const port = await bindGrpcServer(server, config.listen, config.credentials);
    const sweeper = setInterval(() => {
      directory.sweepReservations().then(
        (released) => {
          if (released > 0) logger.info({ released }, 'released expired reservations');
        },
        (error: unknown) => logger.warn({ err: error }, 'reservation sweep failed'),
      );
    }, reservationSweepIntervalMs);
    sweeper.unref();
    const mupdate =
      config.mupdate === undefined
        ? null
        : await MupdateListener.start({ directory, logger, version: config.version, ...config.mupdate });
    return new MbdirNode(store, engine, directory, server, port, sweeper, logger, mupdate);
  }

  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then closes the store. */
  async stop(graceMs = 5000): Promise<void> {
    clearInterval(this.sweeper);
    await this.mupdate?.close();
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
