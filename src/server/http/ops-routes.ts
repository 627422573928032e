/**
 * The operator's HTTP routes: `GET /metrics` (Prometheus text format),
 * `GET /healthz` (the process is alive and answers) and `GET /readyz` (the node
 * should get traffic: data open, not draining, and on etcd quorum present and
 * caught up, readiness.ts). They need no token, as Prometheus scrapes and load
 * balancer probes carry none; they reveal counts and states, never a mailbox,
 * user or token. No rule here: the metrics and the readiness rule are elsewhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../logging.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { Readiness } from '../readiness.js';
import { sendJson, type HttpRoute } from './listener.js';

export interface OpsRoutesOptions {
  metrics: NodeMetrics;
  readiness: () => Promise<Readiness>;
  logger: Logger;
}

export function opsRoutes(options: OpsRoutesOptions): HttpRoute[] {
  return [
    { path: '/metrics', handler: (request, response) => answerMetrics(options, request, response) },
    { path: '/healthz', handler: (request, response) => answerText(request, response, 200, 'ok\n') },
    { path: '/readyz', handler: (request, response) => answerReady(options, request, response) },
  ];
}

function onlyGet(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  response.setHeader('Allow', 'GET, HEAD');
  sendJson(response, 405, { error: { code: 'INVALID_ARGUMENT', message: `${request.method ?? ''} is not allowed here; use GET` } });
  return false;
}

function answerText(request: IncomingMessage, response: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  if (!onlyGet(request, response)) return;
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : text);
}

async function answerMetrics(options: OpsRoutesOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!onlyGet(request, response)) return;
  try {
    const { contentType, body } = await options.metrics.exposition();
    answerText(request, response, 200, body, contentType);
  } catch (error) {
    options.logger.error({ err: error, path: '/metrics' }, 'metrics could not be collected');
    answerText(request, response, 500, 'metrics could not be collected; see the node log\n');
  }
}

async function answerReady(options: OpsRoutesOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!onlyGet(request, response)) return;
  const readiness = await options.readiness();
  const text = `${JSON.stringify(readiness)}\n`;
  answerText(request, response, readiness.ready ? 200 : 503, text, 'application/json');
}
