/**
 * A listener and per-connection sessions for the small request/reply protocols
 * (Postfix socketmap, Dovecot dict): it owns the sockets, the connection limit,
 * the idle timeout and back-pressure (a client that does not read its replies
 * stops being read). The protocol's pure parser and its answer function are
 * given to it; it knows no protocol. Refusals are logged, rate-limited. Never
 * throws into the event loop: a bad client only loses its own connection.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import type { Logger } from '../logging.js';
import type { NodeAdapter } from './adapter.js';
import { limits } from '../model/limits.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** A byte-driven parser: emits each complete request, throws on malformed input (the connection then closes). */
export interface RequestParser<Request> {
  push(chunk: Buffer, emit: (request: Request) => void): void;
}

export interface FramedProtocol<Request> {
  /** Protocol name for logs and the `serving NAME on ...` line. */
  readonly name: string;
  newParser(): RequestParser<Request>;
  /** The reply bytes to one request, or null for none; must not throw. */
  answer(request: Request, session: SessionState): Buffer | null;
  /** A last reply to send before closing on malformed input, or null. */
  malformed(error: Error): Buffer | null;
  /** For metrics: the command a request was and the result its reply gave (`transport`, `notfound`), or null. */
  classify(request: Request, reply: Buffer | null): [command: string, result: string] | null;
}

/** Where a listener reports (NodeMetrics: mbdir_protocol_commands_total, _connections, mbdir_limit_refusals_total). */
export interface ProtocolObserver {
  protocolCommand(protocol: string, command: string, result: string): void;
  protocolConnectionOpened(protocol: string): void;
  protocolConnectionClosed(protocol: string): void;
  limitRefused(protocol: string, limit: string): void;
}

/** What a protocol may keep per connection (e.g. Dovecot's hello). */
export type SessionState = Record<string, unknown>;

export type ListenAddress = { host: string; port: number } | { path: string };

export interface FramedServerOptions<Request> {
  protocol: FramedProtocol<Request>;
  listen: ListenAddress;
  connectionsMax: number;
  idleMs: number;
  logger: Logger;
  /** Mode of a UNIX socket file (who may connect). */
  socketMode?: number;
  /** Metrics; none when absent. Labelled with the protocol's name, `-` as `_` (Prometheus style). */
  observer?: ProtocolObserver;
}

export class FramedServer<Request> {
  private readonly sockets = new Set<net.Socket>();
  private readonly refusals: RateLimitedLog;
  private readonly metricName: string;

  private constructor(
    private readonly server: net.Server,
    private readonly options: FramedServerOptions<Request>,
    /** `HOST:PORT` or the socket path, as listening. */
    public address: string,
  ) {
    this.refusals = new RateLimitedLog(options.logger, limits.refusalLogIntervalMs);
    this.metricName = options.protocol.name.replace(/-/g, '_');
  }

  /** Listens; resolves once bound (port 0 picks a free port, shown in `address`). */
  static async start<Request>(options: FramedServerOptions<Request>): Promise<FramedServer<Request>> {
    const server = net.createServer({ noDelay: true, pauseOnConnect: false });
    const framed = new FramedServer(server, options, '');
    server.on('connection', (socket) => framed.accept(socket));
    server.on('error', (error) => options.logger.error({ err: error, protocol: options.protocol.name }, 'listener error'));
    if ('path' in options.listen) removeStaleSocket(options.listen.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if ('path' in options.listen) server.listen({ path: options.listen.path, exclusive: true }, done);
      else server.listen({ host: options.listen.host, port: options.listen.port, exclusive: true }, done);
    });
    if ('path' in options.listen) {
      try {
        chmodSync(options.listen.path, options.socketMode ?? 0o660);
      } catch (error) {
        server.close();
        throw error;
      }
      framed.address = options.listen.path;
    } else {
      const bound = server.address() as net.AddressInfo;
      framed.address = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
    }
    return framed;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /**
   * This listener in the node's stop path: drain stops accepting; nothing is in
   * flight between a request and its reply (answers are synchronous), so it is
   * idle at once; close ends the connections (Postfix and Dovecot reconnect).
   */
  adapter(): NodeAdapter {
    let closed: Promise<void> | null = null;
    return {
      protocol: this.options.protocol.name,
      drain: () => {
        closed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
      },
      idle: () => Promise.resolve(),
      close: async () => {
        for (const socket of this.sockets) socket.destroy();
        await (closed ?? this.close());
      },
    };
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    const { protocol, logger, observer } = this.options;
    if (this.sockets.size >= this.options.connectionsMax) {
      observer?.limitRefused(this.metricName, 'connections');
      this.refusals.warn('connection refused: the adapter is at its connection limit', {
        protocol: protocol.name,
        remote: socket.remoteAddress ?? 'unix',
        connectionsMax: this.options.connectionsMax,
      });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    observer?.protocolConnectionOpened(this.metricName);
    socket.on('close', () => {
      this.sockets.delete(socket);
      observer?.protocolConnectionClosed(this.metricName);
    });
    socket.on('error', (error) => logger.debug({ err: error, protocol: protocol.name }, 'connection error'));
    socket.setTimeout(this.options.idleMs, () => socket.destroy());
    const parser = protocol.newParser();
    const state: SessionState = {};
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk, (request) => this.reply(socket, request, protocol.answer(request, state)));
      } catch (error) {
        observer?.limitRefused(this.metricName, 'malformed');
        this.refusals.warn('malformed request: connection closed', { protocol: protocol.name, remote: socket.remoteAddress ?? 'unix', reason: (error as Error).message });
        const last = protocol.malformed(error as Error);
        if (last === null) socket.destroy();
        else socket.end(last);
      }
    });
  }

  /** Writes a reply; a client that does not read is not read either until it drains (back-pressure). */
  private reply(socket: net.Socket, request: Request, bytes: Buffer | null): void {
    const observer = this.options.observer;
    if (observer !== undefined) {
      const label = this.options.protocol.classify(request, bytes);
      if (label !== null) observer.protocolCommand(this.metricName, label[0], label[1]);
    }
    if (bytes === null || socket.destroyed || socket.writableEnded) return;
    if (!socket.write(bytes) && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }
}

/** A socket file left by a previous run is removed; any other file there is kept (listen then fails naming it). */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}
