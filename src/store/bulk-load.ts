/**
 * The fast bulk load of an EMPTY data directory (`mbdir import --data-dir`, the
 * bench generator), for a store already taken with `Store.enterBulkMode`.
 *
 * It writes a `bulk_load_incomplete` marker durably, drops the secondary
 * indexes (but a few partial ones over few rows; the unique index on uniqueid
 * too, whose duplicates `LoadedUniqueids` catches meanwhile), turns the journal and fsync
 * off and inserts rows in large transactions, one record at a time (`put`) or
 * packed rows 16 to a statement (`putPacked`); `finish` rebuilds the indexes from the same SQL (CREATE INDEX
 * over the loaded table sorts once instead of millions of random inserts),
 * fsyncs the file, goes back to WAL and deletes the marker in a durable commit.
 * A load that dies in between leaves the marker, and `Store` refuses to open
 * the directory. It never runs on a directory that holds mailboxes.
 *
 * It decides nothing: a mailbox whose name and uniqueid are both free is the
 * create rule's CREATED case and is inserted as packed; any other (and every
 * reservation) is handed back, in input order, to the caller, which runs the
 * directory's create rule against this load's view of its rows (`mailboxByName`,
 * `mailboxByUniqueid`, `server`) and writes the decision with `apply`.
 */
import type Database from 'better-sqlite3';
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { indexedIdentifier } from '../model/acl.js';
import type { Change, MailboxRecord, ServerRecord } from '../model/records.js';
import { LoadedUniqueids } from './loaded-uniqueids.js';
import { packedField, packedFieldSeparator, packedList, packedRowFields } from './packed-rows.js';
import { bulkLoadIncompleteKey, connectionOf, type SynchronousMode } from './connection.js';
import { mailboxColumnsSql, mailboxRow, stateCode } from './rows.js';
import type { Store } from './store.js';

/** Mailboxes inserted by one transaction of an unjournaled load (commits only write pages, no fsync). */
export const bulkLoadTransactionMailboxes = 200_000;
/** Mailboxes per INSERT of packed rows: one statement run binds 16 rows (7 parameters each) instead of one. */
export const packedInsertRows = 16;
/** Reverse-index rows (2 parameters each) per INSERT of a packed load. */
const packedIndexInsertRows = 32;
/** The mailbox columns a packed row binds, in `mailboxColumnsSql` order; state, reservation and revision are constants. */
const packedMailboxParameterCount = 7;
/** Given, in input order, each mailbox the fast path did not write (its name or uniqueid is taken), with the load's earlier rows written. */
export type TakenRow = (mailbox: MailboxRecord) => void;

/** A mailbox to hand to `TakenRow` after the first `rowsBefore` packed rows of a `putPacked` call (a reservation). */
export interface InterleavedMailbox {
  rowsBefore: number;
  mailbox: MailboxRecord;
}

/** Tables whose secondary indexes are dropped during the load and rebuilt after it (but those below). */
const loadedTables = ['mailboxes', 'acl_index', 'mailbox_replicas'] as const;
/**
 * Partial indexes over few rows (reservations: none in a load; user roots: one
 * mailbox in twenty or so), kept up row by row for almost nothing, where
 * rebuilding each would read the whole table once more.
 */
const indexesKeptDuringLoad: ReadonlySet<string> = new Set(['mailboxes_reservations', 'mailboxes_roots_by_server', 'mailboxes_root_owner_server']);
/** Helper threads SQLite's sorter may use to build the indexes after the load (the parsing threads are done by then). */
const indexBuildSorterThreads = 2;

interface IndexDefinition {
  name: string;
  sql: string;
}

/** True when a bulk load may take the fast path: no mailbox (hence no index row) yet. */
export function isEmptyForBulkLoad(store: Store): boolean {
  return connectionOf(store).prepare('SELECT 1 AS one FROM mailboxes LIMIT 1').get() === undefined;
}

