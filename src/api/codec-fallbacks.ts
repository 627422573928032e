/**
 * Counts and logs the times a fast codec (fast-encode.ts, fast-decode.ts)
 * refused a value and proto-loader's generic codec took over. That is never
 * expected of the node's own responses: a count that grows means a fast path
 * and the contract disagree. One counter per fast path (method and direction,
 * a fixed set registered by proto.ts), read by the node's metrics at scrape
 * time (mbdir_codec_fallbacks_total); at most one warning per fast path and
 * interval, the lines skipped counted into the next. Process-wide, as the
 * codecs are: grpc-js calls them outside any node.
 */
import { createLogger, type Logger } from '../logging.js';
import { limits } from '../model/limits.js';

export type CodecDirection = 'encode' | 'decode';

export interface CodecFallbackCount {
  method: string;
  direction: CodecDirection;
  count: number;
}

interface FastPath extends CodecFallbackCount {
  lastLogMs: number;
  skipped: number;
}

const fastPaths = new Map<string, FastPath>();
let logger: Logger | null = null;
let nowMs: () => number = () => Date.now();

const keyOf = (method: string, direction: CodecDirection): string => `${method} ${direction}`;

/** Declares a fast path, so its counter is exported (at 0) before it ever falls back. */
export function registerFastPath(method: string, direction: CodecDirection): void {
  const key = keyOf(method, direction);
  if (!fastPaths.has(key)) fastPaths.set(key, { method, direction, count: 0, lastLogMs: -Infinity, skipped: 0 });
}

/** Where fallback warnings go (the node's logger), and the clock that spaces them (tests pass their own). */
export function useCodecFallbackLogger(target: Logger, clock: () => number = () => Date.now()): void {
  logger = target;
  nowMs = clock;
}

/** Counts one fallback of `method`'s fast `direction` codec, and warns unless a warning of it went out less than an interval ago. */
export function recordCodecFallback(method: string, direction: CodecDirection, error: unknown): void {
  registerFastPath(method, direction);
  const path = fastPaths.get(keyOf(method, direction)) as FastPath;
  path.count += 1;
  const now = nowMs();
  if (now - path.lastLogMs < limits.codecFallbackLogIntervalMs) {
    path.skipped += 1;
    return;
  }
  logger ??= createLogger('warn').child({ component: 'api' });
  const reason = error instanceof Error ? error.message : String(error);
  logger.warn({ method, direction, error: reason, skippedSinceLast: path.skipped }, `fast ${direction} codec of ${method} refused a message, the generic codec took over: ${reason}`);
  path.lastLogMs = now;
  path.skipped = 0;
}

/** Every fast path's fallbacks since the process started. */
export function codecFallbackCounts(): CodecFallbackCount[] {
  return [...fastPaths.values()].map(({ method, direction, count }) => ({ method, direction, count }));
}
