/**
 * The HTTP listener (node:http): a small table of GET routes by path, so other
 * modules add theirs (`/auth`, `/v1/resolve` here; `/metrics`, `/healthz` later)
 * without touching the socket side. It owns the bounds of every connection
 * (header bytes, URL length, connections, header and request timeouts,
 * keep-alive), answers what no route takes (404, 405, 414) in JSON, and turns
 * a route that throws into a 500 with the error logged. It never decides.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeAdapter } from '../adapter.js';
import type { Logger } from '../../logging.js';
import { limits } from '../../model/limits.js';

/** Serves one request; may answer asynchronously. `url` is the parsed request target. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;

export interface HttpRoute {
  path: string;
  handler: RouteHandler;
}

/** Writes a JSON answer with its length (no chunking: scripts and proxies read it whole). */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export class HttpListener {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on `host:port` (port 0 picks one) and serves `routes`; a path may appear once. */
  static async start(listen: string, routes: readonly HttpRoute[], logger: Logger): Promise<HttpListener> {
    const table = new Map<string, RouteHandler>();
    for (const route of routes) {
      if (table.has(route.path)) throw new Error(`HTTP route ${route.path} is registered twice`);
      table.set(route.path, route.handler);
    }
    const server = createServer(
      {
        maxHeaderSize: limits.httpHeaderBytesMax,
        headersTimeout: limits.httpHeadersTimeoutMs,
        requestTimeout: limits.httpRequestTimeoutMs,
        keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
      },
      (request, response) => dispatch(table, request, response, logger),
    );
    server.maxConnections = limits.httpConnectionsMax;
    const colon = listen.lastIndexOf(':');
    const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: Number(listen.slice(colon + 1)) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => logger.error({ err: error }, 'HTTP listener error'));
    return new HttpListener(server, (server.address() as AddressInfo).port);
  }

  /** Stops at once: no new connection, open ones cut (a node that failed to start). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** The node's stop path (NodeAdapter): stop accepting, finish requests in flight, then cut. */
  adapter(): NodeAdapter {
    let closed: Promise<void> = Promise.resolve();
    return {
      protocol: 'HTTP',
      drain: () => {
        closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        this.server.closeIdleConnections();
      },
      idle: () => closed,
      close: async () => {
        this.server.closeAllConnections();
        await closed;
      },
    };
  }
}

function dispatch(table: ReadonlyMap<string, RouteHandler>, request: IncomingMessage, response: ServerResponse, logger: Logger): void {
  const target = request.url ?? '/';
  if (Buffer.byteLength(target) > limits.httpUrlBytesMax) {
    sendJson(response, 414, { error: { code: 'INVALID_ARGUMENT', message: `request target is longer than ${limits.httpUrlBytesMax} bytes` } });
    return;
  }
  let url: URL;
  try {
    url = new URL(target, 'http://mbdir.invalid');
  } catch {
    sendJson(response, 400, { error: { code: 'INVALID_ARGUMENT', message: 'request target is not a path' } });
    return;
  }
  const handler = table.get(url.pathname);
  if (handler === undefined) {
    sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}; routes: ${[...table.keys()].join(', ')}` } });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    sendJson(response, 405, { error: { code: 'INVALID_ARGUMENT', message: `${url.pathname} answers GET only` } });
    return;
  }
  Promise.resolve()
    .then(() => handler(request, response, url))
    .catch((error: unknown) => {
      logger.error({ err: error, path: url.pathname }, 'HTTP route failed');
      if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL', message: 'internal error; see the server log' } });
      else response.destroy();
    });
}
