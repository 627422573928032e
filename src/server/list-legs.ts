/**
 * A diagnostic of LIST's latency, off unless the environment variable
 * MBDIR_LIST_LEGS names a file: each ListMailboxes call's legs as wall-clock
 * instants (main thread: handler entered, read about to be posted, answer back;
 * read thread: read taken, read done, encoded), and every garbage collection of
 * the main thread and of each read thread, as JSON lines written to that file
 * (`FILE.thread-N` for a thread) when the thread stops. At most
 * limits.listLegsRecordsMax lines a thread. Off, it costs a null check a call.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { limits } from '../model/limits.js';

/** The file the diagnostic writes; '' when it is off. */
const legsPath = process.env['MBDIR_LIST_LEGS'] ?? '';

/** A wall-clock instant in ms with sub-ms precision, comparable across threads and processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Legs and collections of one thread, written when it exits. */
export class ListLegs {
  private readonly lines: string[] = [];
  private readonly observer: PerformanceObserver;

  constructor(private readonly path: string) {
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.gc(entry);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** One call's instants (wallMs), in the order of the legs above. */
  call(instants: readonly number[]): void {
    this.push(JSON.stringify({ type: 'call', thread: threadId, instants }));
  }

  private gc(entry: PerformanceEntry): void {
    const detail = (entry as { detail?: { kind?: number } }).detail;
    const startMs = performance.timeOrigin + entry.startTime;
    this.push(JSON.stringify({ type: 'gc', thread: threadId, kind: detail?.kind ?? 0, startMs, durationMs: entry.duration }));
  }

  private push(line: string): void {
    if (this.lines.length < limits.listLegsRecordsMax) this.lines.push(line);
  }

  /** Writes what was recorded (once). */
  write(): void {
    this.observer.disconnect();
    const path = threadId === 0 ? this.path : `${this.path}.thread-${threadId}`;
    writeFileSync(path, this.lines.join('\n') + '\n');
    this.lines.length = 0;
  }
}

/** This thread's recorder, or null when the diagnostic is off. The main thread's writes itself at exit. */
export const listLegs: ListLegs | null = legsPath === '' ? null : new ListLegs(legsPath);
if (listLegs !== null && threadId === 0) process.once('exit', () => listLegs.write());
