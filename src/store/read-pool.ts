/**
 * The read threads of a serving node: `threads` workers (read-worker.ts), each
 * with its own read-only SQLite connection (WAL lets them read beside the
 * writer), that run the heavy reads so that point lookups and writes on the
 * main thread never wait behind them. Bounded: readPoolPendingMax reads in
 * flight (one more is refused with ResourceExhausted). A thread that dies is
 * replaced; its reads run once more on another thread, then fail Unavailable.
 * It tells the threads what the writer's caches forget (CacheListener) before
 * any read posted after them: gathered over readThreadInvalidationDelayMs (or
 * readThreadForgetsMax forgets) into one message, since a message wakes every
 * thread and a node taking writes applies hundreds of batches a second.
 */
import { Worker } from 'node:worker_threads';
import type { AclEntry } from '../model/acl.js';
import { DirectoryError, resourceExhausted, unavailable, type ErrorKind } from '../model/errors.js';
import { limits } from '../model/limits.js';
import type { CacheListener } from './store.js';

/** A thread that exits this soon after it started, twice in a row, is restarted only after readThreadRestartDelayMs. */
export const readThreadQuickExitMs = 1000;
export const readThreadRestartDelayMs = 1000;
/** How long close() waits for a thread to stop before it terminates it. */
export const readThreadStopMs = 2000;
/** How long the threads' invalidations may wait for the next read or the next flush. */
export const readThreadInvalidationDelayMs = 100;
/** Forgets gathered at most before they are sent without waiting. */
export const readThreadForgetsMax = 10_000;
/** Times a read runs when its thread dies under it (the first try and one more). */
export const readAttemptsMax = 2;

/** What the pool sends (read-pool.ts). */
export type ToReadThread =
  | { type: 'read'; id: number; kind: string; input: unknown; atLeast: number }
  | { type: 'invalidate'; revision: number; forgets: Array<{ uniqueid: string; acl: AclEntry[] }> }
  | { type: 'reset'; revision: number }
  | { type: 'stop' };

/** What a read thread answers. */
export type FromReadThread =
  | { type: 'ready' }
  | { type: 'answer'; id: number; value: unknown; revision: number }
  | { type: 'failed'; id: number; errorKind: string | null; message: string };

export interface ReadPoolOptions {
  threads: number;
  dataDir: string;
  cacheMebibytes: number;
  /** Each thread's nice value (Linux), set by the thread itself; 0 leaves the process's. */
  nice?: number;
  /** The worker script (read-worker.js beside the compiled directory modules). */
  script: URL;
  /** Told when a thread exits unasked (the node logs it). */
  onThreadExit?: (info: { thread: number; code: number; error: string | null }) => void;
}

interface PendingRead {
  message: Extract<ToReadThread, { type: 'read' }>;
  attempts: number;
  resolve: (answer: { value: unknown; revision: number }) => void;
  reject: (error: Error) => void;
}

interface ReadThread {
  index: number;
  worker: Worker;
  startedAtMs: number;
  pending: Map<number, PendingRead>;
  error: string | null;
}

export class ReadPool implements CacheListener {
  private readonly slots: Array<ReadThread | null>;
  private nextId = 1;
  private pendingCount = 0;
  private closing = false;
  private quickExits = 0;
  private forgets: Array<{ uniqueid: string; acl: AclEntry[] }> = [];
  private appliedThrough: number | null = null;
  private flushTimer: NodeJS.Timeout | undefined;
  /** True once every first thread has started: only then is a thread that exits replaced. */
  private running = false;
  /** Threads replaced after they exited unasked. */
  restarts = 0;

