/**
 * `mbdir serve`: resolves settings, refuses unsafe ones (a non-loopback listen
 * address without tokens), takes the data directory's lock before anything else
 * (one node per directory), loads tokens and TLS material, starts a node, reloads
 * the token file on SIGHUP and stops gracefully on SIGINT or SIGTERM (a second
 * signal exits at once; src/server/node.ts stops the node). One line on
 * stdout says where it serves; the rest goes to the JSON log on stderr.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { createLogger, type Logger } from '../../src/logging.js';
import { lowerHelperThreads, mainThreadRealtimePriority, setRealtimePriority } from '../../src/server/node-entry.js';
import { createSecureContext } from 'node:tls';
import type { EtcdTls } from '../../src/replication/etcd-client.js';
import { EtcdEngine } from '../../src/replication/etcd-engine.js';
import { limits } from '../../src/model/limits.js';
import {
  DataDirLock,
  defaultGrpcListenerBounds,
  MbdirNode,
  TokenGuard,
  TokenTable,
  type AdapterBounds,
  type ListenerBounds,
  type NodeConfig,
} from '../../src/server/node-entry.js';
import { defaultWatchBounds, type WatchBounds } from '../../src/directory/watch.js';
import { recipientRulesOf, type RecipientRules } from '../../src/model/recipients.js';
import { isLoopbackListen, readThreadsOf, type ServeSettings } from './config.js';
import { missingServeNodeFlags } from '../node-flags.js';

export const version = '0.1.0';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Server credentials: plaintext, TLS, or TLS requiring client certificates. */
function credentialsOf(settings: ServeSettings): grpc.ServerCredentials {
  if (settings.tlsCert === '' && settings.tlsKey === '') {
    if (settings.tlsClientCa !== '') throw new Error('--tls-client-ca needs --tls-cert and --tls-key');
    return grpc.ServerCredentials.createInsecure();
  }
  if (settings.tlsCert === '' || settings.tlsKey === '') throw new Error('--tls-cert and --tls-key go together');
  const clientCa = settings.tlsClientCa === '' ? null : readPem(settings.tlsClientCa, 'client CA');
  return grpc.ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: readPem(settings.tlsCert, 'certificate'), private_key: readPem(settings.tlsKey, 'key') }],
    clientCa !== null,
  );
}

/**
 * How the node reaches etcd over TLS: undefined for http:// endpoints. The
 * settings were checked together by resolveServeSettings; the files are read here.
 */
function etcdTlsOf(settings: ServeSettings): EtcdTls | undefined {
  if (!settings.etcdEndpoints.startsWith('https://')) return undefined;
  const files = [settings.etcdCa, settings.etcdCert, settings.etcdKey].filter((file) => file !== '').join(', ');
  const etcdTls = {
    ca: settings.etcdCa === '' ? null : readPem(settings.etcdCa, 'etcd CA'),
    cert: settings.etcdCert === '' ? null : readPem(settings.etcdCert, 'etcd client certificate'),
    key: settings.etcdKey === '' ? null : readPem(settings.etcdKey, 'etcd client key'),
  };
  // Checked here, before the store opens: OpenSSL's own message names no file.
  try {
    createSecureContext({ ...(etcdTls.ca === null ? {} : { ca: etcdTls.ca }), ...(etcdTls.cert === null ? {} : { cert: etcdTls.cert }), ...(etcdTls.key === null ? {} : { key: etcdTls.key }) });
  } catch (error) {
    throw new Error(`etcd TLS files ${files} are not a usable CA, certificate and key: ${(error as Error).message}`);
  }
  return etcdTls;
}

function loadTokens(settings: ServeSettings, logger: Logger): TokenGuard {
  if (settings.tokens === '') {
    for (const [flag, listen] of [['--listen', settings.listen], ['--http-listen', settings.httpListen]] as const) {
      if (listen === '' || isLoopbackListen(listen)) continue;
      throw new Error(
        `refusing to listen on ${listen} without --tokens (${flag}): anyone reaching it could redirect mail. ` +
          'Give --tokens FILE (see mbdir token add) or listen on 127.0.0.1',
      );
    }
    if (settings.mupdateListen !== '' && !isLoopbackListen(settings.mupdateListen)) {
      throw new Error(
        `refusing to serve MUPDATE on ${settings.mupdateListen} without --tokens: anyone reaching it could redirect mail. ` +
          'Give --tokens FILE (backends and frontends log in with a token as their mupdate_password) or use 127.0.0.1',
      );
    }
    logger.warn('no --tokens: every caller is admin; serving on loopback only');
    return new TokenGuard(null);
  }
  let table: TokenTable;
  try {
    table = TokenTable.load(settings.tokens);
  } catch (error) {
    throw new Error(`cannot load token file ${settings.tokens}: ${(error as Error).message}`);
  }
  logger.info({ tokens: settings.tokens, principals: table.size }, 'loaded token file');
  const guard = new TokenGuard(table);
  process.on('SIGHUP', () => {
    try {
      const reloaded = TokenTable.load(settings.tokens);
      guard.replace(reloaded);
      logger.info({ tokens: settings.tokens, principals: reloaded.size }, 'reloaded token file');
    } catch (error) {
      logger.error({ tokens: settings.tokens, err: error }, 'token file reload failed; keeping the previous tokens');
    }
  });
  return guard;
}

