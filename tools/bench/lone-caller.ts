/**
 * A lone caller (@1) on the lean sender (lean-lookups.ts): one call at a time,
 * each sent from the callback of the answer before it. Its requests are
 * encoded in batches between calls, never while one is timed, and no promise
 * or closure is made per call: the load generator's own garbage (a promise, a
 * request object and its encoding per call, through closedLoop) made its
 * collections land inside the calls it timed: a lone LIST's p99 read
 * 3.7-4.2x its p50 where a client that allocates nothing measured the same
 * node at 1.95-2.6x (docs/performance.md).
 */
import { performance } from 'node:perf_hooks';
import type { LeanLookups } from './lean-lookups.js';
import { LatencyRecorder } from './stats.js';
import type { Measured } from './load.js';

/** One call as the lone caller sends it: its request frame (requestFrame) and the names it asks for. */
export interface LoneCall {
  frame: Buffer;
  names: number;
}

/** Calls encoded ahead at a time (between two calls). */
export const loneCallBatch = 1024;
/** Errors in a row without one answer after which the caller stops (the node is not answering). */
const errorsWithoutAnswerMax = 1000;

/**
 * Runs `sender`'s one call at a time for `durationMs`, the requests made by
 * `next` (in order, never replayed). `onTick` sees the tally every 250 ms.
 */
export function loneCaller(sender: LeanLookups, next: () => LoneCall, durationMs: number, onTick?: (measured: Measured) => void): Promise<Measured> {
  const measured: Measured = { operations: 0, names: 0, errors: 0, firstError: '', seconds: 0, latency: new LatencyRecorder() };
  const startedMs = performance.now();
  const endMs = startedMs + durationMs;
  let batch: LoneCall[] = [];
  let position = 0;
  let current: LoneCall | undefined;
  let callStartedMs = 0;
  return new Promise<Measured>((resolve) => {
    const ticker = onTick === undefined ? null : setInterval(() => onTick(measured), 250);
    const finish = (): void => {
      if (ticker !== null) clearInterval(ticker);
      measured.seconds = (performance.now() - startedMs) / 1000;
      resolve(measured);
    };
    const sendNext = (): void => {
      if (performance.now() >= endMs || (measured.errors >= errorsWithoutAnswerMax && measured.operations === 0)) {
        finish();
        return;
      }
      if (position === batch.length) {
        batch = Array.from({ length: loneCallBatch }, next);
        position = 0;
      }
      const call = batch[position] as LoneCall;
      current = call;
      position += 1;
      callStartedMs = performance.now();
      sender.add(0, call.frame);
      sender.send();
    };
    sender.onAnswer((_, error) => {
      const tookMs = performance.now() - callStartedMs;
      if (error === null) {
        measured.operations += 1;
        measured.names += current?.names ?? 0;
        measured.latency.add(tookMs);
        sendNext();
        return;
      }
      measured.errors += 1;
      if (measured.firstError === '') measured.firstError = error;
      setImmediate(sendNext); // a failed connection answers at once: the next call must not recurse into this one
    });
    sendNext();
  });
}
