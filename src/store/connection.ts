/**
 * The store's SQLite connection from open to close: the file, the pragmas
 * (WAL, synchronous, page cache), the refusal of an unfinished bulk load, the
 * schema migration, and what a serving node or a bulk load changes on it
 * (background checkpoints, deferred commit syncs, exclusive bulk mode). It
 * runs no query of the directory's records. `connectionOf` hands the raw
 * handle to the store's own modules (bulk load, backup) and to the store's
 * tests; ESLint forbids importing it anywhere else (the store's narrow door).
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition, invalidArgument } from '../model/errors.js';
import { BackgroundCheckpointer, walAutocheckpointPages, walBackstopCheckpointPages } from './checkpointer.js';
import { migrate } from './schema.js';
import { WalSync } from './wal-sync.js';

export type SynchronousMode = 'FULL' | 'NORMAL' | 'OFF';

export interface StoreOptions {
  /** Directory holding `mbdir.sqlite`; `:memory:` for tests of the store alone. */
  dataDir: string;
  synchronous: SynchronousMode;
  changeLogRetentionRevisions?: number;
  /** SQLite page cache in MiB; defaultCacheMebibytes when absent. */
  cacheMebibytes?: number;
  /** Told before the schema of an existing directory is upgraded (which may rebuild a table: minutes at millions of mailboxes). */
  onSchemaUpgrade?: (from: number, to: number) => void;
  /**
   * A view another system rebuilds (the etcd engine): a bulk load a relist left unfinished
   * (both marks set) is discarded, the database files removed, and the store opens empty.
   */
  discardInterruptedRelist?: boolean;
}

/**
 * The page cache a node keeps by default. It holds every interior B-tree page
 * and the recently used leaves. At millions of mailboxes a random lookup's
 * leaves are mostly not cached whatever the size (a scratch loop of random
 * reads at 2M, not tools/bench: 14 us each with 2 MiB and with 64 MiB), and
 * each MiB is resident memory.
 */
export const defaultCacheMebibytes = 32;
export const cacheMebibytesMax = 65_536;

/** Page cache of a store opened for a bulk load (KiB, negative as SQLite wants it). */
export const bulkLoadCacheKibibytes = 262_144;

/** Milliseconds a statement waits for another connection's lock before failing. */
export const busyTimeoutMs = 5000;

/**
 * Meta key written (durably) before an unjournaled bulk load of an empty data
 * directory starts and deleted in the load's last, durable commit. A store that
 * finds it refuses to open: the load was interrupted and the file may be torn.
 */
export const bulkLoadIncompleteKey = 'bulk_load_incomplete';

/** Meta key holding the revision of a relist under way (etcd engine): its rows are partly in until it is deleted. */
export const relistIncompleteKey = 'relist_incomplete';

/** The database file of `dataDir` (`:memory:` stays in memory). */
export function databasePathOf(dataDir: string): string {
  if (dataDir === ':memory:') return ':memory:';
  mkdirSync(dataDir, { recursive: true });
  return join(dataDir, 'mbdir.sqlite');
}

/**
 * The database file of a data directory a reader opens (export, backup, a
 * read thread): one without a database is refused, and nothing is created
 * (a mistyped directory must not read as an empty directory).
 */
export function existingDatabasePathOf(dataDir: string): string {
  const path = join(dataDir, 'mbdir.sqlite'); // not databasePathOf: that one makes the directory
  if (!existsSync(path)) throw invalidArgument(`no database in ${dataDir}: expected ${path}`);
  return path;
}