/** A bound from an undocumented test variable: never raised above its limit. */
function testBound(environment: NodeJS.ProcessEnv, name: string, limit: number): number {
  const value = Number(environment[name] ?? limit);
  return Number.isSafeInteger(value) && value > 0 ? Math.min(value, limit) : limit;
}

/**
 * gRPC listener bounds from undocumented variables, for tests only: they shrink
 * the connection limit and timeouts so refusals are cheap to exercise. Never
 * raised above the limits, and logged when set.
 */
function grpcListenerBoundsOf(environment: NodeJS.ProcessEnv, logger: Logger): ListenerBounds {
  const limit = defaultGrpcListenerBounds;
  const bounds = {
    connectionsMax: testBound(environment, 'MBDIR_TEST_GRPC_CONNECTIONS_MAX', limit.connectionsMax),
    handshakeTimeoutMs: testBound(environment, 'MBDIR_TEST_GRPC_HANDSHAKE_TIMEOUT_MS', limit.handshakeTimeoutMs),
    idleTimeoutMs: testBound(environment, 'MBDIR_TEST_GRPC_IDLE_TIMEOUT_MS', limit.idleTimeoutMs),
  };
  if (JSON.stringify(bounds) !== JSON.stringify(limit)) logger.warn(bounds, 'gRPC listener bounds lowered for testing');
  return bounds;
}

/**
 * Watch bounds from three undocumented variables, for tests only: they shrink the
 * bounds so a slow subscriber's cut-off is cheap to exercise. Never raised above
 * the limits, and logged when set.
 */
function watchBoundsOf(environment: NodeJS.ProcessEnv, logger: Logger): WatchBounds {
  const bound = (name: string, limit: number): number => testBound(environment, name, limit);
  const bounds = {
    subscribersMax: bound('MBDIR_TEST_WATCH_SUBSCRIBERS_MAX', defaultWatchBounds.subscribersMax),
    bufferEventsMax: bound('MBDIR_TEST_WATCH_BUFFER_EVENTS_MAX', defaultWatchBounds.bufferEventsMax),
    heldBytesMax: bound('MBDIR_TEST_WATCH_HELD_BYTES_MAX', defaultWatchBounds.heldBytesMax),
  };
  if (JSON.stringify(bounds) !== JSON.stringify(defaultWatchBounds)) logger.warn(bounds, 'watch bounds lowered for testing');
  return bounds;
}

/** How the login proxies' adapters (Dovecot passdb, nginx /auth) read a login: no address extension, only the domain and case rules. */
function loginRulesOf(settings: ServeSettings): RecipientRules {
  return recipientRulesOf('', settings.socketmapFoldCase === 'yes', settings.socketmapLocalDomains);
}

/** The socketmap and Dovecot dict adapters' settings (checked by resolveServeSettings). */
function mailAdaptersOf(settings: ServeSettings, logger: Logger): Pick<NodeConfig, 'socketmap' | 'dovecotDict'> {
  const foldCase = settings.socketmapFoldCase === 'yes';
  const adapters: Pick<NodeConfig, 'socketmap' | 'dovecotDict'> = {};
  if (settings.socketmapListen !== '') {
    const listen = settings.socketmapListen;
    const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    adapters.socketmap = {
      host,
      port: Number(listen.slice(listen.lastIndexOf(':') + 1)),
      rules: recipientRulesOf(settings.socketmapRecipientDelimiter, foldCase, settings.socketmapLocalDomains),
    };
    if (!isLoopbackListen(listen)) logger.warn({ socketmapListen: listen }, 'socketmap beyond loopback (--socketmap-allow-remote): it has no authentication; firewall it to the Postfix hosts');
  }
  if (settings.dovecotDictListen !== '') {
    adapters.dovecotDict = {
      path: settings.dovecotDictListen,
      rules: loginRulesOf(settings),
      socketMode: parseInt(settings.dovecotDictSocketMode, 8),
    };
  }
  return adapters;
}

/**
 * Socket adapter bounds from two undocumented variables, for tests only (a
 * connection limit and an idle close cheap to exercise); never above the limits, logged when set.
 */
