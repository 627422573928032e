/**
 * The MUPDATE listener: a TCP server that hands each connection to a session,
 * bounded by `connectionsMax` (past it a client gets Cyrus's `* BYE "Server
 * Unable"` and is closed), logging refusals at most once per interval. It
 * closes every session when the node stops. Settings arrive resolved; it reads
 * no flags and no environment.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Directory } from '../../directory/directory.js';
import type { NodeAdapter } from '../adapter.js';
import type { Logger } from '../../logging.js';
import { limits } from '../../model/limits.js';
import type { Principal } from '../auth/roles.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { MupdateSession, type SessionOptions } from './session.js';
import { ResponseWriter, type LiteralStyle } from './writer.js';

export interface MupdateListenerOptions {
  directory: Directory;
  logger: Logger;
  listen: string;
  literals: LiteralStyle;
  principalOf(password: string): Principal;
  host: string;
  version: string;
  /** Overrides limits.mupdateConnectionsMax (tests). */
  connectionsMax?: number;
  /** Overrides limits.mupdatePendingNamesMax (tests). */
  pendingNamesMax?: number;
  /** Told each command's outcome (metrics). */
  onCommand?: (command: string, result: 'ok' | 'error') => void;
}

/** Splits `HOST:PORT` (IPv6 in brackets). */
function splitListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
}

export class MupdateListener {
  private readonly sessions = new Set<MupdateSession>();

  private constructor(
    private readonly server: Server,
    private readonly options: MupdateListenerOptions,
    private readonly sessionOptions: SessionOptions,
    readonly port: number,
  ) {}

  static async start(options: MupdateListenerOptions): Promise<MupdateListener> {
    const logger = options.logger.child({ component: 'mupdate' });
    const sessionOptions: SessionOptions = {
      directory: options.directory,
      writer: new ResponseWriter(options.literals),
      logger,
      principalOf: options.principalOf,
      parserLimits: {
        lineBytesMax: limits.mupdateLineBytesMax,
        literalBytesMax: limits.mupdateLiteralBytesMax,
        argumentsMax: limits.mupdateArgumentsMax,
      },
      idleMs: limits.mupdateIdleMs,
      pipelinedCommandsMax: limits.mupdatePipelinedCommandsMax,
      socketBufferBytesMax: limits.mupdateSocketBufferBytesMax,
      pendingNamesMax: options.pendingNamesMax ?? limits.mupdatePendingNamesMax,
      updateServersMax: limits.mupdateUpdateServersMax,
      host: options.host,
      version: options.version,
      refusals: new RateLimitedLog(logger, limits.mupdateRefusalLogIntervalMs),
      ...(options.onCommand === undefined ? {} : { onCommand: options.onCommand }),
    };
    // Half-open: a client's end of input leaves the socket writable, so the session answers what it already read.
    const server = createServer({ noDelay: true, allowHalfOpen: true });
    const { host, port } = splitListen(options.listen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    const listener = new MupdateListener(server, { ...options, logger }, sessionOptions, bound);
    server.on('connection', (socket) => listener.accept(socket));
    server.on('error', (error) => logger.error({ err: error }, 'mupdate listener error'));
    return listener;
  }

  private accept(socket: Socket): void {
    const connectionsMax = this.options.connectionsMax ?? limits.mupdateConnectionsMax;
    if (this.sessions.size >= connectionsMax) {
      this.logRefusal(socket, connectionsMax);
      socket.on('error', () => socket.destroy());
      socket.end('* BYE "Server Unable"\r\n');
      setTimeout(() => socket.destroy(), limits.mupdateCloseGraceMs).unref();
      return;
    }
    const session = new MupdateSession(socket, this.sessionOptions, (closed) => this.sessions.delete(closed));
    this.sessions.add(session);
    session.start();
  }

  private logRefusal(socket: Socket, connectionsMax: number): void {
    this.sessionOptions.refusals.warn('mupdate connection refused: the listener serves its limit of connections', {
      remote: socket.remoteAddress,
      connectionsMax,
    });
  }

  /** Sessions open now (tests, status). */
  sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * The node's stop path (NodeAdapter): stop accepting at drain; MUPDATE sessions
   * are long-lived (UPDATE followers, backends between changes) and carry no
   * call to wait for, so they are closed with the listener once gRPC's calls end.
   */
  adapter(): NodeAdapter {
    let closed: Promise<void> | null = null;
    return {
      protocol: 'MUPDATE',
      drain: () => {
        closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      },
      idle: () => Promise.resolve(),
      close: async () => {
        await this.closeSessions();
        await closed;
      },
    };
  }

  /** Stops accepting and closes every session. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.closeSessions();
    await closed;
  }

  private async closeSessions(): Promise<void> {
    for (const session of [...this.sessions]) {
      session.close();
      session.socket.destroy();
    }
    await Promise.resolve();
  }
}
