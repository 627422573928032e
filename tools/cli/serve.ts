/**
 * `mbdir serve`: resolves settings, refuses unsafe ones (a non-loopback listen
 * address without tokens), loads tokens and TLS material, starts a node, reloads
 * the token file on SIGHUP and stops cleanly on SIGINT or SIGTERM. One line on
 * stdout says where it serves; the rest goes to the JSON log on stderr.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createLogger, type Logger } from '../../src/logging.js';
import { createSecureContext } from 'node:tls';
import type { EtcdTls } from '../../src/replication/etcd-client.js';
import { EtcdEngine } from '../../src/replication/etcd-engine.js';
import { TokenGuard } from '../../src/server/auth/guard.js';
import { TokenTable } from '../../src/server/auth/token-file.js';
import { MbdirNode } from '../../src/server/node.js';
import { defaultWatchBounds, type WatchBounds } from '../../src/directory/watch.js';
import { isLoopbackListen, type ServeSettings } from './config.js';
import { limits } from '../../src/model/limits.js';

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
    if (!isLoopbackListen(settings.listen)) {
      throw new Error(
        `refusing to listen on ${settings.listen} without --tokens: anyone reaching it could redirect mail. ` +
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

/**
 * Watch bounds from two undocumented variables, for tests only: they shrink the
 * bounds so a slow subscriber's cut-off is cheap to exercise. Never raised above
 * the limits, and logged when set.
 */
function watchBoundsOf(environment: NodeJS.ProcessEnv, logger: Logger): WatchBounds {
  const bound = (name: string, limit: number): number => {
    const value = Number(environment[name] ?? limit);
    return Number.isSafeInteger(value) && value > 0 ? Math.min(value, limit) : limit;
  };
  const bounds = {
    subscribersMax: bound('MBDIR_TEST_WATCH_SUBSCRIBERS_MAX', defaultWatchBounds.subscribersMax),
    bufferEventsMax: bound('MBDIR_TEST_WATCH_BUFFER_EVENTS_MAX', defaultWatchBounds.bufferEventsMax),
  };
  if (bounds.subscribersMax !== defaultWatchBounds.subscribersMax || bounds.bufferEventsMax !== defaultWatchBounds.bufferEventsMax) {
    logger.warn(bounds, 'watch bounds lowered for testing');
  }
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

/** Settings only tests use (hidden flags), kept out of ServeSettings and the README. */
export interface ServeTestOverrides {
  reservationTtlMs?: number;
}

export async function serve(settings: ServeSettings, overrides: ServeTestOverrides = {}): Promise<void> {
  const logger = createLogger(settings.logLevel);
  const guard = loadTokens(settings, logger);
  const credentials = credentialsOf(settings);
  const etcdTls = settings.engine === 'etcd' ? etcdTlsOf(settings) : undefined;
  const node = await MbdirNode.start(
    {
      engine: settings.engine,
      dataDir: settings.dataDir,
      listen: settings.listen,
      synchronous: settings.synchronous,
      cacheMebibytes: Number(settings.cacheMib),
      nodeId: settings.nodeId || hostname(),
      version,
      guard: guard.guard,
      credentials,
      watchBounds: watchBoundsOf(process.env, logger),
      etcdEngine: (store) =>
        new EtcdEngine(
          store,
          {
            endpoints: settings.etcdEndpoints.split(','),
            prefix: settings.etcdPrefix,
            compactRetentionRevisions: Number(settings.etcdCompactRetentionRevisions),
            ...(etcdTls === undefined ? {} : { tls: etcdTls }),
          },
          logger.child({ component: 'etcd' }),
        ),
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
  const tls = settings.tlsCert === '' ? 'plaintext' : settings.tlsClientCa === '' ? 'TLS' : 'TLS with client certificates';
  logger.info(
    { listen: where, engine: settings.engine, dataDir: settings.dataDir, synchronous: settings.synchronous, cacheMib: Number(settings.cacheMib), tls },
    'serving',
  );
  if (node.mupdate !== null) {
    const mupdateWhere = `${settings.mupdateListen.slice(0, settings.mupdateListen.lastIndexOf(':'))}:${node.mupdate.port}`;
    logger.info({ listen: mupdateWhere, literals: settings.mupdateLiterals }, 'serving MUPDATE');
    // Before the gRPC line: whoever waits for that line can also read this one.
    process.stdout.write(`serving MUPDATE on ${mupdateWhere} (literals ${settings.mupdateLiterals})\n`);
  }
  process.stdout.write(
    `mbdir ${version} serving gRPC on ${where} (engine ${settings.engine}, data ${settings.dataDir}, ${tls}` +
      `${settings.tokens === '' ? ', no tokens: loopback only' : ''})\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
