/**
 * The priorities of a node's threads.
 *
 * Helper threads: `lowerHelperThreads` gives a nice value to every thread but
 * the main one that exists when it is called, which before any read thread
 * starts are V8's platform workers (freeing array buffers after a scavenge,
 * optimizing compiles, concurrent marking, in runs of 1-4 ms) and Node's own.
 * At the main thread's priority such a run, woken on the core a request's
 * thread was about to need, held that thread 1-4 ms while the other core sat
 * idle: a lone LIST's p99 was 2.8-3.4x its p50, and 2.3-2.6x with the helpers
 * at nice 10 (docs/performance.md). They still get every core that is not
 * wanted and a share of a busy one; SCHED_IDLE was too little: V8's parallel
 * scavenge waits for the helpers it hands work to, and the main thread's
 * scavenges grew from 0.8 to 5 ms under load.
 *
 * Real-time: a thread moved to the real-time SCHED_FIFO policy, through
 * util-linux's chrt (Node has no call for it). Only the thread named is moved, with
 * reset-on-fork: threads and processes it starts afterwards (read threads, a
 * load generator's children) run at the normal policy. Used for a node's main
 * thread when its operator asks (`--main-thread-priority realtime`:
 * on a host whose cores are all busy, a point lookup otherwise waits for a
 * core behind whatever holds one, up to a scheduler tick) and for the thread
 * that times `bench mixed`'s lookups. The kernel refuses without root,
 * CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least the priority asked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** A node's main thread's real-time priority when its operator asks for one: low among real-time priorities, above every normal thread. */
export const mainThreadRealtimePriority = 10;

export type PriorityChange = { ok: true } | { ok: false; reason: string };

/** Moves thread `threadId` (a process id names its main thread) to SCHED_FIFO at `priority` (1-99), with reset-on-fork. */
export function setRealtimePriority(threadId: number, priority: number): PriorityChange {
  const chrt = spawnSync('chrt', ['--reset-on-fork', '--fifo', '--pid', String(priority), String(threadId)], { encoding: 'utf8' });
  if (chrt.error !== undefined) return { ok: false, reason: `chrt could not run: ${chrt.error.message}` };
  if (chrt.status !== 0) return { ok: false, reason: `chrt refused: ${(chrt.stderr.trim().split('\n')[0] ?? '').slice(0, 200)}` };
  return { ok: true };
}

/**
 * Gives `nice` to every thread of this process but the main one (see above);
 * returns how many, or why none (no /proc/self/task: not Linux). A thread that
 * ended meanwhile is skipped.
 */
export function lowerHelperThreads(nice: number): { threads: number } | { threads: 0; reason: string } {
  if (!existsSync('/proc/self/task')) return { threads: 0, reason: 'no /proc/self/task' };
  let threads = 0;
  for (const threadId of readdirSync('/proc/self/task')) {
    if (threadId === String(process.pid)) continue;
    try {
      setPriority(Number(threadId), nice);
      threads += 1;
    } catch (error) {
      if (existsSync(`/proc/self/task/${threadId}`)) throw error;
    }
  }
  return { threads };
}
