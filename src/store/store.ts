/**
 * The Store, the directory's one door to its data: reads from StoreQueries,
 * the connection's life from connection.ts, and here the writes. `apply` writes
 * one commit's changes with the reverse ACL and replica indexes, the placement
 * counters, the revision and the change log, and empties the bounded read
 * caches before the change is visible. Callers run it inside `transaction(fn)`
 * or `beginWrite`/`commitWrite`; a rollback through them empties the caches and
 * rereads the revision. It never hands out its raw connection.
 */
import type Database from 'better-sqlite3';
import { indexedIdentifier } from '../model/acl.js';
import { limits } from '../model/limits.js';
import type { Change, MailboxRecord } from '../model/records.js';
import { AclReadCache } from './acl-read-cache.js';
import { backupDatabase, type BackupFacts } from './backup.js';
import { EmptyDirectoryLoad } from './bulk-load.js';
import { ChildrenMemo } from './children-memo.js';
import { attachConnection, ConnectionLifecycle, databasePathOf, openDatabase, relistIncompleteKey, type StoreOptions } from './connection.js';
import { StoreQueries, type AclRow } from './queries.js';
import { mailboxColumnsSql, mailboxRow } from './rows.js';
import { placementCountsRebuildSql } from './schema.js';
import type { WalSync } from './wal-sync.js';

export {
  bulkLoadCacheKibibytes,
  bulkLoadIncompleteKey,
  cacheMebibytesMax,
  defaultCacheMebibytes,
  relistIncompleteKey,
  type StoreOptions,
  type SynchronousMode,
} from './connection.js';
export { hotQuerySql, serverRecordMemoEntriesMax } from './queries.js';

export { mailboxColumnsSql, mailboxRow, stateCode, type ListCandidate, type MisplacedRow, type RouteRow } from './rows.js';

/** The SQL of every write `apply` runs, exported so test/perf-guard checks each plan. */
export const applySql = {
  putMeta: 'INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  // A new uniqueid is inserted; a known one is updated (and its reverse-index rows rewritten).
  insertMailbox: `INSERT INTO mailboxes(${mailboxColumnsSql}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uniqueid) DO NOTHING`,
  // Parameters: mailboxRow's columns after uniqueid, then uniqueid.
  updateMailbox: `UPDATE mailboxes SET name = ?, sortkey = ?, owner = ?, is_root = ?, server = ?,
           state = ?, reserved_until_ms = ?, revision = ?, record = ?
         WHERE uniqueid = ?`,
  // Where a mailbox counted before an update moves it (the counters follow).
  placementOf: 'SELECT server, is_root FROM mailboxes WHERE uniqueid = ?',
  deleteMailbox: 'DELETE FROM mailboxes WHERE uniqueid = ? RETURNING server, is_root',
  deleteAclIndex: 'DELETE FROM acl_index WHERE uniqueid = ?',
  insertAclIndex: 'INSERT OR IGNORE INTO acl_index(identifier, uniqueid) VALUES (?, ?)',
  deleteReplicaIndex: 'DELETE FROM mailbox_replicas WHERE uniqueid = ?',
  insertReplicaIndex: 'INSERT OR IGNORE INTO mailbox_replicas(server, uniqueid) VALUES (?, ?)',
  // The placement counters: users (roots) and mailboxes added to a server, or taken from it.
  addPlacement: `INSERT INTO server_counts(server, users, mailboxes) VALUES (?, ?, ?)
         ON CONFLICT(server) DO UPDATE SET users = users + excluded.users, mailboxes = mailboxes + excluded.mailboxes`,
  takePlacement: 'UPDATE server_counts SET users = users - ?, mailboxes = mailboxes - ? WHERE server = ?',
  dropEmptyCount: 'DELETE FROM server_counts WHERE server = ? AND users = 0 AND mailboxes = 0',
  putServer: 'INSERT INTO servers(name, record) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record',
  putBusiness: 'INSERT INTO businesses(id, home_server) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET home_server = excluded.home_server',
  putUser: `INSERT INTO users(user, business, moving_from, moving_to, moving_since_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(user) DO UPDATE SET business = excluded.business, moving_from = excluded.moving_from,
           moving_to = excluded.moving_to, moving_since_ms = excluded.moving_since_ms`,
  deleteUser: 'DELETE FROM users WHERE user = ?',
  putLock: `INSERT INTO locks(name, holder, expires_at_ms) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms`,
  deleteLock: 'DELETE FROM locks WHERE name = ?',
  insertChange: 'INSERT INTO changes(revision, seq, change) VALUES (?, ?, ?)',
  pruneChanges: 'DELETE FROM changes WHERE revision <= ?',
  deleteMeta: 'DELETE FROM meta WHERE key = ?',
  changesAt: 'SELECT change FROM changes WHERE revision = ? AND seq > ? ORDER BY seq LIMIT ?',
} as const;