function adapterBoundsOf(environment: NodeJS.ProcessEnv, logger: Logger): AdapterBounds | undefined {
  const connections = Number(environment['MBDIR_TEST_ADAPTER_CONNECTIONS_MAX'] ?? 0);
  const idle = Number(environment['MBDIR_TEST_ADAPTER_IDLE_MS'] ?? 0);
  if (!(connections > 0) && !(idle > 0)) return undefined;
  const limit = Math.min(limits.socketmapConnectionsMax, limits.dovecotDictConnectionsMax);
  const idleLimit = Math.min(limits.socketmapIdleMs, limits.dovecotDictIdleMs);
  const bounds = {
    connectionsMax: Number.isSafeInteger(connections) && connections > 0 ? Math.min(connections, limit) : limit,
    idleMs: Number.isSafeInteger(idle) && idle > 0 ? Math.min(idle, idleLimit) : idleLimit,
  };
  logger.warn(bounds, 'socket adapter bounds lowered for testing');
  return bounds;
}

/**
 * MUPDATE bounds from two undocumented variables, for tests only (as watchBoundsOf):
 * never raised above the limits, and logged when set.
 */
function mupdateBoundsOf(environment: NodeJS.ProcessEnv, logger: Logger): { connectionsMax?: number; pendingNamesMax?: number } {
  const bounds: { connectionsMax?: number; pendingNamesMax?: number } = {};
  const read = (name: string, limit: number): number | undefined => {
    const value = Number(environment[name] ?? Number.NaN);
    return Number.isSafeInteger(value) && value > 0 && value < limit ? value : undefined;
  };
  const connectionsMax = read('MBDIR_TEST_MUPDATE_CONNECTIONS_MAX', limits.mupdateConnectionsMax);
  const pendingNamesMax = read('MBDIR_TEST_MUPDATE_PENDING_NAMES_MAX', limits.mupdatePendingNamesMax);
  if (connectionsMax !== undefined) bounds.connectionsMax = connectionsMax;
  if (pendingNamesMax !== undefined) bounds.pendingNamesMax = pendingNamesMax;
  if (Object.keys(bounds).length > 0) logger.warn(bounds, 'MUPDATE bounds lowered for testing');
  return bounds;
}

/**
 * `--main-thread-priority realtime`: the main thread under SCHED_FIFO before
 * any read thread starts (those, with reset-on-fork, stay normal). Refused by
 * the kernel, serve stops with one line rather than run otherwise than asked.
 */
function raiseMainThreadPriority(logger: Logger): void {
  const change = setRealtimePriority(process.pid, mainThreadRealtimePriority);
  if (!change.ok) {
    throw new Error(
      `setting mainThreadPriority is realtime, but the main thread could not get SCHED_FIFO ${mainThreadRealtimePriority} (${change.reason}); ` +
        `run as root, or grant CAP_SYS_NICE or an RLIMIT_RTPRIO of ${mainThreadRealtimePriority} or more (systemd: LimitRTPRIO=${mainThreadRealtimePriority})`,
    );
  }
  logger.info({ policy: 'SCHED_FIFO', priority: mainThreadRealtimePriority }, 'main thread runs real-time: point lookups and writes take a core before any normal thread');
}

/** Settings only tests use (hidden flags), kept out of ServeSettings and the docs. */
export interface ServeTestOverrides {
  reservationTtlMs?: number;
}

/** Who holds the data directory, as a second node's refusal names it. */
function holderDescription(settings: ServeSettings, nodeId: string): string {
  return `pid ${process.pid} on host ${hostname()}, node ${nodeId}, listen ${settings.listen}, since ${new Date().toISOString()}`;
}