/** Opens the database at `path` with the store's pragmas and brings its schema up to date. */
export function openDatabase(path: string, options: StoreOptions): Database.Database {
  if (options.discardInterruptedRelist === true && path !== ':memory:') discardInterruptedRelistLoad(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: an acknowledged write survives a power cut (DESIGN.md, Replication).
  db.pragma(`synchronous = ${options.synchronous}`);
  db.pragma('foreign_keys = OFF');
  db.pragma(`cache_size = -${(options.cacheMebibytes ?? defaultCacheMebibytes) * 1024}`);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // An unfinished bulk load is refused before any migration rewrites its unjournaled file
  // (a database without a schema yet holds no marker).
  if ((db.pragma('user_version', { simple: true }) as number) > 0) refuseInterruptedBulkLoad(db, path);
  migrate(db, options.onSchemaUpgrade);
  return db;
}

function refuseInterruptedBulkLoad(db: Database.Database, path: string): void {
  const started = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(bulkLoadIncompleteKey)?.value;
  if (started === undefined) return;
  db.close();
  throw failedPrecondition(
    `the data directory ${path} holds a bulk load that did not finish (mbdir import --data-dir or ` +
      `mbdir bench generate, started ${started}): it was written without a journal, so it may be incomplete or torn. ` +
      'Remove the data directory and run the load again',
  );
}

/** Removes the database files when they hold a relist's unfinished bulk load: torn, and etcd's to rebuild. */
function discardInterruptedRelistLoad(path: string): void {
  if (!existsSync(path)) return;
  const db = new Database(path);
  let interrupted = false;
  try {
    if (db.prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined) {
      const mark = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
      interrupted = mark.get(bulkLoadIncompleteKey) !== undefined && mark.get(relistIncompleteKey) !== undefined;
    }
  } finally {
    db.close();
  }
  if (!interrupted) return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
}

const connections = new WeakMap<object, Database.Database>();

/** Files `db` as the connection of `owner` (the Store, at construction). */
export function attachConnection(owner: object, db: Database.Database): void {
  connections.set(owner, db);
}

/** The raw connection of a store: for src/store modules and the store's tests only (see the note above). */
export function connectionOf(owner: object): Database.Database {
  const db = connections.get(owner);
  if (db === undefined) throw new Error('connectionOf: not a store');
  return db;
}

/**
 * What a serving node or a bulk load changes on the connection, and its close:
 * the background checkpointer and its descriptor, deferred commit syncs,
 * exclusive bulk mode.
 */
export class ConnectionLifecycle {
  private checkpointer: BackgroundCheckpointer | null = null;
  /** A read-only descriptor of the database file for the checkpointer's write-back. */
  private databaseFd: number | null = null;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly synchronous: SynchronousMode,
  ) {}

  /** True until `close`. */
  get open(): boolean {
    return this.db.open;
  }

  /**
   * Takes the database for this process alone (an exclusive lock held until
   * close) and raises the page cache for a bulk load. Throws FailedPrecondition
   * when another process, such as a running node, has it open: in WAL mode a
   * node holds a shared lock for as long as it runs, so the lock cannot be had.
   */
  enterBulkMode(): void {
    this.db.pragma('busy_timeout = 0');
    this.db.pragma('locking_mode = EXCLUSIVE');
    try {
      this.db.exec('BEGIN EXCLUSIVE');
      this.db.exec('COMMIT');
    } catch (error) {
      throw failedPrecondition(
        `the data directory ${this.path} is in use (${(error as Error).message}): stop the node first, or go through it with --endpoint`,
      );
    }
    this.db.pragma(`cache_size = -${bulkLoadCacheKibibytes}`);
  }

  /** Copies the whole write-ahead log into the database file and empties it (a load's end, before close). */
  checkpointWholeLog(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /**
   * Moves WAL checkpoints off this connection's commits to a worker thread (a
   * serving node; see checkpointer.ts). Should the worker die, commits checkpoint
   * again as SQLite does by default.
   */
  startBackgroundCheckpoints(): void {
    if (this.path === ':memory:' || this.checkpointer !== null) return;
    this.db.pragma(`wal_autocheckpoint = ${walBackstopCheckpointPages}`);
    // Closed by close(), after the connection: see checkpointer.ts on descriptors and locks.
    this.databaseFd ??= openSync(this.path, 'r');
    this.checkpointer = new BackgroundCheckpointer(this.path, this.databaseFd, this.synchronous, () => {
      this.checkpointer = null;
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
    });
  }

  /** A view another system keeps durable: commits stop waiting for fsync (FULL becomes NORMAL; OFF stays OFF). */
  skipCommitSyncs(): void {
    if (this.path === ':memory:' || this.synchronous !== 'FULL') return;
    this.db.pragma('synchronous = NORMAL');
  }

  /**
   * Serving under synchronous=FULL: hands the per-commit WAL flush to the caller,
   * who must not acknowledge a commit before `WalSync.sync` reports it durable.
   * The connection drops to NORMAL, which still syncs around checkpoints. Null
   * (nothing changes) under NORMAL or OFF, or in memory.
   */
  deferCommitSyncs(): WalSync | null {
    if (this.path === ':memory:' || this.synchronous !== 'FULL') return null;
    this.db.pragma('synchronous = NORMAL');
    return new WalSync(`${this.path}-wal`);
  }

  /**
   * Calls `start` at once, or, while the background checkpointer holds the writes
   * for a checkpoint that lets the WAL restart, when it releases them.
   */
  whenWritesMayStart(start: () => void): void {
    if (this.checkpointer === null) start();
    else this.checkpointer.whenReleased(start);
  }

  /** Checkpoints run by the worker and writes holds for a WAL restart (zeros without a worker). */
  checkpointCounts(): { checkpoints: number; holds: number } {
    return { ...(this.checkpointer?.counts ?? { checkpoints: 0, holds: 0 }) };
  }

  /** Tells the background checkpointer (if any) that a transaction committed `changes` changes. */
  committed(changes: number): void {
    this.checkpointer?.committed(changes);
  }

  /** Stops the background checkpoints and waits for the worker's connection to close. */
  async stopBackgroundCheckpoints(): Promise<void> {
    const checkpointer = this.checkpointer;
    this.checkpointer = null;
    await checkpointer?.stop();
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.databaseFd !== null) closeSync(this.databaseFd);
    this.databaseFd = null;
  }
}