function prepareWrites(db: Database.Database) {
  const sql = applySql;
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    putMeta: db.prepare(sql.putMeta),
    insertMailbox: db.prepare(sql.insertMailbox),
    updateMailbox: db.prepare(sql.updateMailbox),
    placementOf: db.prepare<[string], { server: string; is_root: number }>(sql.placementOf),
    deleteMailbox: db.prepare<[string], { server: string; is_root: number }>(sql.deleteMailbox),
    deleteAclIndex: db.prepare(sql.deleteAclIndex),
    insertAclIndex: db.prepare(sql.insertAclIndex),
    deleteReplicaIndex: db.prepare(sql.deleteReplicaIndex),
    insertReplicaIndex: db.prepare(sql.insertReplicaIndex),
    addPlacement: db.prepare(sql.addPlacement),
    takePlacement: db.prepare(sql.takePlacement),
    dropEmptyCount: db.prepare(sql.dropEmptyCount),
    putServer: db.prepare(sql.putServer),
    putBusiness: db.prepare(sql.putBusiness),
    putUser: db.prepare(sql.putUser),
    deleteUser: db.prepare(sql.deleteUser),
    putLock: db.prepare(sql.putLock),
    deleteLock: db.prepare(sql.deleteLock),
    insertChange: db.prepare(sql.insertChange),
    pruneChanges: db.prepare(sql.pruneChanges),
    deleteMeta: db.prepare(sql.deleteMeta),
    changesAt: db.prepare<[number, number, number], { change: string }>(sql.changesAt),
  };
}

/**
 * Told of what the writer's caches forget, so that readers on other connections
 * (read threads, read-pool.ts) forget it too: `forget` for each mailbox put or
 * deleted, then `applied(revision)` once that commit's changes are all told
 * (inside its transaction, before COMMIT); `reset` when a rollback emptied the
 * caches and the revision is back at `revision`.
 */
export interface CacheListener {
  forget(uniqueid: string, acl: MailboxRecord['acl']): void;
  applied(revision: number): void;
  reset(revision: number): void;
}

export class Store extends StoreQueries {
  /** Told of every cache forget (the node's read threads); null without them. */
  cacheListener: CacheListener | null = null;
  readonly path: string;
  private readonly retention: number;
  private readonly writes;
  private readonly lifecycle: ConnectionLifecycle;
  private revisionCache: number;
  private readonly aclReadCache = new AclReadCache();
  private readonly childrenMemo = new ChildrenMemo();

  constructor(options: StoreOptions) {
    super(openDatabase(databasePathOf(options.dataDir), options));
    this.path = this.db.name;
    attachConnection(this, this.db);
    this.lifecycle = new ConnectionLifecycle(this.db, this.path, options.synchronous);
    this.retention = options.changeLogRetentionRevisions ?? limits.changeLogRetentionRevisions;
    this.writes = prepareWrites(this.db);
    this.revisionCache = this.storedRevision();
  }

  // ------------------------------------------------------------ meta and revision

  putMeta(key: string, value: string): void {
    this.writes.putMeta.run(key, value);
  }

  /** The revision of the last applied commit (0 for an empty directory). */
  revision(): number {
    return this.revisionCache;
  }

  /** The oldest revision Watch can resume after without a snapshot. */
  oldestRetainedRevision(): number {
    return this.oldestRetainedRevisionAt(this.revisionCache);
  }

  // ------------------------------------------------------------ cached reads

  /** True when an ACTIVE mailbox exists strictly under the mailbox whose sort key is `key` (remembered between reads). */
  override hasChildrenOfKey(key: Buffer): boolean {
    return this.childrenMemo.hasChildren(key, () => super.hasChildrenOfKey(key));
  }

  /** Every mailbox whose ACL names `identifier`, at most `limit`, from the cache when it has them. */
  protected override aclRows(identifier: string, limit: number): readonly AclRow[] {
    const cached = this.aclReadCache.get(identifier);
    if (cached !== undefined) return cached;
    const rows = super.aclRows(identifier, limit);
    if (rows.length < limit) this.aclReadCache.put(identifier, rows); // only a complete set is kept
    return rows;
  }

  // ------------------------------------------------------------ transactions

