/**
 * Event-loop delay beside each bench row: how long work arriving at a random
 * instant waited for the loop. The node's is read from its `/metrics`
 * (prom-client's `nodejs_eventloop_lag_p99_seconds` and `_max_seconds`, whose
 * histogram restarts at every scrape: one scrape before a slice, one after);
 * the load generator's own from `perf_hooks.monitorEventLoopDelay` over the
 * slice. A sample is the sampling interval plus the delay; the interval is
 * taken off. Reads only; a node without an HTTP listener reads as null.
 */
import { request } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { eventLoopSampleIntervalMs } from '../../src/server/node-entry.js';

/** A /metrics answer larger than this is not a node's: the scrape is abandoned. */
export const metricsBytesMax = 4 * 2 ** 20;
/** A scrape that takes longer than this is abandoned (the row then has no node figure). */
export const metricsTimeoutMs = 5_000;

/** Event-loop delay over one slice, in ms. */
export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

const delayMs = (sampleSeconds: number, intervalMs: number): number => Math.max(0, sampleSeconds * 1000 - intervalMs);

/** The node's p99 and max from a Prometheus text exposition; null when it has neither gauge. */
export function parseLoopDelay(exposition: string, intervalMs = eventLoopSampleIntervalMs): LoopDelay | null {
  const gauge = (name: string): number | null => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(exposition);
    const value = match?.[1] === undefined ? Number.NaN : Number(match[1]);
    return Number.isFinite(value) ? value : null;
  };
  const p99 = gauge('nodejs_eventloop_lag_p99_seconds');
  const max = gauge('nodejs_eventloop_lag_max_seconds');
  if (p99 === null || max === null) return null;
  return { p99Ms: delayMs(p99, intervalMs), maxMs: delayMs(max, intervalMs) };
}

/** GET /metrics of `httpEndpoint` (HOST:PORT): the node's delay since its last scrape, which this one ends. */
export async function scrapeLoopDelay(httpEndpoint: string): Promise<LoopDelay | null> {
  const exposition = await scrapeMetrics(httpEndpoint);
  return exposition === null ? null : parseLoopDelay(exposition);
}

/** The node's garbage collections so far: counts and seconds of pauses, young generation (minor) and full (major). */
export interface GcTotals {
  minorCount: number;
  minorSeconds: number;
  majorCount: number;
  majorSeconds: number;
}

/** GC totals from a Prometheus text exposition (prom-client's `nodejs_gc_duration_seconds` by kind); null without it. */
export function parseGcTotals(exposition: string): GcTotals | null {
  const value = (series: string, kind: string): number | null => {
    const match = new RegExp(`^nodejs_gc_duration_seconds_${series}\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(exposition);
    const parsed = match?.[1] === undefined ? Number.NaN : Number(match[1]);
    return Number.isFinite(parsed) ? parsed : null;
  };
  const minorCount = value('count', 'minor');
  const minorSeconds = value('sum', 'minor');
  if (minorCount === null || minorSeconds === null) return null;
  return { minorCount, minorSeconds, majorCount: value('count', 'major') ?? 0, majorSeconds: value('sum', 'major') ?? 0 };
}

/** The node's GC totals now (differences of two scrapes give a slice's); null when it has no /metrics. */
export async function scrapeGcTotals(httpEndpoint: string): Promise<GcTotals | null> {
  const exposition = await scrapeMetrics(httpEndpoint);
  return exposition === null ? null : parseGcTotals(exposition);
}

/** GET /metrics of `httpEndpoint` (HOST:PORT), bounded in size and time; null on any failure. */
function scrapeMetrics(httpEndpoint: string): Promise<string | null> {
  const colon = httpEndpoint.lastIndexOf(':');
  return new Promise((resolve) => {
    const get = request(
      { host: httpEndpoint.slice(0, colon), port: Number(httpEndpoint.slice(colon + 1)), path: '/metrics', agent: false, timeout: metricsTimeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > metricsBytesMax) response.destroy(new Error(`/metrics over ${metricsBytesMax} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve(response.statusCode === 200 ? Buffer.concat(chunks).toString() : null));
        response.on('error', () => resolve(null));
      },
    );
    get.on('timeout', () => get.destroy(new Error('/metrics timed out')));
    get.on('error', () => resolve(null));
    get.end();
  });
}

/** The load generator's own event-loop delay over one slice. */
export class LoadLoopMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: eventLoopSampleIntervalMs });

  constructor() {
    this.histogram.enable();
  }

  /** Stops sampling and returns the slice's figures. */
  stop(): LoopDelay {
    this.histogram.disable();
    if (this.histogram.count === 0) return { p99Ms: 0, maxMs: 0 };
    return {
      p99Ms: delayMs(this.histogram.percentile(99) / 1e9, eventLoopSampleIntervalMs),
      maxMs: delayMs(this.histogram.max / 1e9, eventLoopSampleIntervalMs),
    };
  }
}

/**
 * Two slices' figures as one: the worse of each (a p99 cannot be pooled from
 * two p99s; the worse one is an upper bound of the pooled one's).
 */
export function worseLoopDelay(first: LoopDelay | null, second: LoopDelay | null): LoopDelay | null {
  if (first === null) return second;
  if (second === null) return first;
  return { p99Ms: Math.max(first.p99Ms, second.p99Ms), maxMs: Math.max(first.maxMs, second.maxMs) };
}