export class EmptyDirectoryLoad {
  private readonly insertMailbox: Database.Statement;
  private readonly insertAcl: Database.Statement;
  private readonly insertReplica: Database.Statement;
  /** Multi-row INSERTs of packed rows, by row count (made when first needed). */
  private readonly packedInserts = new Map<string, Database.Statement>();
  private readonly loadedByName: Database.Statement<[string], { rowid: number; uniqueid: string }>;
  private readonly loadedRow: (rowid: number) => { uniqueid: string; name: string } | undefined;
  private readonly recordByName: Database.Statement<[string], { record: string }>;
  private readonly recordByRowid: Database.Statement<[number], { record: string }>;
  private readonly updateRow: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly deleteRowsAfter: Database.Statement;
  private readonly deleteAcl: Database.Statement;
  private readonly deleteReplica: Database.Statement;
  private readonly largestRowid: Database.Statement<[], { rowid: number | null }>;
  /** Reverse-index rows (key, uniqueid pairs) of written rows, not inserted yet. */
  private pendingAclRows: string[] = [];
  private pendingReplicaRows: string[] = [];
  /** Which row holds each uniqueid: the unique index on uniqueid is dropped during the load (see loaded-uniqueids.ts). */
  private readonly loadedUniqueids: LoadedUniqueids;
  /** The uniqueid hashes of the packed rows being inserted. */
  private readonly batchHashes = new Int32Array(packedInsertRows);
  private inTransaction = 0;
  /** A background fsync of the pages committed so far is running (see `flushCommittedPages`). */
  private flushing = false;
  /** Background fsyncs not done yet (`startBackgroundFsync`). */
  private readonly pendingFsyncs = new Set<Promise<void>>();
  /** The largest rowid: the table was empty, and every insert takes the largest rowid plus one. */
  private loadedRows = 0;

