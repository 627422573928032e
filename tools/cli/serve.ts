/**
 * `mbdir serve`: resolves settings, refuses unsafe ones (a non-loopback listen
 * address without tokens), starts a node and stops it cleanly on SIGINT or
 * SIGTERM. One line on stdout says where it serves; the rest goes to the log.
 */
import * as grpc from '@grpc/grpc-js';
import { hostname } from 'node:os';
import { createLogger } from '../../src/logging.js';
import { MbdirNode } from '../../src/server/node.js';
import { isLoopbackListen, type ServeSettings } from './config.js';

export const version = '0.1.0';

/** Settings only tests use (hidden flags), kept out of ServeSettings and the README. */
export interface ServeTestOverrides {
  reservationTtlMs?: number;
}

export async function serve(settings: ServeSettings, overrides: ServeTestOverrides = {}): Promise<void> {
  const logger = createLogger(settings.logLevel);
  if (settings.tokens === '' && !isLoopbackListen(settings.listen)) {
    throw new Error(
      `refusing to listen on ${settings.listen} without --tokens: anyone reaching it could redirect mail. ` +
        'Give --tokens FILE (see mbdir token add) or listen on 127.0.0.1',
    );
  }
  if (settings.engine === 'etcd') throw new Error('the etcd engine is not built yet in this version; use --engine standalone');
  const node = await MbdirNode.start(
    {
      engine: settings.engine,
      dataDir: settings.dataDir,
      listen: settings.listen,
      synchronous: settings.synchronous,
      nodeId: settings.nodeId || hostname(),
      version,
      guard: () => undefined,
      credentials: grpc.ServerCredentials.createInsecure(),
      ...overrides,
    },
    logger,
  );
  const where = `${settings.listen.slice(0, settings.listen.lastIndexOf(':'))}:${node.port}`;
  logger.info(
    { listen: where, engine: settings.engine, dataDir: settings.dataDir, synchronous: settings.synchronous },
    'serving',
  );
  if (settings.tokens === '') logger.warn('no --tokens: every caller is admin; serving on loopback only');
  process.stdout.write(`mbdir ${version} serving gRPC on ${where} (engine ${settings.engine}, data ${settings.dataDir})\n`);
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