export async function serve(settings: ServeSettings, overrides: ServeTestOverrides = {}): Promise<void> {
  const nodeId = settings.nodeId || hostname();
  // First of all: a second node on a directory in use must not log, migrate or serve anything.
  const lock = DataDirLock.acquire(settings.dataDir, holderDescription(settings, nodeId));
  try {
    await serveLocked(settings, overrides, nodeId, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function serveLocked(settings: ServeSettings, overrides: ServeTestOverrides, nodeId: string, lock: DataDirLock): Promise<void> {
  const logger = createLogger(settings.logLevel);
  if (settings.synchronous === 'OFF') {
    logger.warn(
      { synchronous: settings.synchronous },
      'synchronous OFF: nothing is flushed to disk; an OS crash or power cut may lose answered writes or corrupt the database',
    );
  }
  if (settings.mainThreadPriority === 'realtime') raiseMainThreadPriority(logger);
  // Before any read thread starts: those run at --read-thread-nice.
  if (settings.helperThreadNice !== '0') {
    const helpers = lowerHelperThreads(Number(settings.helperThreadNice));
    if ('reason' in helpers) logger.info({ reason: helpers.reason }, 'helper threads keep the main thread\'s priority');
    else logger.debug({ threads: helpers.threads, nice: Number(settings.helperThreadNice) }, 'helper threads lowered');
  }
  const missingFlags = missingServeNodeFlags();
  if (missingFlags.length > 0) {
    logger.info({ missingFlags }, 'node started without its V8 heap flags: expect more frequent full collections under heavy reads (operations.md, "V8 heap")');
  }
  const guard = loadTokens(settings, logger);
  const credentials = credentialsOf(settings);
  const etcdTls = settings.engine === 'etcd' ? etcdTlsOf(settings) : undefined;
  const adapterBounds = adapterBoundsOf(process.env, logger);
  const node = await MbdirNode.start(
    {
      engine: settings.engine,
      dataDir: settings.dataDir,
      listen: settings.listen,
      synchronous: settings.synchronous,
      cacheMebibytes: Number(settings.cacheMib),
      readThreads: readThreadsOf(settings.readThreads, availableParallelism()),
      readThreadNice: Number(settings.readThreadNice),
      nodeId,
      version,
      guard: guard.guard,
      credentials,
      watchBounds: watchBoundsOf(process.env, logger),
      grpcListenerBounds: grpcListenerBoundsOf(process.env, logger),
      etcdEngine: (store) =>
        new EtcdEngine(
          store,
          {
            endpoints: settings.etcdEndpoints.split(','),
            prefix: settings.etcdPrefix,
            compactRetentionRevisions: Number(settings.etcdCompactRetentionRevisions),
            maintenance: {
              nodeId,
              intervalSeconds: Number(settings.etcdMaintenanceIntervalSeconds),
              leaseSeconds: Number(settings.etcdMaintenanceLeaseSeconds),
              defragment: settings.etcdDefragment === 'yes',
            },
            ...(etcdTls === undefined ? {} : { tls: etcdTls }),
          },
          logger.child({ component: 'etcd' }),
        ),
      ...mailAdaptersOf(settings, logger),
      ...(adapterBounds === undefined ? {} : { adapterBounds }),
      ...(settings.httpListen === ''
        ? {}
        : { http: { listen: settings.httpListen, principalOf: (headers) => guard.principalOfHttp(headers), smtpRelay: settings.httpSmtpRelay, loginRules: loginRulesOf(settings) } }),
      ...(settings.mupdateListen === ''
        ? {}
        : {
            mupdate: {
              listen: settings.mupdateListen,
              literals: settings.mupdateLiterals,
              host: settings.nodeId || hostname(),
              principalOf: (password: string) => guard.principalOfToken(password),
              ...mupdateBoundsOf(process.env, logger),
            },
          }),
      ...overrides,
    },
    logger,
  );
  const where = `${settings.listen.slice(0, settings.listen.lastIndexOf(':'))}:${node.port}`;
  lock.describeHolder(holderDescription({ ...settings, listen: where }, nodeId));
  const tls = settings.tlsCert === '' ? 'plaintext' : settings.tlsClientCa === '' ? 'TLS' : 'TLS with client certificates';
  logger.info(
    { listen: where, engine: settings.engine, dataDir: settings.dataDir, synchronous: settings.synchronous, cacheMib: Number(settings.cacheMib), readThreads: node.readPool?.threads ?? 0, tls },
    'serving',
  );
  // Before the gRPC line: whoever waits for that line has every other adapter's line by then.
  if (node.http !== null) {
    const httpWhere = `${settings.httpListen.slice(0, settings.httpListen.lastIndexOf(':'))}:${node.http.port}`;
    logger.info({ listen: httpWhere, routes: ['/auth', '/v1/resolve'] }, 'serving HTTP');
    process.stdout.write(`serving HTTP on ${httpWhere}\n`);
  }
  if (node.mupdate !== null) {
    const mupdateWhere = `${settings.mupdateListen.slice(0, settings.mupdateListen.lastIndexOf(':'))}:${node.mupdate.port}`;
    logger.info({ listen: mupdateWhere, literals: settings.mupdateLiterals }, 'serving MUPDATE');
    // Before the gRPC line: whoever waits for that line can also read this one.
    process.stdout.write(`serving MUPDATE on ${mupdateWhere} (literals ${settings.mupdateLiterals})\n`);
  }
  if (node.mail.socketmap !== undefined) process.stdout.write(`serving socketmap on ${node.mail.socketmap.address}\n`);
  if (node.mail.dovecotDict !== undefined) process.stdout.write(`serving dovecot-dict on ${node.mail.dovecotDict.address}\n`);
  process.stdout.write(
    `mbdir ${version} serving gRPC on ${where} (engine ${settings.engine}, data ${settings.dataDir}, ${tls}` +
      `${settings.tokens === '' ? ', no tokens: loopback only' : ''})\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      // A second signal: the operator will not wait for the graceful stop.
      logger.warn({ signal }, 'second signal while stopping gracefully; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: limits.shutdownGraceMs }, 'stopping gracefully');
    node.stop().then(
      () => {
        lock.release();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
