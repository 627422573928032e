/**
 * Bookkeeping shared by engines: listeners told of every applied commit, and
 * readers waiting for a revision (min_revision). Waiters are bounded by their
 * timeout; listeners are called synchronously in revision order.
 */
import { deadlineExceeded, resourceExhausted } from '../model/errors.js';
import type { ChangeEvent } from '../model/records.js';
import type { AppliedListener } from './engine.js';

const revisionWaitersMax = 100_000;

interface Waiter {
  revision: number;
  resolve: () => void;
  timer: NodeJS.Timeout;
}

export class AppliedNotifier {
  private readonly listeners = new Set<AppliedListener>();
  private readonly waiters = new Set<Waiter>();

  onApplied(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells listeners and wakes waiters once `revision` is applied. */
  applied(events: readonly ChangeEvent[], revision: number): void {
    for (const listener of this.listeners) listener(events, revision);
    for (const waiter of this.waiters) {
      if (waiter.revision <= revision) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  wait(revision: number, current: number, timeoutMs: number): Promise<void> {
    if (revision <= current) return Promise.resolve();
    if (this.waiters.size >= revisionWaitersMax) {
      return Promise.reject(resourceExhausted(`too many reads waiting for a revision (limit ${revisionWaitersMax})`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        revision,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(deadlineExceeded(`revision ${revision} not applied on this node within ${timeoutMs} ms (at ${current})`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  close(): void {
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.waiters.clear();
    this.listeners.clear();
  }
}
