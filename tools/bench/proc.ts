/**
 * What the bench reads of other processes (the node, the echo, the Watch
 * subscribers, the heavy callers) from /proc: resident memory, CPU time and
 * scheduling. Reads only; a process that is gone or unknown reads as 0 (or
 * null).
 */
import { readFileSync } from 'node:fs';

/** VmRSS of a process in MiB, from /proc (0 when unknown). */
export function rssMebibytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? 0 : Math.round(Number(match[1]) / 1024);
  } catch {
    return 0;
  }
}

/** User plus system CPU seconds a process has used, from /proc (0 when unknown). */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    // After "(comm) ", utime and stime are fields 12 and 13 (0-based), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Seconds the main thread of `pid` ran on a core and waited in the run queue
 * for one, since it started (Linux /proc/PID/task/PID/schedstat, in ns); zeros
 * when the kernel does not report it. Waiting is time the host gave to others.
 */
export function mainThreadScheduleOf(pid: number | undefined): { runSeconds: number; waitSeconds: number } {
  if (pid === undefined) return { runSeconds: 0, waitSeconds: 0 };
  try {
    const [run = '0', wait = '0'] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ');
    return { runSeconds: Number(run) / 1e9, waitSeconds: Number(wait) / 1e9 };
  } catch {
    return { runSeconds: 0, waitSeconds: 0 };
  }
}

/** The scheduling policy of a process's main thread (0 normal, 1 SCHED_FIFO, 2 SCHED_RR, 3 batch, 5 idle, 6 deadline), from /proc; null when unknown. */
export function schedulingPolicyOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const policy = /^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/sched`, 'utf8'))?.[1];
    return policy === undefined ? null : Number(policy);
  } catch {
    return null;
  }
}

/**
 * Microseconds during which some task of the machine waited on I/O, since
 * boot (Linux pressure stall information, /proc/pressure/io "some"); null when
 * the kernel does not report it. Its rise over a measured window says how much
 * of the window the disk held someone up: a figure read mostly from disk is the
 * disk's, not the directory's.
 */
export function ioStallMicroseconds(): number | null {
  try {
    const match = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/io', 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** The share (0-100) of a window during which some task waited on I/O, from two ioStallMicroseconds readings; null when unknown. */
export function ioStallPercentOf(before: number | null, after: number | null, wallMs: number): number | null {
  if (before === null || after === null) return null;
  return Math.min(100, (100 * (after - before)) / Math.max(wallMs * 1000, 1));
}
