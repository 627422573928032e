/**
 * The standalone engine (the default): SQLite is the truth, and the revision
 * is a local counter committed in the same transaction as the change.
 *
 * Group commit: writes that arrive while one transaction is being prepared are
 * batched into the next one; one COMMIT makes the whole batch durable. Each
 * write still gets its own revision, and a refused write never takes the others
 * with it. Nothing is acknowledged before its COMMIT returns.
 *
 * Serving under synchronous=FULL, the fsync leaves the COMMIT: the engine
 * flushes the WAL in libuv's thread pool (WalSync) while the event loop goes on
 * serving reads and committing the next batches, and a batch's writers are
 * answered, and its changes announced to Watch and min_revision waiters, only
 * once a flush that started after its COMMIT has returned. One flush covers
 * every batch committed before it started. A read may see a write up to one
 * flush before its writer is answered. A failed flush fails its writes and
 * every later one: the node must be restarted (the frames may not be on disk).
 */
import { resourceExhausted, unavailable } from '../model/errors.js';
import type { ChangeEvent } from '../model/records.js';
import type { Store } from '../store/store.js';
import type { WalSync } from '../store/wal-sync.js';
import { AppliedNotifier } from './applied-waiters.js';
import { silentTelemetry, type Committed, type Decision, type DecideFunction, type Engine, type EngineStatus, type EngineTelemetry } from './engine.js';

/** Writes committed by one SQLite transaction at most. */
export const groupCommitWritesMax = 256;
/** Writes waiting for a transaction at most; past this a write is refused. */
export const commitQueueWritesMax = 10_000;

interface PendingWrite {
  decide: DecideFunction<unknown>;
  resolve: (committed: Committed<unknown>) => void;
  reject: (error: unknown) => void;
}

/** A committed transaction whose writers have not been answered yet. */
interface CommittedBatch {
  outcomes: Array<{ write: PendingWrite; committed?: Committed<unknown>; error?: unknown }>;
  events: ChangeEvent[];
  revision: number;
}

export class StandaloneEngine implements Engine {
  readonly kind = 'standalone' as const;
  telemetry: EngineTelemetry = silentTelemetry;
  private readonly notifier = new AppliedNotifier();
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Set while serving under synchronous=FULL: commits are flushed off the event loop. */
  private walSync: WalSync | null = null;
  /** Committed, waiting for a flush that has not started yet. */
  private awaitingFlush: CommittedBatch[] = [];
  private flushing: Promise<void> | null = null;
  /** Set when a flush failed: no later write may be acknowledged. */
  private flushFailure: Error | null = null;

  constructor(private readonly store: Store) {}

  /**
   * Serving: WAL checkpoints move to a worker, so no COMMIT on the event loop
   * copies pages for them, and under FULL the per-commit fsync leaves the loop.
   */
  async start(): Promise<void> {
    this.store.startBackgroundCheckpoints();
    this.walSync ??= this.store.deferCommitSyncs();
  }

  commit<T>(decide: DecideFunction<T>): Promise<Committed<T>> {
    if (this.closed) return Promise.reject(new Error('engine closed'));
    if (this.flushFailure !== null) return Promise.reject(this.refusalAfterFailedFlush());
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
    setImmediate(() =>
      // A checkpoint that lets the WAL restart may hold the writes for a moment (checkpointer.ts).
      this.store.whenWritesMayStart(() => {
        this.flushScheduled = false;
        const batch = this.queue.splice(0, groupCommitWritesMax);
        this.flush(batch);
        if (this.queue.length > 0) this.scheduleFlush();
      }),
    );
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
    const startedMs = performance.now();
    try {
      this.store.beginWrite();
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
      this.store.commitWrite();
    } catch (error) {
      this.rollback();
      for (const write of batch) write.reject(error);
      return [];
    }
    this.store.committed(events.length);
    this.telemetry.transactionCommitted((performance.now() - startedMs) / 1000, outcomes.length);
    const committed: CommittedBatch = { outcomes, events, revision: this.store.revision() };
    // A batch that changed nothing still waits behind unflushed ones: its answers may rest on their changes.
    const unflushed = committed.revision > revisionBefore || this.flushing !== null;
    const walSync = this.walSync;
    if (walSync !== null && unflushed) this.awaitFlush(walSync, committed);
    else this.acknowledge(committed);
    return [];
  }

  /** Announces a durable batch's changes, then answers its writers. */
  private acknowledge(batch: CommittedBatch): void {
    if (batch.events.length > 0) this.notifier.applied(batch.events, batch.revision);
    for (const outcome of batch.outcomes) {
      if (outcome.committed !== undefined) outcome.write.resolve(outcome.committed);
      else outcome.write.reject(outcome.error);
    }
  }

  private awaitFlush(walSync: WalSync, batch: CommittedBatch): void {
    this.awaitingFlush.push(batch);
    if (this.flushing === null) this.flushing = this.flushCommitted(walSync);
  }

  /** Flushes the WAL until no committed batch is left waiting, answering each batch in commit order. */
  private async flushCommitted(walSync: WalSync): Promise<void> {
    while (this.awaitingFlush.length > 0) {
      const covered = this.awaitingFlush;
      this.awaitingFlush = [];
      const flushStartedMs = performance.now();
      const error = await new Promise<Error | null>((resolve) => walSync.sync(resolve));
      this.telemetry.walFlushed((performance.now() - flushStartedMs) / 1000);
      if (error !== null) this.flushFailure ??= error;
      for (const batch of covered) {
        if (this.flushFailure === null) this.acknowledge(batch);
        else this.refuseUnflushed(batch);
      }
    }
    this.flushing = null;
  }

  private refuseUnflushed(batch: CommittedBatch): void {
    const refusal = this.refusalAfterFailedFlush();
    for (const outcome of batch.outcomes) outcome.write.reject(outcome.committed !== undefined ? refusal : outcome.error);
  }

  private refusalAfterFailedFlush(): Error {
    return unavailable(
      `could not flush the directory's write-ahead log to disk (${this.flushFailure?.message ?? 'unknown error'}); ` +
        'writes since then may not be durable and are refused: restart the node',
    );
  }

  private rollback(): void {
    this.store.rollbackWrite();
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
    await this.flushing;
    this.walSync?.close();
    this.notifier.close();
    await this.store.stopBackgroundCheckpoints();
  }
}
