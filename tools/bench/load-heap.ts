/**
 * The load generator's young generation. The bench's own process times every
 * call, so its garbage collection is in every figure it reports, the node's and
 * the echo's alike: with V8's default new space, a sequential ListMailboxes
 * caller scavenged about once every 100 calls, each pause longer than a call,
 * which put the instrument's own pauses at the p99. `bench run` and `bench
 * mixed` therefore run in a process whose new space is loadSemiSpaceMebibytes
 * a semi-space from the start (V8 reads the size only when a process starts, so
 * the command runs itself again with the flags). The node and the floors it
 * starts keep their defaults. A command line that sets a semi-space size itself
 * runs as given.
 */
import { spawn } from 'node:child_process';

/** Semi-space of the load generator's young generation, MiB (V8's default grows to 16). */
export const loadSemiSpaceMebibytes = 64;

/** The V8 flags the load generator runs with. */
export const loadHeapFlags: readonly string[] = [
  `--max-semi-space-size=${loadSemiSpaceMebibytes}`,
  `--min-semi-space-size=${loadSemiSpaceMebibytes}`,
];

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
