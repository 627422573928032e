/**
 * The replication engine interface: the one seam between the rules and where
 * the truth lives. The directory hands `commit` a pure decision function; the
 * engine runs it against the current state, orders it, makes it durable and
 * applies it to the local SQLite store. Standalone does this in one local
 * transaction; the etcd engine turns the decision into an etcd transaction whose
 * comparisons guard what the decision read. Engines never interpret rules.
 */
import type { Change, ChangeEvent } from '../model/records.js';
import type { Store } from '../store/store.js';

/** What a decision function returns: the changes to commit and its answer. */
export interface Decision<T> {
  changes: Change[];
  result: T;
}

/** Reads the rules may make while deciding; the store is the view of the truth. */
export type DecideFunction<T> = (store: Store) => Decision<T>;

export interface Committed<T> {
  result: T;
  /** The revision the changes committed at; the current revision when there were none. */
  revision: number;
}

export interface CommitOptions {
  /** Identifies a client request, so a retried write is recognised. */
  requestId?: string;
}

export type AppliedListener = (events: readonly ChangeEvent[], revision: number) => void;

/**
 * What an engine reports about its own work, for metrics. The node sets it;
 * engines call it on their write path, so each method must be cheap and never throw.
 */
export interface EngineTelemetry {
  /** One store transaction committed `writes` writes; `seconds` from BEGIN to COMMIT's return. */
  transactionCommitted(seconds: number, writes: number): void;
  /** One flush of the write-ahead log to disk (fdatasync) took `seconds`. */
  walFlushed(seconds: number): void;
  /** An etcd transaction's guard failed (another node wrote a key it read): decided again. */
  etcdTxnConflicted(): void;
  /** An etcd transaction was sent again after its endpoint did not answer. */
  etcdTxnRetried(): void;
}

/** Telemetry that records nothing: the default until a node sets its own. */
export const silentTelemetry: EngineTelemetry = {
  transactionCommitted: () => undefined,
  walFlushed: () => undefined,
  etcdTxnConflicted: () => undefined,
  etcdTxnRetried: () => undefined,
};

export interface EngineStatus {
  engine: 'standalone' | 'etcd';
  appliedRevision: number;
  /** Remote endpoints and their health (etcd only). */
  endpoints: Array<{ endpoint: string; healthy: boolean; error: string; revision: number; leader: boolean }>;
  clusterRevision: number;
  /** The last etcd maintenance run, by whichever node ran it (etcd only, once one ran). */
  lastMaintenance?: {
    node: string;
    atMs: number;
    compactedRevision: number;
    sweptTombstones: number;
    dbSizeBytesBefore: number;
    dbSizeBytesAfter: number;
  };
}

export interface Engine {
  readonly kind: 'standalone' | 'etcd';
  /** Where the engine reports its commits, flushes and retries; silentTelemetry by default. */
  telemetry: EngineTelemetry;
  /** Brings the local store up to date and starts following the truth. */
  start(): Promise<void>;
  /**
   * Runs `decide` against the current state and commits its changes atomically.
   * Typed errors thrown by `decide` reject the promise and change nothing.
   * Mailbox records in the changes are stamped with the commit revision.
   */
  commit<T>(decide: DecideFunction<T>, options?: CommitOptions): Promise<Committed<T>>;
  /** The newest revision applied to the local store. */
  appliedRevision(): number;
  /** Resolves once `revision` is applied locally; rejects with DeadlineExceeded after `timeoutMs`. */
  waitForRevision(revision: number, timeoutMs: number): Promise<void>;
  /** Called after every applied commit, in revision order. Returns an unsubscribe function. */
  onApplied(listener: AppliedListener): () => void;
  status(): Promise<EngineStatus>;
  close(): Promise<void>;
}
