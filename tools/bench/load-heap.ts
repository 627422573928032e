/**
 * The load generator's young generation. The bench's own process times every
 * call, so its collections are in every figure, the node's and the echo's alike;
 * with V8's default new space a sequential LIST caller scavenged about 7 times
 * per 1,000 calls, each pause longer than a call: at the p99. `bench run` and
 * `bench mixed` run with a loadSemiSpaceMebibytes semi-space from the start (V8
 * reads it only at start, so the command runs itself again with the flags,
 * unless its command line names a size), without V8's memory reducer, and
 * collects its heap before each measured slice. The node and the floors keep defaults.
 */
import { spawn } from 'node:child_process';

/** Semi-space of the load generator's young generation, MiB (V8's default grows to 16). */
export const loadSemiSpaceMebibytes = 64;

/** The V8 flags the load generator runs with. */
export const loadHeapFlags: readonly string[] = [
  `--max-semi-space-size=${loadSemiSpaceMebibytes}`,
  `--min-semi-space-size=${loadSemiSpaceMebibytes}`,
  // V8's memory reducer compacts the heap of a process that allocates little (the
  // open-loop lookups): a 15-20 ms pause in the middle of a phase. The bench
  // collects between slices instead (collectBetweenSlices).
  '--no-memory-reducer',
  '--expose-gc',
];

/** A full collection of the load generator's heap, before a measured slice, so that none falls inside it (needs --expose-gc). */
export function collectBetweenSlices(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** True when this process was started with a semi-space size (the bench's or the operator's). */
export function hasLoadHeap(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((flag) => /^--(max|min)[-_]semi[-_]space[-_]size\b/.test(flag));
}

/**
 * Runs this process's command line again in a child with loadHeapFlags, its
 * output and input shared, SIGINT and SIGTERM passed on; resolves with the
 * child's exit code (1 when a signal ended it).
 */
export function rerunWithLoadHeap(): Promise<number> {
  const child = spawn(process.execPath, [...loadHeapFlags, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}
