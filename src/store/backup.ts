/**
 * Backup and restore of a data directory's SQLite file. A backup is SQLite's
 * online backup (better-sqlite3 `db.backup()`): consistent at one revision
 * while the node serves, read back afterwards for the revision it holds. A
 * restore checks a file (integrity_check, schema version, revision, no
 * unfinished bulk load) and installs it into an empty or absent data directory,
 * never into one a running node has open. It never modifies the file it reads.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition, invalidArgument } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { migrations } from './schema.js';
import { bulkLoadIncompleteKey, existingDatabasePathOf } from './connection.js';

/** The database file's name inside a data directory. */
export const databaseFileName = 'mbdir.sqlite';

/** What a backup file holds, as its checks found it. */
export interface BackupFacts {
  revision: number;
  schemaVersion: number;
  mailboxes: number;
  bytes: number;
}

/**
 * Copies `source` (an open connection) to `targetPath` with SQLite's online
 * backup, `stepPages` pages per step (writes through the same connection
 * between steps are carried into the copy; another connection's restart it),
 * then reads back what the copy holds.
 */
export async function backupDatabase(source: Database.Database, targetPath: string, stepPages: number = limits.backupStepPages): Promise<BackupFacts> {
  await source.backup(targetPath, { progress: () => stepPages });
  // The copy keeps the source's WAL mode; one file with no -wal beside it is what travels.
  const copy = new Database(targetPath, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  syncFile(targetPath);
  return readBackupFacts(targetPath, false);
}

/**
 * Backs up the database of a data directory from this process (a node may be
 * serving it): one step, so the copy is one read transaction, which in WAL
 * mode holds no writer back.
 */
export async function backupDataDirectory(dataDir: string, targetPath: string): Promise<BackupFacts> {
  const source = new Database(existingDatabasePathOf(dataDir), { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    return await backupDatabase(source, targetPath, 0x7fffffff);
  } finally {
    source.close();
  }
}

/** Opens a backup read-only and checks it; `full` runs SQLite's integrity_check (reads every page). */
export function readBackupFacts(path: string, full: boolean): BackupFacts {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw invalidArgument(`cannot open backup ${path}: ${(error as Error).message}`);
  }
  try {
    return checkOpenBackup(db, path, full);
  } catch (error) {
    if (error instanceof Error && !('kind' in error)) throw invalidArgument(`backup ${path} is not an mbdir database: ${error.message}`);
    throw error;
  } finally {
    db.close();
  }
}

function checkOpenBackup(db: Database.Database, path: string, full: boolean): BackupFacts {
  if (full) {
    const problems = (db.pragma('integrity_check(10)') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
    if (problems.join('') !== 'ok') throw invalidArgument(`backup ${path} fails SQLite's integrity_check: ${problems.join('; ')}`);
  }
  const schemaVersion = db.pragma('user_version', { simple: true }) as number;
  if (schemaVersion < 1 || schemaVersion > migrations.length) {
    throw invalidArgument(`backup ${path} has schema version ${schemaVersion}; this mbdir reads 1 to ${migrations.length}`);
  }
  const meta = (key: string): string | undefined =>
    db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  if (meta(bulkLoadIncompleteKey) !== undefined) throw invalidArgument(`backup ${path} holds a bulk load that did not finish`);
  const revisionText = meta('revision') ?? '0';
  if (!/^\d{1,15}$/.test(revisionText)) throw invalidArgument(`backup ${path} records revision ${JSON.stringify(revisionText)}, not a number`);
  const mailboxes = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM mailboxes').get()?.n ?? 0;
  return { revision: Number(revisionText), schemaVersion, mailboxes, bytes: statSync(path).size };
}

/**
 * Installs a checked backup as `dataDir`'s database. Refuses a directory a
 * process has open (even with `force`), and a non-empty one without `force`
 * (which then replaces the database and its WAL).
 */
export function installBackup(file: string, dataDir: string, force: boolean): BackupFacts {
  const facts = readBackupFacts(file, true);
  const present = existsSync(dataDir) ? readdirSync(dataDir) : [];
  if (present.length > 0) {
    refuseDatabaseInUse(dataDir);
    if (!force) {
      throw failedPrecondition(`data directory ${dataDir} is not empty (${present.slice(0, 3).join(', ')}): give --force to replace its database`);
    }
    for (const name of [databaseFileName, `${databaseFileName}-wal`, `${databaseFileName}-shm`]) rmSync(join(dataDir, name), { force: true });
  }
  mkdirSync(dataDir, { recursive: true });
  const target = join(dataDir, databaseFileName);
  const partial = `${target}.restoring`;
  copyFileSync(file, partial);
  syncFile(partial);
  renameSync(partial, target);
  syncFile(dataDir);
  return facts;
}

/** Throws FailedPrecondition when another connection (a running node) holds the directory's database. */
function refuseDatabaseInUse(dataDir: string): void {
  const path = join(dataDir, databaseFileName);
  if (!existsSync(path)) return;
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    throw failedPrecondition(`data directory ${dataDir} is in use (${(error as Error).message}): stop the node first`);
  } finally {
    db.close();
  }
}

/** fsync of a file or directory, so a rename or a copy survives a power cut. */
function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