  private constructor(
    private readonly store: Store,
    private readonly indexes: readonly IndexDefinition[],
    private readonly revision: number,
    private readonly synchronous: SynchronousMode,
  ) {
    if (!Number.isSafeInteger(revision)) throw new Error(`bulk load: revision ${revision} is not an integer`);
    const db = connectionOf(store);
    // OR IGNORE: a name loaded already is a conflict, reported by `put`, never a replacement
    // (a uniqueid loaded already is refused before the insert: `loadedUniqueids`).
    this.insertMailbox = db.prepare(`INSERT OR IGNORE INTO mailboxes(${mailboxColumnsSql}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertAcl = db.prepare('INSERT OR IGNORE INTO acl_index(identifier, uniqueid) VALUES (?, ?)');
    this.insertReplica = db.prepare('INSERT OR IGNORE INTO mailbox_replicas(server, uniqueid) VALUES (?, ?)');
    this.loadedByName = db.prepare('SELECT rowid, uniqueid FROM mailboxes WHERE name = ?');
    const loadedRow = db.prepare<[number], { uniqueid: string; name: string }>('SELECT uniqueid, name FROM mailboxes WHERE rowid = ?');
    this.loadedRow = (rowid) => loadedRow.get(rowid);
    this.recordByName = db.prepare('SELECT record FROM mailboxes WHERE name = ?');
    this.recordByRowid = db.prepare('SELECT record FROM mailboxes WHERE rowid = ?');
    const assignments = mailboxColumnsSql.split(', ').map((column) => `${column} = ?`).join(', ');
    this.updateRow = db.prepare(`UPDATE mailboxes SET ${assignments} WHERE rowid = ?`);
    this.deleteRow = db.prepare('DELETE FROM mailboxes WHERE rowid = ?');
    this.deleteRowsAfter = db.prepare('DELETE FROM mailboxes WHERE rowid > ?');
    // By primary key: the uniqueid indexes of these tables are dropped during the load.
    this.deleteAcl = db.prepare('DELETE FROM acl_index WHERE identifier = ? AND uniqueid = ?');
    this.deleteReplica = db.prepare('DELETE FROM mailbox_replicas WHERE server = ? AND uniqueid = ?');
    this.largestRowid = db.prepare('SELECT max(rowid) AS rowid FROM mailboxes');
    this.loadedUniqueids = new LoadedUniqueids((rowid) => this.loadedRow(rowid)?.uniqueid);
  }

  /**
   * Starts the load at `revision`: the marker and the dropped indexes are
   * committed and checkpointed into the database file before anything is
   * written without a journal. The directory must be empty (`isEmptyForBulkLoad`).
   */
  static begin(store: Store, revision: number, synchronous: SynchronousMode): EmptyDirectoryLoad {
    const db = connectionOf(store);
    const indexes = db
      .prepare<string[], IndexDefinition>(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
         AND tbl_name IN (${loadedTables.map(() => '?').join(', ')}) ORDER BY name`,
      )
      .all(...loadedTables)
      .filter((index) => !indexesKeptDuringLoad.has(index.name));
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

  /**
   * Inserts one mailbox at the load's revision (or at `revision`: a relist keeps each
   * record's own); false (nothing written) when its name or uniqueid is taken.
   */
  put(mailbox: MailboxRecord, revision: number = this.revision): boolean {
    mailbox.revision = revision;
    if (this.loadedUniqueids.rowidOf(mailbox.uniqueid) !== 0) return false;
    if (this.insertMailbox.run(mailboxRow(mailbox)).changes === 0) return false;
    this.loadedRows += 1;
    this.loadedUniqueids.add(mailbox.uniqueid, this.loadedRows);
    for (const entry of mailbox.acl) this.insertAcl.run(indexedIdentifier(entry.identifier), mailbox.uniqueid);
    for (const replica of mailbox.replicas) this.insertReplica.run(replica.server, mailbox.uniqueid);
    this.countTowardsCommit(1);
    return true;
  }

  /**
   * Inserts packed rows (src/store/packed-rows.ts) in their order, 16 to a
   * statement, at the load's revision; returns how many it wrote. A row whose
   * name or uniqueid is taken goes to `taken` instead, and so does each of
   * `interleaved` after its rows, all in input order, with every row before
   * them written.
   */
  putPacked(packed: string, taken: TakenRow, interleaved: readonly InterleavedMailbox[] = []): number {
    const fields = packed === '' ? [] : packed.split(packedFieldSeparator);
    if (fields.length % packedRowFields !== 0) throw new Error(`putPacked: ${fields.length} fields is not whole rows`);
    const rows = fields.length / packedRowFields;
    let written = 0;
    let cursor = 0;
    for (const entry of interleaved) {
      written += this.putPackedRange(fields, cursor, entry.rowsBefore, taken);
      this.flushIndexRows();
      taken(entry.mailbox);
      cursor = entry.rowsBefore;
    }
    written += this.putPackedRange(fields, cursor, rows, taken);
    this.flushIndexRows();
    return written;
  }

  private putPackedRange(fields: readonly string[], from: number, to: number, taken: TakenRow): number {
    let written = 0;
    for (let first = from; first < to; first += packedInsertRows) {
      written += this.insertPackedMailboxes(fields, first, Math.min(packedInsertRows, to - first), taken);
    }
    this.countTowardsCommit(written);
    return written;
  }

  /**
   * One multi-row INSERT of `count` packed rows from `first`; returns how many
   * it wrote. Rows one of whose uniqueids is taken (by a loaded row, or by an
   * earlier row among them) go one at a time instead; so do the rows from the
   * first whose name was taken, after undoing what the INSERT wrote of them.
   */
  private insertPackedMailboxes(fields: readonly string[], first: number, count: number, taken: TakenRow): number {
    const hashes = this.batchHashes;
    for (let row = 0; row < count; row += 1) hashes[row] = this.loadedUniqueids.hashOf(packedUniqueid(fields, first + row));
    if (this.holdsTakenUniqueid(fields, first, count)) return this.insertPackedOneByOne(fields, first, count, taken);
    const loadedBefore = this.loadedRows;
    const changes = this.packedInsert('mailboxes', count).run(packedMailboxParameters(fields, first, count)).changes;
    const kept = changes === count ? count : this.leadingRowsWritten(fields, first, count, loadedBefore);
    if (kept < changes) this.deleteRowsAfter.run(loadedBefore + kept);
    // The rows kept took the rowids after `loadedBefore`, in order.
    this.loadedRows = loadedBefore + kept;
    for (let index = 0; index < kept; index += 1) {
      this.loadedUniqueids.add(packedUniqueid(fields, first + index), loadedBefore + index + 1, hashes[index]);
      this.queueIndexRows(fields, first + index);
    }
    return kept === count ? kept : kept + this.insertPackedOneByOne(fields, first + kept, count - kept, taken);
  }

  /**
   * True when a uniqueid of these rows is held by a loaded row, or by an
   * earlier row among them (`batchHashes` holds their hashes, in order).
   */
  private holdsTakenUniqueid(fields: readonly string[], first: number, count: number): boolean {
    const hashes = this.batchHashes;
    for (let index = 0; index < count; index += 1) {
      const uniqueid = packedUniqueid(fields, first + index);
      const hash = hashes[index];
      if (this.loadedUniqueids.rowidOf(uniqueid, hash) !== 0) return true;
      for (let earlier = 0; earlier < index; earlier += 1) {
        if (hashes[earlier] === hash && packedUniqueid(fields, first + earlier) === uniqueid) return true;
      }
    }
    return false;
  }

  /**
   * After an INSERT OR IGNORE that skipped rows: how many of its first rows it
   * wrote, in a row (row `index` was written when its name holds rowid
   * `loadedBefore + index + 1` under its uniqueid).
   */
  private leadingRowsWritten(fields: readonly string[], first: number, count: number, loadedBefore: number): number {
    for (let index = 0; index < count; index += 1) {
      const holder = this.loadedByName.get(fields[(first + index) * packedRowFields + packedField.name] ?? '');
      if (holder === undefined || holder.rowid !== loadedBefore + index + 1 || holder.uniqueid !== packedUniqueid(fields, first + index)) {
        return index;
      }
    }
    return count;
  }

  /** `insertPackedMailboxes` a row at a time; a row whose name or uniqueid is taken goes to `taken`. */
  private insertPackedOneByOne(fields: readonly string[], first: number, count: number, taken: TakenRow): number {
    let written = 0;
    const insertOne = this.packedInsert('mailboxes', 1);
    for (let row = first; row < first + count; row += 1) {
      const uniqueid = packedUniqueid(fields, row);
      if (this.loadedUniqueids.rowidOf(uniqueid) === 0 && insertOne.run(packedMailboxParameters(fields, row, 1)).changes === 1) {
        this.loadedRows += 1;
        this.loadedUniqueids.add(uniqueid, this.loadedRows);
        this.queueIndexRows(fields, row);
        written += 1;
      } else {
        this.flushIndexRows();
        const mailbox = JSON.parse(fields[row * packedRowFields + packedField.record] ?? '') as MailboxRecord;
        mailbox.revision = this.revision;
        taken(mailbox);
      }
    }
    return written;
  }

  private queueIndexRows(fields: readonly string[], row: number): void {
    const uniqueid = packedUniqueid(fields, row);
    for (const identifier of packedList(fields[row * packedRowFields + packedField.aclIdentifiers] ?? '')) this.pendingAclRows.push(identifier, uniqueid);
    for (const server of packedList(fields[row * packedRowFields + packedField.replicaServers] ?? '')) this.pendingReplicaRows.push(server, uniqueid);
  }

  private flushIndexRows(): void {
    if (this.pendingAclRows.length > 0) this.insertIndexRows('acl_index(identifier, uniqueid)', this.insertAcl, this.pendingAclRows);
    if (this.pendingReplicaRows.length > 0) this.insertIndexRows('mailbox_replicas(server, uniqueid)', this.insertReplica, this.pendingReplicaRows);
    this.pendingAclRows = [];
    this.pendingReplicaRows = [];
  }

  // ------------------------------------------------------------ the create rule's view and its writes

  /** The loaded mailbox named `name`. */
  mailboxByName(name: string): MailboxRecord | undefined {
    return this.decoded(this.recordByName.get(name)?.record);
  }

  /** The loaded mailbox holding `uniqueid`. */
  mailboxByUniqueid(uniqueid: string): MailboxRecord | undefined {
    const rowid = this.loadedUniqueids.rowidOf(uniqueid);
    return rowid === 0 ? undefined : this.decoded(this.recordByRowid.get(rowid)?.record);
  }

  /** A registered server (servers are written before the first mailbox). */
  server(name: string): ServerRecord | undefined {
    return this.store.server(name);
  }

  private decoded(record: string | undefined): MailboxRecord | undefined {
    if (record === undefined) return undefined;
    const mailbox = JSON.parse(record) as MailboxRecord;
    mailbox.revision = this.revision;
    return mailbox;
  }

  /**
   * Writes a create decision's changes (mailbox puts and deletes, at the
   * load's revision), reverse-index rows included. Anything else is a programmer error.
   */
  apply(changes: readonly Change[]): void {
    this.flushIndexRows();
    for (const change of changes) {
      if (change.kind === 'mailbox.put') this.putLoaded(change.mailbox);
      else if (change.kind === 'mailbox.delete') this.deleteLoaded(change.mailbox);
      else throw new Error(`bulk load: a create decided a ${change.kind}`);
      this.countTowardsCommit(1);
    }
  }

  private putLoaded(mailbox: MailboxRecord): void {
    mailbox.revision = this.revision;
    const rowid = this.loadedUniqueids.rowidOf(mailbox.uniqueid);
    if (rowid === 0) {
      const inserted = this.insertMailbox.run(mailboxRow(mailbox));
      if (inserted.changes !== 1) throw new Error(`bulk load: ${mailbox.name} was decided free but is taken`);
      this.loadedRows = Number(inserted.lastInsertRowid);
      this.loadedUniqueids.add(mailbox.uniqueid, this.loadedRows);
    } else {
      const previous = this.mailboxByUniqueid(mailbox.uniqueid);
      if (previous !== undefined) this.deleteIndexRows(previous);
      this.updateRow.run([...mailboxRow(mailbox), rowid]);
    }
    for (const entry of mailbox.acl) this.insertAcl.run(indexedIdentifier(entry.identifier), mailbox.uniqueid);
    for (const replica of mailbox.replicas) this.insertReplica.run(replica.server, mailbox.uniqueid);
  }

  private deleteLoaded(mailbox: MailboxRecord): void {
    const rowid = this.loadedUniqueids.rowidOf(mailbox.uniqueid);
    const previous = rowid === 0 ? undefined : this.mailboxByUniqueid(mailbox.uniqueid);
    if (previous === undefined) throw new Error(`bulk load: ${mailbox.name} was decided deleted but is not loaded`);
    this.deleteIndexRows(previous);
    this.deleteRow.run(rowid);
    // The next insert takes the largest rowid left plus one.
    this.loadedRows = this.largestRowid.get()?.rowid ?? 0;
  }

  private deleteIndexRows(mailbox: MailboxRecord): void {
    for (const entry of mailbox.acl) this.deleteAcl.run(indexedIdentifier(entry.identifier), mailbox.uniqueid);
    for (const replica of mailbox.replicas) this.deleteReplica.run(replica.server, mailbox.uniqueid);
  }

  /** Inserts (key, uniqueid) pairs into a reverse index, 32 to a statement. */
  private insertIndexRows(table: string, single: Database.Statement, pairs: readonly string[]): void {
    const rows = pairs.length / 2;
    const whole = rows - (rows % packedIndexInsertRows);
    if (whole > 0) {
      const statement = this.packedInsert(table, packedIndexInsertRows);
      for (let row = 0; row < whole; row += packedIndexInsertRows) {
        statement.run(pairs.slice(row * 2, (row + packedIndexInsertRows) * 2));
      }
    }
    for (let row = whole; row < rows; row += 1) single.run(pairs[row * 2], pairs[row * 2 + 1]);
  }

  /** The INSERT OR IGNORE of `rows` rows into `target` ('mailboxes' or 'table(columns)'), prepared once. */
  private packedInsert(target: string, rows: number): Database.Statement {
    const key = `${target} ${rows}`;
    let statement = this.packedInserts.get(key);
    if (statement === undefined) {
      const sql =
        target === 'mailboxes'
          ? `INSERT OR IGNORE INTO mailboxes(${mailboxColumnsSql}) VALUES ` +
            Array(rows).fill(`(?, ?, CAST(? AS BLOB), nullif(?, ''), ?, ?, ${stateCode.ACTIVE}, 0, ${this.revision}, ?)`).join(', ')
          : `INSERT OR IGNORE INTO ${target} VALUES ${Array(rows).fill('(?, ?)').join(', ')}`;
      statement = connectionOf(this.store).prepare(sql);
      this.packedInserts.set(key, statement);
    }
    return statement;
  }

  private countTowardsCommit(mailboxes: number): void {
    this.inTransaction += mailboxes;
    if (this.inTransaction >= bulkLoadTransactionMailboxes) {
      connectionOf(this.store).exec('COMMIT');
      connectionOf(this.store).exec('BEGIN');
      this.inTransaction = 0;
      this.flushCommittedPages();
    }
  }

  /**
   * Starts an fsync of the database file on libuv's thread pool, one at a
   * time, so the pages committed so far reach the disk while the load goes on
   * and the durable fsync of `finish` finds little left to write. Only a head
   * start: its outcome does not matter, `finish` fsyncs on its own.
   */
  private flushCommittedPages(): void {
    if (this.flushing) return;
    this.flushing = true;
    void this.startBackgroundFsync().then(() => {
      this.flushing = false;
    });
  }

  /**
   * Starts an fsync of the database file on libuv's thread pool, on a
   * descriptor of its own that is closed when done; `finish` waits for every
   * one. Closing a descriptor of the file drops this process's POSIX locks on
   * it: harmless while the load's marker keeps other processes out, not once
   * the database is live again.
   */
  private startBackgroundFsync(): Promise<void> {
    const descriptor = openSync(this.store.path, 'r+');
    const done = new Promise<void>((resolve) => {
      fsync(descriptor, () => {
        closeSync(descriptor);
        resolve();
      });
    });
    this.pendingFsyncs.add(done);
    void done.then(() => this.pendingFsyncs.delete(done));
    return done;
  }

  /**
   * Commits, rebuilds the dropped indexes, fsyncs the database file, returns
   * to WAL with the store's synchronous mode, then records the revision and
   * deletes the marker in one durable commit. The store stays open. `complete` false (a
   * load given up half way): the indexes and the journal are back, the revision is not
   * recorded and the change log not emptied, so the caller can finish the view otherwise.
   */
  async finish(options: { complete?: boolean } = {}): Promise<void> {
    const db = connectionOf(this.store);
    db.exec('COMMIT');
    db.pragma(`threads = ${indexBuildSorterThreads}`);
    for (const index of this.indexes) {
      db.exec(index.sql);
      // Its pages reach the disk while the next index is built: the final fsync then found
      // 0.3 s of writing left instead of 1.6 s at 2M (one import each way, scratch timing).
      void this.startBackgroundFsync();
    }
    db.pragma('threads = 0');
    // Every descriptor of ours is closed before the database goes live again (see startBackgroundFsync).
    await Promise.all(this.pendingFsyncs);
    fsyncFile(this.store.path);
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new Error('bulk load: SQLite refused journal_mode=WAL');
    db.unsafeMode(false);
    db.pragma('synchronous = FULL');
    db.transaction(() => {
      if (options.complete !== false) {
        this.store.putMeta('revision', String(this.revision));
        db.prepare('DELETE FROM changes WHERE revision <= ?').run(this.revision);
      }
      db.prepare('DELETE FROM meta WHERE key = ?').run(bulkLoadIncompleteKey);
      this.store.rebuildPlacementCounts(); // the rows came in without apply, which keeps them
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma(`synchronous = ${this.synchronous}`);
    this.store.resetRevisionCache();
  }
}

function packedUniqueid(fields: readonly string[], row: number): string {
  return fields[row * packedRowFields + packedField.uniqueid] ?? '';
}

/** The parameters of a packed INSERT of `count` rows from `first`, `packedMailboxParameterCount` a row. */
function packedMailboxParameters(fields: readonly string[], first: number, count: number): Array<string | number> {
  const parameters: Array<string | number> = new Array<string | number>(count * packedMailboxParameterCount);
  for (let row = 0; row < count; row += 1) {
    const at = (first + row) * packedRowFields;
    const to = row * packedMailboxParameterCount;
    parameters[to] = fields[at + packedField.uniqueid] ?? '';
    parameters[to + 1] = fields[at + packedField.name] ?? '';
    parameters[to + 2] = fields[at + packedField.sortkey] ?? '';
    parameters[to + 3] = fields[at + packedField.owner] ?? '';
    parameters[to + 4] = fields[at + packedField.isRoot] === '1' ? 1 : 0;
    parameters[to + 5] = fields[at + packedField.server] ?? '';
    parameters[to + 6] = fields[at + packedField.record] ?? '';
  }
  return parameters;
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
