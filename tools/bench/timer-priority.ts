/**
 * The priority of the thread that sends and times `bench mixed`'s lookups. On
 * a host that runs the node, its heavy callers and the load generator on the
 * same cores, the generator's main thread waits for a core like any other:
 * its event-loop delay rose from about 1 ms quiet to 3.5-5 ms beside the heavy
 * callers, and every such wait counted as the node's latency (an open loop
 * times each lookup from the instant it was due). In a deployment the callers
 * are other machines. So the timing thread asks for SCHED_FIFO (through
 * util-linux's chrt, on its own thread only), with reset-on-fork, so that
 * nothing it starts afterwards (the node with --data-dir, the heavy callers)
 * inherits it. It uses little CPU (a 1 ms tick that writes requests and counts
 * answers); without root or CAP_SYS_NICE the kernel refuses, and the bench
 * runs as before and says so.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The real-time priority asked for: low among real-time ones, above every normal thread. */
export const timerFifoPriority = 10;

/**
 * Moves this process's main thread (the one whose id is the process id) to
 * SCHED_FIFO with reset-on-fork; returns how the lookups are timed, for the
 * report.
 */
export function raiseTimerPriority(wanted: boolean): string {
  if (!wanted) return 'normal (--no-realtime-timer)';
  const chrt = spawnSync('chrt', ['--reset-on-fork', '--fifo', '--pid', String(timerFifoPriority), String(process.pid)], { encoding: 'utf8' });
  if (chrt.error !== undefined) return `normal (chrt could not run: ${chrt.error.message})`;
  if (chrt.status !== 0) return `normal (chrt refused: ${(chrt.stderr.trim().split('\n')[0] ?? '').slice(0, 200)})`;
  return `SCHED_FIFO ${timerFifoPriority}`;
}

/**
 * Throws when the process `pid` (a node the bench started) runs under a
 * real-time policy: it would have inherited the timing thread's, and its
 * figures would not be a normal node's. An unknown pid, or a system without
 * /proc/PID/sched, passes.
 */
export function assertNormallyScheduled(pid: number | undefined, what: string): void {
  if (pid === undefined) return;
  let sched: string;
  try {
    sched = readFileSync(`/proc/${pid}/sched`, 'utf8');
  } catch {
    return;
  }
  const policy = /^policy\s*:\s*(\d+)/m.exec(sched)?.[1];
  // 0 SCHED_OTHER, 3 SCHED_BATCH, 5 SCHED_IDLE; 1 SCHED_FIFO, 2 SCHED_RR, 6 SCHED_DEADLINE.
  if (policy !== undefined && ['1', '2', '6'].includes(policy)) throw new Error(`bench mixed: ${what} (pid ${pid}) runs under a real-time scheduling policy (${policy}); its figures would not be a normal node's`);
}
