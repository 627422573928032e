/**
 * A guarded TCP listener: owns the listening socket of one protocol adapter and
 * bounds what a connection may hold. At most `connectionsMax` connections are
 * open (Node's own `maxConnections` refuses the rest); one that has not done its
 * protocol's handshake within `handshakeTimeoutMs` is closed; one that moves no
 * byte either way for `idleTimeoutMs` is closed. Each refusal or closing is
 * logged, at most one line per `refusalLogIntervalMs` per reason, with how many
 * were suppressed. It knows no protocol: the adapter says what a finished
 * handshake is and takes each admitted socket. It never reads from a socket:
 * one sweep timer per listener compares each socket's byte counters (counted
 * below whatever consumes the socket: TLS, HTTP/2), so no timer per connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../logging.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** Bounds of one listener's connections; each default is a named limit of its protocol. */
export interface ListenerBounds {
  connectionsMax: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface GuardedListenerOptions {
  /** The protocol's name, for logs ("gRPC", "MUPDATE"). */
  protocol: string;
  bounds: ListenerBounds;
  /** At most one log line per reason per this interval. */
  refusalLogIntervalMs: number;
  /** True once `socket` has done its protocol's handshake; asked when its handshake time is up. */
  handshakeDone(socket: Socket): boolean;
  /** Takes an admitted connection (the adapter serves it from here on). */
  onConnection(socket: Socket): void;
  logger: Logger;
}

/** Splits `HOST:PORT` (a bracketed IPv6 host allowed) into its parts. */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || host === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`listen address ${JSON.stringify(listen)} is not HOST:PORT`);
  }
  return { host, port };
}

/** What the sweep knows of one open connection. */
interface Tracked {
  admittedMs: number;
  handshaken: boolean;
  bytesSeen: number;
  activeMs: number;
}

/** How often the sweep runs: a fifth of the shorter timeout, so a timeout fires at most 20% late. */
function sweepIntervalOf(bounds: ListenerBounds): number {
  return Math.max(10, Math.floor(Math.min(bounds.handshakeTimeoutMs, bounds.idleTimeoutMs) / 5));
}

export class GuardedListener {
  private readonly sockets = new Map<Socket, Tracked>();
  private readonly server: Server;
  private readonly sweeper: NodeJS.Timeout;
  private readonly refusals: RateLimitedLog;
  private boundPort = 0;

  private constructor(
    private readonly listen: string,
    private readonly options: GuardedListenerOptions,
  ) {
    const { bounds, protocol, refusalLogIntervalMs } = options;
    const logger = options.logger.child({ component: 'listener', protocol });
    const refusals = new RateLimitedLog(logger, refusalLogIntervalMs);
    this.refusals = refusals;
    this.server = createServer({ noDelay: true });
    // Node refuses (closes at once) every connection past maxConnections and says so with 'drop'.
    this.server.maxConnections = bounds.connectionsMax;
    this.server.on('drop', (data) => refusals.warn(`${protocol} connection refused: the listener already holds its maximum of connections`, {
        listen,
        connectionsMax: bounds.connectionsMax,
        remoteAddress: data?.remoteAddress,
      }));
    this.server.on('connection', (socket: Socket) => this.admit(socket));
    this.server.on('error', (error) => logger.error({ err: error, listen }, `${protocol} listener error`));
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalOf(bounds));
    this.sweeper.unref();
  }

  /** Listens on `listen` (HOST:PORT, port 0 picks one) and resolves once bound. */
  static async listen(listen: string, options: GuardedListenerOptions): Promise<GuardedListener> {
    const { host, port } = parseListenAddress(listen);
    const guarded = new GuardedListener(listen, options);
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void => {
        // Not listening: the sweep the constructor started would run for nothing.
        clearInterval(guarded.sweeper);
        reject(error);
      };
      guarded.server.once('error', failed);
      guarded.server.listen({ host, port, exclusive: true }, () => {
        guarded.server.removeListener('error', failed);
        resolve();
      });
    });
    const address = guarded.server.address();
    guarded.boundPort = typeof address === 'object' && address !== null ? address.port : port;
    return guarded;
  }

  /** The bound port (the one picked for port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** Tracks a connection for the sweep, then hands it to the adapter. */
  private admit(socket: Socket): void {
    const now = Date.now();
    this.sockets.set(socket, { admittedMs: now, handshaken: false, bytesSeen: 0, activeMs: now });
    socket.once('close', () => this.sockets.delete(socket));
    this.options.onConnection(socket);
  }

  /** Closes connections past their handshake or idle time. */
  private sweep(): void {
    const now = Date.now();
    const { bounds, handshakeDone } = this.options;
    for (const [socket, tracked] of this.sockets) {
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== tracked.bytesSeen) {
        tracked.bytesSeen = bytes;
        tracked.activeMs = now;
      }
      tracked.handshaken ||= handshakeDone(socket);
      if (!tracked.handshaken && now - tracked.admittedMs >= bounds.handshakeTimeoutMs) {
        this.refusals.warn(`${this.options.protocol} connection closed: no handshake within the timeout`, {
          listen: this.listen,
          handshakeTimeoutMs: bounds.handshakeTimeoutMs,
          remoteAddress: socket.remoteAddress,
        });
        socket.destroy();
      } else if (now - tracked.activeMs >= bounds.idleTimeoutMs) {
        this.refusals.warn(`${this.options.protocol} connection closed: idle past the timeout`, {
          listen: this.listen,
          idleTimeoutMs: bounds.idleTimeoutMs,
          remoteAddress: socket.remoteAddress,
        });
        socket.destroy();
      }
    }
  }

  /** Connections open now. */
  connectionCount(): number {
    return this.sockets.size;
  }

  /** Stops accepting at once; resolves when the last open connection has closed. */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Closes every connection still open (after the adapter's grace period) and stops the sweep. */
  destroyAll(): void {
    clearInterval(this.sweeper);
    for (const socket of this.sockets.keys()) socket.destroy();
  }
}
