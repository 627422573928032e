/**
 * The standalone engine (the default): SQLite is the truth, and the revision
 * is a local counter committed in the same transaction as the change.
 *
 * Group commit: writes that arrive while one transaction is being prepared are
 * batched into the next one; one COMMIT (one fsync under synchronous=FULL) makes
 * the whole batch durable. Each write still gets its own revision, and a refused
 * write never takes the others with it. Nothing is acknowledged before its
 * COMMIT returns.
 */
import { resourceExhausted } from '../model/errors.js';
import type { ChangeEvent } from '../model/records.js';
import type { Store } from '../store/store.js';
import { AppliedNotifier } from './applied-waiters.js';
import type { Committed, Decision, DecideFunction, Engine, EngineStatus } from './engine.js';

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

  /** Transaction control, prepared once: exec() would parse the SQL on every batch. */
  private readonly statements;

  constructor(private readonly store: Store) {
    this.statements = {
      begin: store.db.prepare('BEGIN IMMEDIATE'),
      commit: store.db.prepare('COMMIT'),
      rollback: store.db.prepare('ROLLBACK'),
    };
  }

  /** Serving: WAL checkpoints move to a worker, so no COMMIT on the event loop copies pages for them. */
  async start(): Promise<void> {
    this.store.startBackgroundCheckpoints();
  }

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

  /** Commits a batch; a write whose changes fail to apply is refused alone and the rest run again. */
  private flush(batch: PendingWrite[]): void {
    let pending = batch;
    // Each pass either commits what is left or refuses one write: at most batch.length passes.
    while (pending.length > 0) pending = this.runTransaction(pending);
  }

  /**
   * Runs a batch of decisions in one transaction (one COMMIT, one fsync under
   * synchronous=FULL). A decision that throws has written nothing (decisions only
   * read), so it is refused without a rollback; a write whose changes fail to
   * apply rolls the transaction back and is refused, and the others are returned
   * to run again on the state they saw. Nothing is acknowledged before COMMIT returns.
   */
  private runTransaction(batch: PendingWrite[]): PendingWrite[] {
    const outcomes: Array<{ write: PendingWrite; committed?: Committed<unknown>; error?: unknown }> = [];
    const events: ChangeEvent[] = [];
    const revisionBefore = this.store.revision();
    try {
      this.statements.begin.run();
      for (const write of batch) {
        let decision: Decision<unknown>;
        try {
          decision = write.decide(this.store);
        } catch (error) {
          outcomes.push({ write, error });
          continue;
        }
        let revision = this.store.revision();
        if (decision.changes.length > 0) {
          revision += 1;
          try {
            this.store.apply(decision.changes, revision);
          } catch (error) {
            this.rollback();
            write.reject(error);
            return batch.filter((other) => other !== write);
          }
          for (const change of decision.changes) events.push({ revision, change });
        }
        outcomes.push({ write, committed: { result: decision.result, revision } });
      }
      this.statements.commit.run();
    } catch (error) {
      this.rollback();
      for (const write of batch) write.reject(error);
      return [];
    }
    this.store.committed(events.length);
    if (this.store.revision() > revisionBefore) this.notifier.applied(events, this.store.revision());
    for (const outcome of outcomes) {
      if (outcome.committed !== undefined) outcome.write.resolve(outcome.committed);
      else outcome.write.reject(outcome.error);
    }
    return [];
  }

  private rollback(): void {
    if (this.store.db.inTransaction) this.statements.rollback.run();
    this.store.resetRevisionCache();
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
    await this.store.stopBackgroundCheckpoints();
  }
}