  /**
   * Runs `write` in one transaction (a savepoint inside another): committed
   * when it returns, rolled back when it throws, and then the caches are
   * emptied and the revision read again before the error goes on.
   */
  transaction<T>(write: () => T): T {
    try {
      return this.db.transaction(write)();
    } catch (error) {
      this.afterRollback();
      throw error;
    }
  }

  /** Opens a write transaction that takes the write lock at once (BEGIN IMMEDIATE); end it with commitWrite or rollbackWrite. */
  beginWrite(): void {
    this.writes.begin.run();
  }

  commitWrite(): void {
    this.writes.commit.run();
  }

  /** Rolls back the open write transaction (if any), then empties the caches and reads the revision again. */
  rollbackWrite(): void {
    if (this.db.inTransaction) this.writes.rollback.run();
    this.afterRollback();
  }

  /** Forgets what a rolled-back transaction (or a write outside `apply`, as a bulk load's) may have left in memory. */
  resetRevisionCache(): void {
    this.afterRollback();
  }

  private afterRollback(): void {
    this.aclReadCache.clear(); // what a rolled-back transaction dropped from it is simply read again
    this.childrenMemo.clear();
    this.revisionCache = this.storedRevision();
    this.cacheListener?.reset(this.revisionCache);
  }

  // ------------------------------------------------------------ writes

  /**
   * Applies one commit's changes at `revision` (the caller holds a transaction).
   * Mailbox records are stamped with the revision, unless `keepMailboxRevisions`
   * (a relist copies records with the revisions they already have). The revision only grows.
   */
  apply(changes: readonly Change[], revision: number, options: { keepMailboxRevisions?: boolean } = {}): void {
    if (revision <= this.revisionCache) {
      throw new Error(`store: revision ${revision} does not follow ${this.revisionCache}`);
    }
    changes.forEach((change, seq) => {
      const keep = options.keepMailboxRevisions === true && change.kind === 'mailbox.put';
      this.applyOne(change, keep ? change.mailbox.revision : revision);
      this.writes.insertChange.run(revision, seq, JSON.stringify(change));
    });
    this.writes.putMeta.run('revision', String(revision));
    this.revisionCache = revision;
    this.cacheListener?.applied(revision);
    if (revision % 1000 === 0) this.writes.pruneChanges.run(revision - this.retention);
  }

  /**
   * Applies commits in revision order in one transaction (one COMMIT for the lot, as the
   * etcd follower applies a watch response); on a failure nothing of them stays applied.
   */
  applyCommits(commits: ReadonlyArray<{ changes: readonly Change[]; revision: number }>, options: { keepMailboxRevisions?: boolean } = {}): void {
    this.transaction(() => {
      for (const commit of commits) this.apply(commit.changes, commit.revision, options);
    });
  }

  /**
   * For a view another system keeps durable (the etcd engine): commits stop waiting for
   * fsync (synchronous=NORMAL, under WAL still safe from corruption; the WAL is synced at
   * checkpoints). A crash may lose the newest commits, rows and applied revision together,
   * and the view's owner replays them from its source. OFF stays OFF.
   */
  skipCommitSyncs(): void {
    this.lifecycle.skipCommitSyncs();
  }

  private applyOne(change: Change, revision: number): void {
    switch (change.kind) {
      case 'mailbox.put':
        change.mailbox.revision = revision;
        this.putMailbox(change.mailbox);
        return;
      case 'mailbox.delete':
        change.mailbox.revision = revision;
        this.deleteMailbox(change.mailbox);
        return;
      case 'server.put':
        this.writes.putServer.run(change.server.name, JSON.stringify(change.server));
        return;
      case 'business.put':
        this.writes.putBusiness.run(change.business.id, change.business.homeServer);
        return;
      case 'user.put': {
        const user = change.user;
        this.writes.putUser.run(user.user, user.business, user.movingFrom, user.movingTo, user.movingSinceMs);
        return;
      }
      case 'user.delete':
        this.writes.deleteUser.run(change.user);
        return;
      case 'lock.put':
        this.writes.putLock.run(change.lock.name, change.lock.holder, change.lock.expiresAtMs);
        return;
      case 'lock.delete':
        this.writes.deleteLock.run(change.name);
        return;
    }
  }

