/**
 * One writer per data directory: the lock `mbdir serve` takes before it opens
 * the store. It is SQLite's own exclusive lock on a small database beside the
 * store (`serve.lock`, rollback journal, `locking_mode=EXCLUSIVE`): an OS-level
 * POSIX lock that the kernel drops when the holder dies, even by SIGKILL, so a
 * crashed node never leaves it stuck. Who holds it is written to `serve.holder`
 * (information for the refusal's message only; the lock is the SQLite file's).
 * It never waits: a held lock is refused at once with FailedPrecondition.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { failedPrecondition } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { databasePathOf } from './connection.js';

export const lockFileName = 'serve.lock';
export const holderFileName = 'serve.holder';

export class DataDirLock {
  private constructor(
    private readonly db: Database.Database,
    readonly dataDir: string,
  ) {}

  /**
   * Takes the lock on `dataDir` for this process and records `holder` (e.g.
   * "pid 12 on host a, node n1"); throws FailedPrecondition naming the
   * directory and the current holder when another process (or connection) has it.
   */
  static acquire(dataDir: string, holder: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    checkWritable(dataDir);
    const db = new Database(join(dataDir, lockFileName));
    try {
      db.pragma('busy_timeout = 0');
      // Exclusive locking mode keeps the EXCLUSIVE lock of the first write until close.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = DELETE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS holder(id INTEGER PRIMARY KEY CHECK (id = 1), description TEXT NOT NULL)');
      db.prepare('INSERT OR REPLACE INTO holder(id, description) VALUES (1, ?)').run(holder);
      db.exec('COMMIT');
    } catch (error) {
      db.close();
      const code = (error as { code?: string }).code ?? '';
      if (code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') throw error;
      throw failedPrecondition(
        `the data directory ${resolve(dataDir)} is in use by another mbdir process (${readHolder(dataDir)}): ` +
          'stop it first, or give this node its own --data-dir',
      );
    }
    writeHolder(dataDir, holder);
    return new DataDirLock(db, dataDir);
  }

  /** Rewrites who holds the lock (e.g. once the node knows the port it listens on). */
  describeHolder(holder: string): void {
    if (this.db.open) writeHolder(this.dataDir, holder);
  }

  /** Releases the lock (closing the lock database); safe to call twice. */
  release(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Refuses, naming the path, a data directory (or a database file in it) this
 * process may not write: SQLite would say only "attempt to write a readonly
 * database" or "unable to open database file", naming nothing.
 */
function checkWritable(dataDir: string): void {
  const user = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  const database = databasePathOf(dataDir);
  for (const [path, what] of [
    [dataDir, 'the data directory'],
    ...[database, `${database}-wal`, `${database}-shm`, join(dataDir, lockFileName)].map((path) => [path, 'the database file']),
  ] as const) {
    if (path !== dataDir && !existsSync(path)) continue;
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      throw failedPrecondition(`${what} ${resolve(path)} is not readable and writable by this process${user}: fix its owner or mode, or give another --data-dir`);
    }
  }
}

/** Written beside the lock, atomically (a reader sees the old or the new description). */
function writeHolder(dataDir: string, holder: string): void {
  const path = join(dataDir, holderFileName);
  writeFileSync(`${path}.tmp`, `${holder}\n`, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

function readHolder(dataDir: string): string {
  try {
    const text = readFileSync(join(dataDir, holderFileName), 'utf8').trim().replace(/[\x00-\x1f\x7f]/g, ' ');
    if (text === '') return 'holder unknown';
    return text.length > limits.dataDirHolderCharsMax ? `${text.slice(0, limits.dataDirHolderCharsMax)}...` : text;
  } catch {
    return 'holder unknown';
  }
}
