/**
 * Threads moved between Linux scheduling policies, through util-linux's chrt
 * (Node has no call for it).
 *
 * Real-time: a thread moved to SCHED_FIFO. Only the thread named is moved, with
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

/** A node's main thread's real-time priority when its operator asks for one: low among real-time priorities, above every normal thread. */
export const mainThreadRealtimePriority = 10;

export type PriorityChange = { ok: true } | { ok: false; reason: string };

/** Moves thread `threadId` (a process id names its main thread) to SCHED_FIFO at `priority` (1-99), with reset-on-fork. */
export function setRealtimePriority(threadId: number, priority: number): PriorityChange {
  return chrt(['--reset-on-fork', '--fifo', '--pid', String(priority), String(threadId)]);
}

/**
 * Idle: this process's helper threads moved to SCHED_IDLE: every thread but
 * the main one that exists when it is called, which before any read thread
 * starts are V8's platform workers (concurrent and parallel garbage
 * collection, the optimizing compiler, in 1-3 ms runs) and Node's own. On a
 * host with few cores a thread woken for a request (the main thread, a read
 * thread) was queued behind such a run on its core while the other core sat
 * idle: a lone LIST's p99 was 3x its p50 for that alone. A core that runs only
 * SCHED_IDLE threads counts as idle, so a woken thread takes it at once; the
 * helpers still get every idle moment, and V8 does on the main thread what
 * they leave undone. Moving a thread to SCHED_IDLE needs no privilege.
 * Returns how many threads moved, or why it could not (no /proc, no chrt).
 */
export function idleHelperThreads(): { moved: number } | { moved: number; reason: string } {
  if (!existsSync('/proc/self/task')) return { moved: 0, reason: 'no /proc/self/task' };
  const helpers = readdirSync('/proc/self/task').filter((threadId) => threadId !== String(process.pid));
  let moved = 0;
  for (const threadId of helpers) {
    const change = chrt(['--idle', '--pid', '0', threadId]);
    if (!change.ok && existsSync(`/proc/self/task/${threadId}`)) return { moved, reason: change.reason }; // else it has ended
    if (change.ok) moved += 1;
  }
  return { moved };
}

function chrt(args: string[]): PriorityChange {
  const run = spawnSync('chrt', args, { encoding: 'utf8' });
  if (run.error !== undefined) return { ok: false, reason: `chrt could not run: ${run.error.message}` };
  if (run.status !== 0) return { ok: false, reason: `chrt refused: ${(run.stderr.trim().split('\n')[0] ?? '').slice(0, 200)}` };
  return { ok: true };
}