  private putMailbox(mailbox: MailboxRecord): void {
    this.forgetCached(mailbox);
    const row = mailboxRow(mailbox);
    const isRoot = row[4] as number;
    // A create (the common write) is one insert: it has no reverse-index rows to delete.
    if (this.writes.insertMailbox.run(row).changes === 1) {
      this.writes.addPlacement.run(mailbox.server, isRoot, 1);
    } else {
      const before = this.writes.placementOf.get(mailbox.uniqueid);
      this.writes.updateMailbox.run([...row.slice(1), row[0]]);
      if (before !== undefined && (before.server !== mailbox.server || before.is_root !== isRoot)) {
        this.takePlacement(before.server, before.is_root);
        this.writes.addPlacement.run(mailbox.server, isRoot, 1);
      }
      this.writes.deleteAclIndex.run(mailbox.uniqueid);
      this.writes.deleteReplicaIndex.run(mailbox.uniqueid);
    }
    for (const entry of mailbox.acl) {
      this.writes.insertAclIndex.run(indexedIdentifier(entry.identifier), mailbox.uniqueid);
    }
    for (const replica of mailbox.replicas) this.writes.insertReplicaIndex.run(replica.server, mailbox.uniqueid);
  }

  /** Empties what the caches hold of `mailbox` (a put or delete), and tells the readers (cacheListener). */
  private forgetCached(mailbox: MailboxRecord): void {
    this.aclReadCache.forget(mailbox.uniqueid, mailbox.acl);
    this.childrenMemo.clear();
    this.cacheListener?.forget(mailbox.uniqueid, mailbox.acl);
  }

  private deleteMailbox(mailbox: MailboxRecord): void {
    this.forgetCached(mailbox);
    const deleted = this.writes.deleteMailbox.get(mailbox.uniqueid);
    if (deleted !== undefined) this.takePlacement(deleted.server, deleted.is_root);
    this.writes.deleteAclIndex.run(mailbox.uniqueid);
    this.writes.deleteReplicaIndex.run(mailbox.uniqueid);
  }

  /**
   * Takes one mailbox (a user too when `users` is 1) from `server`'s counters; a
   * server left with none loses its row. A missing row or a counter below zero
   * (the table's CHECK) fails the write: the counters and the rows disagree.
   */
  private takePlacement(server: string, users: number): void {
    if (this.writes.takePlacement.run(users, 1, server).changes !== 1) {
      throw new Error(`store: placement counters hold no mailbox on ${server}, whose mailbox is being moved or deleted`);
    }
    this.writes.dropEmptyCount.run(server);
  }

  /** Counts the placement counters again from the mailboxes (after a bulk load wrote rows without `apply`). */
  rebuildPlacementCounts(): void {
    this.db.exec(placementCountsRebuildSql);
  }

  // ------------------------------------------------------------ relist (etcd engine)

  /** The revision of a relist that was started and not finished (its rows are partly in), or 0. */
  relistInProgress(): number {
    return Number(this.getMeta(relistIncompleteKey) ?? 0);
  }

  /**
   * Applies one part of a relist to `revision` in its own transaction: records keep the
   * revisions they carry, the applied revision does not move (`finishRelist` moves it), and
   * the relist is marked in progress. With `firstSeq` the changes go to the change log at
   * `revision` from that sequence number (Watch subscribers are told after `finishRelist`).
   */
  applyRelistPart(changes: readonly Change[], revision: number, firstSeq: number | null): void {
    if (revision <= this.revisionCache) throw new Error(`store: relist revision ${revision} does not follow ${this.revisionCache}`);
    this.transaction(() => {
      this.writes.putMeta.run(relistIncompleteKey, String(revision));
      changes.forEach((change, index) => {
        this.applyOne(change, change.kind === 'mailbox.put' ? change.mailbox.revision : revision);
        if (firstSeq !== null) this.writes.insertChange.run(revision, firstSeq + index, JSON.stringify(change));
      });
      this.cacheListener?.applied(this.revisionCache);
    });
  }

  /**
   * Ends a relist: the applied revision becomes `revision` and the mark goes, in one commit.
   * Unless its changes were logged, the change log up to `revision` is emptied (a Watch
   * resuming from before it gets a snapshot instead of a gap).
   */
  finishRelist(revision: number, logged: boolean): void {
    this.transaction(() => {
      this.writes.putMeta.run('revision', String(revision));
      this.writes.deleteMeta.run(relistIncompleteKey);
      if (!logged) this.writes.pruneChanges.run(revision);
      this.revisionCache = revision;
      this.cacheListener?.applied(revision);
    });
  }

