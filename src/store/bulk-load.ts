/**
 * The fast bulk load of an EMPTY data directory (`mbdir import --data-dir`, the
 * bench generator), for a store already taken with `Store.enterBulkMode`.
 *
 * It writes a `bulk_load_incomplete` marker durably, drops the secondary
 * indexes, turns the journal and fsync off and inserts rows in large
 * transactions; `finish` rebuilds the indexes from the same SQL (CREATE INDEX
 * over the loaded table sorts once instead of millions of random inserts),
 * fsyncs the file, goes back to WAL and deletes the marker in a durable commit.
 * A load that dies in between leaves the marker, and `Store` refuses to open
 * the directory. It never runs on a directory that holds mailboxes.
 */
import type Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { indexedIdentifier } from '../model/acl.js';
import type { MailboxRecord } from '../model/records.js';
import { bulkLoadIncompleteKey, mailboxColumnsSql, mailboxRow, type Store, type SynchronousMode } from './store.js';

/** Mailboxes inserted by one transaction of an unjournaled load (commits only write pages, no fsync). */
export const bulkLoadTransactionMailboxes = 200_000;

/** Tables whose secondary indexes are dropped during the load and rebuilt after it. */
const loadedTables = ['mailboxes', 'acl_index', 'mailbox_replicas'] as const;

interface IndexDefinition {
  name: string;
  sql: string;
}

/** True when a bulk load may take the fast path: no mailbox (hence no index row) yet. */
export function isEmptyForBulkLoad(store: Store): boolean {
  return store.db.prepare('SELECT 1 AS one FROM mailboxes LIMIT 1').get() === undefined;
}

export class EmptyDirectoryLoad {
  private readonly insertMailbox: Database.Statement;
  private readonly insertAcl: Database.Statement;
  private readonly insertReplica: Database.Statement;
  private inTransaction = 0;

  private constructor(
    private readonly store: Store,
    private readonly indexes: readonly IndexDefinition[],
    private readonly revision: number,
    private readonly synchronous: SynchronousMode,
  ) {
    const db = store.db;
    // OR IGNORE: a name or uniqueid loaded already is a conflict, reported by `put`, never a replacement.
    this.insertMailbox = db.prepare(`INSERT OR IGNORE INTO mailboxes(${mailboxColumnsSql}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertAcl = db.prepare('INSERT OR IGNORE INTO acl_index(identifier, uniqueid) VALUES (?, ?)');
    this.insertReplica = db.prepare('INSERT OR IGNORE INTO mailbox_replicas(server, uniqueid) VALUES (?, ?)');
  }

  /**
   * Starts the load at `revision`: the marker and the dropped indexes are
   * committed and checkpointed into the database file before anything is
   * written without a journal. The directory must be empty (`isEmptyForBulkLoad`).
   */
  static begin(store: Store, revision: number, synchronous: SynchronousMode): EmptyDirectoryLoad {
    const db = store.db;
    const indexes = db
      .prepare<string[], IndexDefinition>(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
         AND tbl_name IN (${loadedTables.map(() => '?').join(', ')}) ORDER BY name`,
      )
      .all(...loadedTables);
    db.pragma('synchronous = FULL');
    db.transaction(() => {
      store.putMeta(bulkLoadIncompleteKey, new Date().toISOString());
      for (const index of indexes) db.exec(`DROP INDEX ${quoteIdentifier(index.name)}`);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    // better-sqlite3's defensive mode forbids journal_mode=OFF; the marker above covers the risk.
    db.unsafeMode(true);
    if (db.pragma('journal_mode = OFF', { simple: true }) !== 'off') throw new Error('bulk load: SQLite refused journal_mode=OFF');
    db.pragma('synchronous = OFF');
    const load = new EmptyDirectoryLoad(store, indexes, revision, synchronous);
    db.exec('BEGIN');
    return load;
  }

  /** Inserts one mailbox at the load's revision; false (nothing written) when its name or uniqueid is taken. */
  put(mailbox: MailboxRecord): boolean {
    mailbox.revision = this.revision;
    if (this.insertMailbox.run(mailboxRow(mailbox)).changes === 0) return false;
    for (const entry of mailbox.acl) this.insertAcl.run(indexedIdentifier(entry.identifier), mailbox.uniqueid);
    for (const replica of mailbox.replicas) this.insertReplica.run(replica.server, mailbox.uniqueid);
    this.inTransaction += 1;
    if (this.inTransaction >= bulkLoadTransactionMailboxes) {
      this.store.db.exec('COMMIT');
      this.store.db.exec('BEGIN');
      this.inTransaction = 0;
    }
    return true;
  }

  /**
   * Commits, rebuilds the dropped indexes, fsyncs the database file, returns
   * to WAL with the store's synchronous mode, then records the revision and
   * deletes the marker in one durable commit. The store stays open.
   */
  finish(): void {
    const db = this.store.db;
    db.exec('COMMIT');
    for (const index of this.indexes) db.exec(index.sql);
    fsyncFile(this.store.path);
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new Error('bulk load: SQLite refused journal_mode=WAL');
    db.unsafeMode(false);
    db.pragma('synchronous = FULL');
    db.transaction(() => {
      this.store.putMeta('revision', String(this.revision));
      db.prepare('DELETE FROM changes WHERE revision <= ?').run(this.revision);
      db.prepare('DELETE FROM meta WHERE key = ?').run(bulkLoadIncompleteKey);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma(`synchronous = ${this.synchronous}`);
    this.store.resetRevisionCache();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Flushes a file's written pages to the disk (SQLite wrote them with synchronous=OFF). */
function fsyncFile(path: string): void {
  const descriptor = openSync(path, 'r+');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
