/**
 * A running mbdir node: the store, the engine, the directory and the adapters,
 * started in order and stopped in reverse. `mbdir serve` and the tests use it;
 * it reads no flags and no environment (tools/ does that). `stop` is the one
 * graceful stop path: every adapter (gRPC, and any added with addAdapter)
 * drains, Watch streams end with their resumable status, calls in flight get
 * limits.shutdownGraceMs, then what is left is cut and the store closes.
 */
import * as grpc from '@grpc/grpc-js';
import { useCodecFallbackLogger } from '../api/codec-fallbacks.js';
import { Directory } from '../directory/directory.js';
import { defaultWatchBounds, WatchHub, type WatchBounds } from '../directory/watch.js';
import type { Logger } from '../logging.js';
import { limits } from '../model/limits.js';
import type { NodeAdapter } from './adapter.js';
import type { Engine } from '../replication/engine.js';
import { StandaloneEngine } from '../replication/standalone.js';
import { ReadPool } from '../store/read-pool.js';
import { defaultCacheMebibytes, Store, type SynchronousMode } from '../store/store.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from './auth/roles.js';
import type { CallGuard } from './grpc/calls.js';
import { createGrpcServer, defaultGrpcListenerBounds, guardedGrpcAdapter, listenGrpc } from './grpc/server.js';
import type { GuardedListener, ListenerBounds } from './guarded-listener.js';
import { HttpListener, type HttpRoute } from './http/listener.js';
import { opsRoutes, type OpsRoutesOptions } from './http/ops-routes.js';
import { resolveRoutes } from './http/resolve-routes.js';
import { ReadinessMonitor } from './readiness-monitor.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import { MupdateListener } from './mupdate/listener.js';
import type { LiteralStyle } from './mupdate/writer.js';
import type { RecipientRules } from '../model/recipients.js';
import { dovecotDictProtocol } from './dovecot-dict/passdb.js';
import type { DictCommand } from './dovecot-dict/protocol.js';
import { FramedServer, type ProtocolObserver } from './framed-server.js';
import { socketmapProtocol } from './socketmap/maps.js';

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
  /** The gRPC listener's connection bounds; the limits when absent (tests shrink them). */
  grpcListenerBounds?: ListenerBounds;
  /** Overrides limits.reservationTtlMs (tests of reservation expiry). */
  reservationTtlMs?: number;
  /** Builds the etcd engine when `engine` is etcd (kept out of this module's imports). */
  etcdEngine?: (store: Store) => Engine;
  /** The HTTP adapter (nginx auth_http, JSON resolve); off when absent. */
  http?: HttpConfig;
  /** The MUPDATE listener (off when absent). */
  mupdate?: MupdateConfig;
  /** Postfix socketmap on HOST:PORT (port 0 picks one); off when absent. */
  socketmap?: { host: string; port: number; rules: RecipientRules };
  /** Dovecot 2.3 passdb dict on a UNIX socket; off when absent. */
  dovecotDict?: { path: string; rules: RecipientRules; socketMode: number };
  /** Connection and idle bounds of the socketmap and Dovecot dict; the limits when absent (tests shrink them). */
  adapterBounds?: AdapterBounds;
  /** Read threads for the heavy reads (read-pool.ts); 0 or absent runs them on the main thread. */
  readThreads?: number;
  /** Nice value of the read threads (Linux; 0 or absent: the main thread's priority). */
  readThreadNice?: number;
}

export interface AdapterBounds {
  connectionsMax: number;
  idleMs: number;
}

/** The socketmap and Dovecot dict listeners, each present when configured. */
export interface MailAdapters {
  socketmap?: FramedServer<Buffer>;
  dovecotDict?: FramedServer<DictCommand>;
}

export interface HttpConfig {
  /** HOST:PORT; port 0 picks one. */
  listen: string;
  /** The caller's principal from its token header (TokenGuard.principalOfHttp). */
  principalOf: (headers: IncomingHttpHeaders) => Principal;
  /** Numeric IP:port nginx hands authenticated SMTP sessions to; '' refuses SMTP logins. */
  smtpRelay: string;
  /** From an nginx login to the directory's user id: case and local domains, as the Dovecot passdb's logins. */
  loginRules: RecipientRules;
}