  /**
   * A set of hierarchy names for one relist, in a temporary table (SQLite's temp file, not
   * this process's memory: a cluster holds hundreds of thousands); `drop` removes it.
   */
  relistScratch(): { add(hierarchies: readonly string[]): void; has(hierarchy: string): boolean; drop(): void } {
    this.db.exec('DROP TABLE IF EXISTS temp.relist_seen; CREATE TEMP TABLE relist_seen(hierarchy TEXT PRIMARY KEY) WITHOUT ROWID');
    const insert = this.db.prepare('INSERT OR IGNORE INTO temp.relist_seen(hierarchy) VALUES (?)');
    const select = this.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM temp.relist_seen WHERE hierarchy = ?');
    return {
      add: (hierarchies) => this.db.transaction(() => hierarchies.forEach((hierarchy) => insert.run(hierarchy)))(),
      has: (hierarchy) => select.get(hierarchy) !== undefined,
      drop: () => this.db.exec('DROP TABLE IF EXISTS temp.relist_seen'),
    };
  }

  /**
   * Starts the bulk load of a relist into a view holding no mailbox, with no reader but
   * this connection (before the node serves): bulk-load.ts, journal off until `finish`.
   * The relist mark is set first, so a load the process does not finish is discarded on
   * the next open (StoreOptions.discardInterruptedRelist) instead of refused.
   */
  beginRelistLoad(revision: number): EmptyDirectoryLoad {
    this.writes.putMeta.run(relistIncompleteKey, String(revision));
    const mode = this.db.pragma('synchronous', { simple: true }) as number;
    return EmptyDirectoryLoad.begin(this, revision, mode === 0 ? 'OFF' : mode === 1 ? 'NORMAL' : 'FULL');
  }

  /** The logged changes of `revision` after sequence `afterSeq`, at most `limit`, in order. */
  changesAt(revision: number, afterSeq: number, limit: number): Change[] {
    return this.writes.changesAt.all(revision, afterSeq, limit).map((row) => JSON.parse(row.change) as Change);
  }

  // ------------------------------------------------------------ bulk load

  /**
   * Writes mailboxes straight into the tables at `revision`, without the change
   * log (an import of millions would fill it for nothing), in one transaction.
   * For a stopped node only (`mbdir import --data-dir`, the bench generator):
   * the caller has checked names and uniqueids. The change log is emptied, so a
   * Watch resuming from before the load gets a snapshot instead of a gap.
   */
  bulkPutMailboxes(mailboxes: readonly MailboxRecord[], revision: number): void {
    this.aclReadCache.clear();
    this.childrenMemo.clear();
    if (revision < this.revisionCache) {
      throw new Error(`store: bulk revision ${revision} is below ${this.revisionCache}`);
    }
    this.transaction(() => {
      for (const mailbox of mailboxes) {
        mailbox.revision = revision;
        this.putMailbox(mailbox);
      }
      this.writes.putMeta.run('revision', String(revision));
      this.writes.pruneChanges.run(revision);
    });
    this.revisionCache = revision;
  }

  /** Applies non-mailbox changes (servers, businesses, users) of a bulk load at `revision`, without the change log. */
  bulkApply(changes: readonly Change[], revision: number): void {
    this.transaction(() => {
      for (const change of changes) this.applyOne(change, revision);
      this.writes.putMeta.run('revision', String(revision));
      this.writes.pruneChanges.run(revision);
    });
    this.revisionCache = Math.max(this.revisionCache, revision);
  }

  // ------------------------------------------------------------ lifecycle (connection.ts)

  /** True until `close`. */
  isOpen(): boolean {
    return this.lifecycle.open;
  }

  /** See ConnectionLifecycle.enterBulkMode. */
  enterBulkMode(): void {
    this.lifecycle.enterBulkMode();
  }

  /** Copies the whole write-ahead log into the database file and empties it. */
  checkpointWholeLog(): void {
    this.lifecycle.checkpointWholeLog();
  }

  /** A consistent copy of the database in `targetPath` (SQLite's online backup), and what it holds. */
  backupTo(targetPath: string): Promise<BackupFacts> {
    return backupDatabase(this.db, targetPath);
  }

  startBackgroundCheckpoints(): void {
    this.lifecycle.startBackgroundCheckpoints();
  }

  deferCommitSyncs(): WalSync | null {
    return this.lifecycle.deferCommitSyncs();
  }

  whenWritesMayStart(start: () => void): void {
    this.lifecycle.whenWritesMayStart(start);
  }

  checkpointCounts(): { checkpoints: number; holds: number } {
    return this.lifecycle.checkpointCounts();
  }

  committed(changes: number): void {
    this.lifecycle.committed(changes);
  }

  stopBackgroundCheckpoints(): Promise<void> {
    return this.lifecycle.stopBackgroundCheckpoints();
  }

  close(): void {
    this.lifecycle.close();
  }
}