  private constructor(private readonly options: ReadPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > limits.readThreadsMax) {
      throw new Error(`read pool: ${options.threads} threads; expected 1 to ${limits.readThreadsMax}`);
    }
    this.slots = Array.from({ length: options.threads }, () => null);
  }

  /** Starts the threads and waits until each has opened the database (or fails with why one could not). */
  static async start(options: ReadPoolOptions): Promise<ReadPool> {
    const pool = new ReadPool(options);
    try {
      await Promise.all(pool.slots.map((_, index) => pool.spawn(index)));
      pool.running = true;
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Runs heavy read `kind` on a thread, on a snapshot at `atLeast` or newer; answers with that snapshot's revision. */
  run(kind: string, input: unknown, atLeast: number): Promise<{ value: unknown; revision: number }> {
    if (this.closing) return Promise.reject(unavailable('the node is stopping; its read threads are closed'));
    if (this.pendingCount >= limits.readPoolPendingMax) {
      return Promise.reject(resourceExhausted(`${limits.readPoolPendingMax} heavy reads already wait for this node's read threads; retry later`));
    }
    this.flushInvalidations();
    return new Promise((resolve, reject) => {
      const message = { type: 'read' as const, id: this.nextId++, kind, input, atLeast };
      this.pendingCount += 1;
      this.dispatch({ message, attempts: 0, resolve, reject });
    });
  }

  /** Reads waiting for or running on a thread. */
  pending(): number {
    return this.pendingCount;
  }

  // ------------------------------------------------------------ CacheListener

  forget(uniqueid: string, acl: AclEntry[] | readonly AclEntry[]): void {
    this.forgets.push({ uniqueid, acl: [...acl] });
  }

  applied(revision: number): void {
    this.appliedThrough = revision;
    // A read posted meanwhile flushes first (run), so no read sees a cache older than its post.
    if (this.forgets.length >= readThreadForgetsMax) this.flushInvalidations();
    else this.flushTimer ??= setTimeout(() => this.flushInvalidations(), readThreadInvalidationDelayMs).unref();
  }

  reset(revision: number): void {
    this.flushInvalidations();
    this.post({ type: 'reset', revision });
  }

  private flushInvalidations(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.appliedThrough === null) return;
    const message: ToReadThread = { type: 'invalidate', revision: this.appliedThrough, forgets: this.forgets };
    this.forgets = [];
    this.appliedThrough = null;
    this.post(message);
  }

  private post(message: ToReadThread): void {
    for (const thread of this.slots) thread?.worker.postMessage(message);
  }

  // ------------------------------------------------------------ threads

  private dispatch(read: PendingRead): void {
    let chosen: ReadThread | null = null;
    for (const thread of this.slots) {
      if (thread !== null && (chosen === null || thread.pending.size < chosen.pending.size)) chosen = thread;
    }
    if (chosen === null) {
      this.settle(read, unavailable('no read thread is running (they exit as they start: see the log); retry later'));
      return;
    }
    read.attempts += 1;
    chosen.pending.set(read.message.id, read);
    chosen.worker.postMessage(read.message);
  }

  private settle(read: PendingRead, outcome: Error | { value: unknown; revision: number }): void {
    this.pendingCount -= 1;
    if (outcome instanceof Error) read.reject(outcome);
    else read.resolve(outcome);
  }

  private spawn(index: number): Promise<void> {
    const worker = new Worker(this.options.script, {
      workerData: { dataDir: this.options.dataDir, cacheMebibytes: this.options.cacheMebibytes, nice: this.options.nice ?? 0 },
    });
    const thread: ReadThread = { index, worker, startedAtMs: Date.now(), pending: new Map(), error: null };
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromReadThread) => {
        if (message.type === 'ready') {
          ready = true;
          if (this.closing) {
            worker.postMessage({ type: 'stop' } satisfies ToReadThread);
            resolve();
            return;
          }
          this.slots[index] = thread;
          resolve();
          return;
        }
        this.answered(thread, message);
      });
      worker.on('error', (error) => {
        thread.error = error.message;
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`read thread ${index} exited before it opened the database: ${thread.error ?? `code ${code}`}`));
        this.exited(thread, code);
      });
    });
  }

  private answered(thread: ReadThread, message: Exclude<FromReadThread, { type: 'ready' }>): void {
    const read = thread.pending.get(message.id);
    if (read === undefined) return;
    thread.pending.delete(message.id);
    if (message.type === 'answer') this.settle(read, { value: message.value, revision: message.revision });
    else {
      const error = message.errorKind === null ? new Error(message.message) : new DirectoryError(message.errorKind as ErrorKind, message.message);
      this.settle(read, error);
    }
  }

  /** A thread is gone: its reads run again elsewhere (once), and its slot gets a new thread. */
  private exited(thread: ReadThread, code: number): void {
    if (this.slots[thread.index] === thread) this.slots[thread.index] = null;
    const orphans = [...thread.pending.values()];
    thread.pending.clear();
    const why = `read thread exited (${thread.error ?? `code ${code}`}) while answering`;
    if (this.closing || !this.running) {
      for (const read of orphans) this.settle(read, unavailable('the node is stopping; its read threads are closed'));
      return;
    }
    this.options.onThreadExit?.({ thread: thread.index, code, error: thread.error });
    this.quickExits = Date.now() - thread.startedAtMs < readThreadQuickExitMs ? this.quickExits + 1 : 0;
    const respawn = (): void => {
      if (this.closing) return;
      this.restarts += 1;
      this.spawn(thread.index).catch(() => undefined); // a failed start exits, and comes back here
    };
    if (this.quickExits >= 2) setTimeout(respawn, readThreadRestartDelayMs).unref();
    else respawn();
    for (const read of orphans) {
      if (read.attempts >= readAttemptsMax) this.settle(read, unavailable(`${why}, twice; retry`));
      else this.dispatchWhenRunning(read);
    }
  }

  /** Runs `read` again on a live thread, or on the first one to start. */
  private dispatchWhenRunning(read: PendingRead): void {
    if (this.slots.some((slot) => slot !== null)) {
      this.dispatch(read);
      return;
    }
    const startedWithin = readThreadRestartDelayMs + readThreadQuickExitMs;
    const deadline = Date.now() + startedWithin;
    const retry = (): void => {
      if (this.closing || this.slots.some((slot) => slot !== null) || Date.now() >= deadline) this.dispatch(read);
      else setTimeout(retry, 10).unref();
    };
    setTimeout(retry, 10).unref();
  }

  /** Stops every thread (each closes its connection) and fails what still waits. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const threads = this.slots.filter((thread): thread is ReadThread => thread !== null);
    this.slots.fill(null);
    await Promise.all(threads.map(async (thread) => {
      const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
      thread.worker.postMessage({ type: 'stop' } satisfies ToReadThread);
      const timer = setTimeout(() => void thread.worker.terminate(), readThreadStopMs);
      await exited;
      clearTimeout(timer);
    }));
  }
}