/** Every HTTP route of a node: one table, so adapters added later (metrics, health) join it here. */
function httpRoutesOf(directory: Directory, http: HttpConfig, ops: Omit<OpsRoutesOptions, 'logger'>, logger: Logger): HttpRoute[] {
  return [
    ...resolveRoutes({
      directory,
      principalOf: http.principalOf,
      logger,
      smtpRelay: http.smtpRelay,
      loginRules: http.loginRules,
      onAnswer: (command, result) => ops.metrics.protocolCommand('auth_http', command, result),
    }),
    ...opsRoutes({ ...ops, logger }),
  ];
}

/** How often expired reservations are released. */
export const reservationSweepIntervalMs = 30_000;

export class MbdirNode {
  private readonly adapters: NodeAdapter[] = [];
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly store: Store,
    readonly engine: Engine,
    readonly directory: Directory,
    readonly grpcServer: grpc.Server,
    private readonly grpcListener: GuardedListener,
    /** The HTTP adapter, when configured. */
    readonly http: HttpListener | null,
    readonly metrics: NodeMetrics,
    readonly readiness: ReadinessMonitor,
    private readonly sweeper: NodeJS.Timeout,
    private readonly logger: Logger,
    readonly mupdate: MupdateListener | null,
    readonly mail: MailAdapters,
    /** The read threads, when configured. */
    readonly readPool: ReadPool | null,
  ) {}

  static async start(config: NodeConfig, logger: Logger): Promise<MbdirNode> {
    const store = new Store({
      dataDir: config.dataDir,
      synchronous: config.synchronous,
      ...(config.cacheMebibytes === undefined ? {} : { cacheMebibytes: config.cacheMebibytes }),
      // The etcd engine's view is etcd's to rebuild: a relist's bulk load cut short is discarded.
      discardInterruptedRelist: config.engine === 'etcd',
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
    await engine.start().catch(async (error: unknown) => {
      await engine.close().catch(() => undefined); // what start opened before it failed
      store.close();
      throw error;
    });
    const readPool = await startReadPool(config, store, logger).catch(async (error: unknown) => {
      await engine.close();
      store.close();
      throw error;
    });
    const closeStorage = async (): Promise<void> => {
      await readPool?.close();
      await engine.close();
      store.close();
    };
    const watchHub = new WatchHub(store, engine, config.watchBounds ?? defaultWatchBounds);
    const directory = new Directory(store, engine, {
      nodeId: config.nodeId,
      watchHub,
      readPool,
      ...(config.reservationTtlMs === undefined ? {} : { reservationTtlMs: config.reservationTtlMs }),
    });
    const metrics = new NodeMetrics(
      { version: config.version, nodeId: config.nodeId, engine: engine.kind },
      {
        appliedRevision: () => engine.appliedRevision(),
        mailboxCounts: () => {
          const reserved = store.reservedCount();
          return { active: store.mailboxCount() - reserved, reserved };
        },
        watchSubscribers: () => watchHub.subscriberCount(),
        engineStatus: () => engine.status(),
      },
    );
    engine.telemetry = metrics.engineTelemetry;
    useCodecFallbackLogger(logger.child({ component: 'codec' }));
    watchHub.onCutOff = (reason) => metrics.streamCutOff(reason);
    const { server, adapter, setServing } = createGrpcServer({
      directory,
      logger,
      guard: config.guard,
      version: config.version,
      observeCall: (service, method, type) => {
        const ended = metrics.grpcCall(service, method, type);
        return (code) => ended(grpc.status[code] ?? String(code));
      },
    });
    const readiness = new ReadinessMonitor(engine, setServing, logger.child({ component: 'readiness' }));
    const listener = await listenGrpc(server, config.listen, config.credentials, config.grpcListenerBounds ?? defaultGrpcListenerBounds, logger).catch(
      async (error: unknown) => {
        await closeStorage();
        throw error;
      },
    );
    const httpLogger = logger.child({ component: 'http' });
    let http: HttpListener | null = null;
    try {
      if (config.http !== undefined) http = await HttpListener.start(config.http.listen, httpRoutesOf(directory, config.http, { metrics, readiness: () => readiness.check() }, httpLogger), httpLogger);
    } catch (error) {
      listener.destroyAll();
      server.forceShutdown();
      await closeStorage();
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
    let mupdate: MupdateListener | null = null;
    let mail: MailAdapters = {};
    try {
      if (config.mupdate !== undefined) {
        mupdate = await MupdateListener.start({
          directory,
          logger,
          version: config.version,
          ...config.mupdate,
          onCommand: (command, result) => metrics.protocolCommand('mupdate', command, result),
        });
      }
      mail = await startMailAdapters(config, directory, logger, metrics);
    } catch (error) {
      clearInterval(sweeper);
      await mupdate?.close();
      await http?.close();
      listener.destroyAll();
      server.forceShutdown();
      await closeStorage();
      throw error;
    }
    const node = new MbdirNode(store, engine, directory, server, listener, http, metrics, readiness, sweeper, logger, mupdate, mail, readPool);
    readiness.start();
    node.addAdapter(guardedGrpcAdapter(adapter, listener));
    if (http !== null) node.addAdapter(http.adapter());
    if (mupdate !== null) node.addAdapter(mupdate.adapter());
    if (mail.socketmap !== undefined) node.addAdapter(mail.socketmap.adapter());
    if (mail.dovecotDict !== undefined) node.addAdapter(mail.dovecotDict.adapter());
    return node;
  }

  /** The gRPC port (the one picked for port 0). */
  get port(): number {
    return this.grpcListener.port;
  }

  /** Joins a listener (MUPDATE, HTTP, socketmap, ...) to the node's stop path. */
  addAdapter(adapter: NodeAdapter): void {
    this.adapters.push(adapter);
  }

  /**
   * Stops gracefully (once; later calls share the first): adapters drain (health
   * NOT_SERVING, no new calls), Watch streams end telling where to resume, calls
   * in flight get `graceMs`, then the adapters are cut and the store closes.
   */
  stop(graceMs: number = limits.shutdownGraceMs): Promise<void> {
    this.stopping ??= this.stopOnce(graceMs);
    return this.stopping;
  }

  private async stopOnce(graceMs: number): Promise<void> {
    clearInterval(this.sweeper);
    this.readiness.drain();
    for (const adapter of this.adapters) adapter.drain();
    this.directory.watchHub.endAll(`node ${this.directory.nodeId} is stopping`);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const idle = Promise.all(this.adapters.map((adapter) => adapter.idle())).then(() => true);
    const finished = await Promise.race([idle, graceOver]);
    clearTimeout(timer);
    if (!finished) this.logger.warn({ graceMs }, 'calls still in flight after the grace period; cutting them');
    await Promise.all(this.adapters.map((adapter) => adapter.close()));
    await this.readPool?.close();
    await this.engine.close();
    this.store.close();
    this.logger.info({ drained: finished }, 'stopped');
  }
}

/** Starts the read threads when configured (not for an in-memory store: they need the file) and joins them to the store's cache forgets. */
async function startReadPool(config: NodeConfig, store: Store, logger: Logger): Promise<ReadPool | null> {
  const threads = config.readThreads ?? 0;
  if (threads === 0 || store.path === ':memory:') return null;
  const pool = await ReadPool.start({
    threads,
    dataDir: config.dataDir,
    cacheMebibytes: config.cacheMebibytes ?? defaultCacheMebibytes,
    nice: config.readThreadNice ?? 0,
    script: new URL('./read-worker.js', import.meta.url),
    onThreadExit: (info) => logger.error(info, 'a read thread exited; it is replaced and its reads run again'),
  });
  store.cacheListener = pool;
  return pool;
}

/** Starts the configured socketmap and Dovecot dict listeners; on a failure, closes those already started. */
async function startMailAdapters(config: NodeConfig, directory: Directory, logger: Logger, observer: ProtocolObserver): Promise<MailAdapters> {
  const mail: MailAdapters = {};
  try {
    if (config.socketmap !== undefined) {
      mail.socketmap = await FramedServer.start({
        protocol: socketmapProtocol(directory, config.socketmap.rules),
        listen: { host: config.socketmap.host, port: config.socketmap.port },
        connectionsMax: config.adapterBounds?.connectionsMax ?? limits.socketmapConnectionsMax,
        idleMs: config.adapterBounds?.idleMs ?? limits.socketmapIdleMs,
        logger: logger.child({ component: 'socketmap' }),
        observer,
      });
    }
    if (config.dovecotDict !== undefined) {
      const dictLogger = logger.child({ component: 'dovecot-dict' });
      mail.dovecotDict = await FramedServer.start({
        protocol: dovecotDictProtocol(directory, config.dovecotDict.rules, dictLogger),
        listen: { path: config.dovecotDict.path },
        connectionsMax: config.adapterBounds?.connectionsMax ?? limits.dovecotDictConnectionsMax,
        idleMs: config.adapterBounds?.idleMs ?? limits.dovecotDictIdleMs,
        logger: dictLogger,
        socketMode: config.dovecotDict.socketMode,
        observer,
      });
    }
  } catch (error) {
    await Promise.all([mail.socketmap?.close(), mail.dovecotDict?.close()]);
    throw error;
  }
  return mail;
}
