/**
 * A thread moved to the real-time SCHED_FIFO policy, through util-linux's
 * chrt (Node has no call for it). Only the thread named is moved, with
 * reset-on-fork: threads and processes it starts afterwards (read threads, a
 * load generator's children) run at the normal policy. Used for a node's main
 * thread when its operator asks (`--main-thread-priority realtime`:
 * on a host whose cores are all busy, a point lookup otherwise waits for a
 * core behind whatever holds one, up to a scheduler tick) and for the thread
 * that times `bench mixed`'s lookups. The kernel refuses without root,
 * CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least the priority asked.
 */
import { spawnSync } from 'node:child_process';

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
