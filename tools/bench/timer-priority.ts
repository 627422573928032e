/**
 * The priority of the thread that sends and times `bench mixed`'s lookups. On
 * a host that runs the node, its heavy callers and the load generator on the
 * same cores, the generator's main thread waits for a core like any other:
 * its event-loop delay rose from about 1 ms quiet to 3.3-5.1 ms beside the
 * heavy callers, and every such wait counted as the node's latency (an open
 * loop times each lookup from the instant it was due). In a deployment the
 * callers are other machines. So the timing thread asks for SCHED_FIFO, above
 * a node's main thread even when that one is real-time too, with
 * reset-on-fork, so that nothing it starts afterwards (the node with
 * --data-dir, the heavy callers) inherits it. It uses little CPU (a 1 ms tick
 * that writes requests and counts answers); refused, the bench runs as before
 * and says so.
 */
import { mainThreadRealtimePriority, setRealtimePriority } from '../../src/server/node-entry.js';
import { schedulingPolicyOf } from './proc.js';

/** SCHED_FIFO, SCHED_RR and SCHED_DEADLINE: the policies that take a core before any normal thread. */
const realtimePolicies: ReadonlySet<number> = new Set([1, 2, 6]);

/** The timing thread's real-time priority: above a real-time node's main thread. */
export const timerFifoPriority = mainThreadRealtimePriority + 5;

/** Moves this process's main thread to SCHED_FIFO; returns how the lookups are timed, for the report. */
export function raiseTimerPriority(wanted: boolean): string {
  if (!wanted) return 'normal (--no-realtime-timer)';
  const change = setRealtimePriority(process.pid, timerFifoPriority);
  return change.ok ? `SCHED_FIFO ${timerFifoPriority}` : `normal (${change.reason})`;
}

/**
 * Throws when the process `pid` (heavy callers the bench started) runs under a
 * real-time policy: it would have inherited the timing thread's, and would
 * take the cores it is meant to leave. An unknown pid, or a system without
 * /proc/PID/sched, passes.
 */
export function assertNormallyScheduled(pid: number | undefined, what: string): void {
  const policy = schedulingPolicyOf(pid);
  if (policy !== null && realtimePolicies.has(policy)) throw new Error(`bench mixed: ${what} (pid ${String(pid)}) runs under a real-time scheduling policy (${policy}); it would take the cores it is meant to leave`);
}
