/**
 * The standalone engine (the default): SQLite is the truth, and the revision
 * is a local counter committed in the same transaction as the change.
 *
 * Group commit: writes that arrive while one transaction is being prepared are
 * batched into the next one, each inside its own SAVEPOINT so that a refused
 * write rolls back alone; one COMMIT (one fsync under synchronous=FULL) then
 * makes the whole batch durable. Each write still gets its own revision.
 * Nothing is acknowledged before its COMMIT returns.
 */
import { resourceExhausted } from '../model/errors.js';
import type { ChangeEvent } from '../model/records.js';
import type { Store } from '../store/store.js';
import { AppliedNotifier } from './applied-waiters.js';
import type { Committed, DecideFunction, Engine, EngineStatus } from './engine.js';

/** Writes committed by one SQLite transaction at most. */
export const groupCommitWritesMax = 256;
/** Writes waiting for a transaction at most; past this a write is refused. */
export const commitQueueWritesMax = 10_000;

interface PendingWrite {
  decide: DecideFunction<unknown>;
  resolve: (committed: Committed<unknown>) => void;
  reject: (error: unknown) => void;
}

export class StandaloneEngine implements Engine {
  readonly kind = 'standalone' as const;
  private readonly notifier = new AppliedNotifier();
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {}

  commit<T>(decide: DecideFunction<T>): Promise<Committed<T>> {
    if (this.closed) return Promise.reject(new Error('engine closed'));
    return new Promise<Committed<T>>((resolve, reject) => {
      if (this.queue.length >= commitQueueWritesMax) {
        reject(resourceExhausted(`commit queue full (${commitQueueWritesMax} writes waiting); retry later`));
        return;
      }
      this.queue.push({
        decide: decide as DecideFunction<unknown>,
        resolve: resolve as (committed: Committed<unknown>) => void,
        reject,
      });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.queue.splice(0, groupCommitWritesMax);
      this.flush(batch);
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** Runs a batch of decisions in one transaction; each write in its own savepoint. */
  private flush(batch: PendingWrite[]): void {
    const db = this.store.db;
    const outcomes: Array<{ write: PendingWrite; committed?: Committed<unknown>; error?: unknown }> = [];
    const events: ChangeEvent[] = [];
    const revisionBefore = this.store.revision();
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const write of batch) {
        const revisionAtSavepoint = this.store.revision();
        db.exec('SAVEPOINT write');
        try {
          const decision = write.decide(this.store);
          let revision = revisionAtSavepoint;
          if (decision.changes.length > 0) {
            revision = revisionAtSavepoint + 1;
            this.store.apply(decision.changes, revision);
            for (const change of decision.changes) events.push({ revision, change });
          }
          db.exec('RELEASE write');
          outcomes.push({ write, committed: { result: decision.result, revision } });
        } catch (error) {
          db.exec('ROLLBACK TO write');
          db.exec('RELEASE write');
          this.store.resetRevisionCache();
          outcomes.push({ write, error });
        }
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      this.store.resetRevisionCache();
      for (const write of batch) write.reject(error);
      return;
    }
    if (this.store.revision() > revisionBefore) this.notifier.applied(events, this.store.revision());
    for (const outcome of outcomes) {
      if (outcome.committed !== undefined) outcome.write.resolve(outcome.committed);
      else outcome.write.reject(outcome.error);
    }
  }

  appliedRevision(): number {
    return this.store.revision();
  }

  waitForRevision(revision: number, timeoutMs: number): Promise<void> {
    return this.notifier.wait(revision, this.store.revision(), timeoutMs);
  }

  onApplied(listener: Parameters<Engine['onApplied']>[0]): () => void {
    return this.notifier.onApplied(listener);
  }

  async status(): Promise<EngineStatus> {
    return { engine: 'standalone', appliedRevision: this.store.revision(), endpoints: [], clusterRevision: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.queue.splice(0);
    if (pending.length > 0) this.flush(pending);
    this.notifier.close();
  }
}
