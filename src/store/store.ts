/**
 * The SQLite store (better-sqlite3): the only module that speaks SQL.
 *
 * It owns the schema, the prepared queries the rules read through, and
 * `apply(changes, revision)`, which writes one commit's changes with the
 * reverse ACL and replica indexes, the revision counter and the change log.
 * Callers wrap `apply` in a transaction (the engines do). Every read is bounded
 * by an explicit limit or an indexed key range; no query scans the mailbox
 * table except the exports, which page through it by sort key.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { indexedIdentifier } from '../model/acl.js';
import { failedPrecondition } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { childKeyRange, nameColumns, sortKey } from '../model/names.js';
import type {
  BusinessRecord,
  Change,
  ChangeEvent,
  LockRecord,
  MailboxRecord,
  ServerRecord,
  UserRecord,
} from '../model/records.js';
import { BackgroundCheckpointer, walAutocheckpointPages, walBackstopCheckpointPages } from './checkpointer.js';
import { AclReadCache, type CachedAclRow } from './acl-read-cache.js';
import { ChildrenMemo } from './children-memo.js';
import { WalSync } from './wal-sync.js';
import { mailboxRecordText } from './packed-rows.js';
import { migrate } from './schema.js';

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

export const stateCode = { RESERVED: 1, ACTIVE: 2 } as const;

/**
 * The SQL of the hot reads, exported so test/perf-guard can check their query
 * plans (an index search, never a scan) against the real statements.
 */
export const hotQuerySql = {
  byName: 'SELECT record, revision FROM mailboxes WHERE name = ?',
  byUniqueid: 'SELECT record, revision FROM mailboxes WHERE uniqueid = ?',
  serverByName: 'SELECT server FROM mailboxes WHERE name = ?',
  // Routing a user (socketmap, Dovecot): the root's server and state, that server's addresses
  // and the user's move mark in one read; every delivered message and proxied login costs one.
  routeOfRoot: `SELECT m.server AS server, m.state AS state, s.record AS serverRecord, u.moving_from AS movingFrom, u.moving_to AS movingTo, u.moving_since_ms AS movingSinceMs
         FROM mailboxes m LEFT JOIN servers s ON s.name = m.server LEFT JOIN users u ON u.user = ?
         WHERE m.name = ?`,
  subtree: `SELECT record, revision FROM mailboxes WHERE sortkey = ? OR (sortkey >= ? AND sortkey < ?)
         ORDER BY sortkey LIMIT ?`,
  hasChild: 'SELECT 1 AS one FROM mailboxes WHERE sortkey >= ? AND sortkey < ? AND state = 2 LIMIT 1',
  // Sort-key order: a user's hierarchy is answered (MoveUser) in Cyrus order like every other list.
  byOwner: 'SELECT record, revision FROM mailboxes WHERE owner = ? ORDER BY sortkey LIMIT ?',
  // LIST's two reads: they also return the sort key (no recomputation), and the
  // reverse-ACL read leaves out the caller's own mailboxes, which LIST has from the first.
  listOwn: 'SELECT record, revision, sortkey FROM mailboxes WHERE owner = ? LIMIT ?',
  // NOT IN reads the owner index alone (it covers uniqueid): the caller's own rows are
  // dropped before the join, not fetched and then filtered (a third of the cost).
  // Every mailbox whose ACL names a group or `anyone`: read once, then kept by the AclReadCache.
  aclRows: `SELECT m.record, m.revision, m.sortkey FROM acl_index a JOIN mailboxes m ON m.uniqueid = a.uniqueid
         WHERE a.identifier = ? LIMIT ?`,
  listShared: `SELECT m.record, m.revision, m.sortkey FROM acl_index a JOIN mailboxes m ON m.uniqueid = a.uniqueid
         WHERE a.identifier = ? AND a.uniqueid NOT IN (SELECT uniqueid FROM mailboxes WHERE owner = ?) LIMIT ?`,
  scanAll: 'SELECT record, revision, sortkey FROM mailboxes WHERE sortkey > ? ORDER BY sortkey LIMIT ?',
  scanServer: `SELECT record, revision, sortkey FROM mailboxes WHERE server = ? AND sortkey > ?
         UNION ALL
         SELECT m.record, m.revision, m.sortkey FROM mailbox_replicas r JOIN mailboxes m ON m.uniqueid = r.uniqueid
         WHERE r.server = ? AND m.sortkey > ?
         ORDER BY sortkey LIMIT ?`,
  deleteAclIndex: 'DELETE FROM acl_index WHERE uniqueid = ?',
  deleteReplicaIndex: 'DELETE FROM mailbox_replicas WHERE uniqueid = ?',
} as const;

/** Page cache of a store opened for a bulk load (KiB, negative as SQLite wants it). */
export const bulkLoadCacheKibibytes = 262_144;

/**
 * Meta key written (durably) before an unjournaled bulk load of an empty data
 * directory starts and deleted in the load's last, durable commit. A store that
 * finds it refuses to open: the load was interrupted and the file may be torn.
 */
export const bulkLoadIncompleteKey = 'bulk_load_incomplete';

/** The columns of `mailboxes`, in order, for `INSERT INTO mailboxes(...)`. */
export const mailboxColumnsSql = 'uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record';

/** The row of `mailboxes` for a record, in `mailboxColumnsSql` order (the record JSON without its revision). */
export function mailboxRow(mailbox: MailboxRecord): unknown[] {
  const columns = nameColumns(mailbox.name);
  return [
    mailbox.uniqueid,
    mailbox.name,
    columns.sortkey,
    columns.owner,
    columns.isRoot ? 1 : 0,
    mailbox.server,
    stateCode[mailbox.state],
    mailbox.reservedUntilMs,
    mailbox.revision,
    mailboxRecordText(mailbox),
  ];
}

interface MailboxRow {
  record: string;
  revision: number;
}

/** A LIST candidate: a mailbox with its sort key as stored, and whether it is in the caller's own hierarchy. */
export interface ListCandidate {
  mailbox: MailboxRecord;
  key: Buffer;
  own: boolean;
}

function decodeMailbox(row: MailboxRow): MailboxRecord {
  const record = JSON.parse(row.record) as MailboxRecord;
  record.revision = row.revision;
  return record;
}

export class Store {
  readonly db: Database.Database;
  readonly path: string;
  private readonly retention: number;
  private readonly statements;
  private readonly synchronous: SynchronousMode;
  private revisionCache: number;
  private readonly aclReadCache = new AclReadCache();
  private readonly childrenMemo = new ChildrenMemo();
  /**
   * Mailboxes in the table, once counted: kept up by every insert and delete,
   * forgotten (counted again when asked) after a rollback or a bulk load. A
   * count(*) reads the whole table: 0.5 s at 2M, the event loop held meanwhile.
   */
  private mailboxCountKept: number | null = null;
  private checkpointer: BackgroundCheckpointer | null = null;
  /** A read-only descriptor of the database file for the checkpointer's write-back. */
  private databaseFd: number | null = null;

  constructor(options: StoreOptions) {
    if (options.dataDir === ':memory:') this.path = ':memory:';
    else {
      mkdirSync(options.dataDir, { recursive: true });
      this.path = join(options.dataDir, 'mbdir.sqlite');
    }
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives a power cut (DESIGN.md, Replication).
    this.db.pragma(`synchronous = ${options.synchronous}`);
    this.synchronous = options.synchronous;
    this.db.pragma('foreign_keys = OFF');
    this.db.pragma(`cache_size = -${(options.cacheMebibytes ?? defaultCacheMebibytes) * 1024}`);
    this.db.pragma('busy_timeout = 5000');
    // An unfinished bulk load is refused before any migration rewrites its unjournaled file
    // (a database without a schema yet holds no marker).
    if ((this.db.pragma('user_version', { simple: true }) as number) > 0) this.refuseInterruptedBulkLoad();
    migrate(this.db, options.onSchemaUpgrade);
    this.retention = options.changeLogRetentionRevisions ?? limits.changeLogRetentionRevisions;
    this.statements = this.prepare();
    this.revisionCache = Number(this.getMeta('revision') ?? '0');
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      putMeta: db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      byName: db.prepare<[string], MailboxRow>(hotQuerySql.byName),
      byUniqueid: db.prepare<[string], MailboxRow>(hotQuerySql.byUniqueid),
      serverByName: db.prepare<[string], { server: string }>(hotQuerySql.serverByName),
      routeOfRoot: db.prepare<[string, string], RouteRowText>(hotQuerySql.routeOfRoot),
      // A new uniqueid is inserted; a known one is updated (and its reverse-index rows rewritten).
      insertMailbox: db.prepare(
        `INSERT INTO mailboxes(${mailboxColumnsSql}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uniqueid) DO NOTHING`,
      ),
      // Parameters: mailboxRow's columns after uniqueid, then uniqueid.
      updateMailbox: db.prepare(
        `UPDATE mailboxes SET name = ?, sortkey = ?, owner = ?, is_root = ?, server = ?,
           state = ?, reserved_until_ms = ?, revision = ?, record = ?
         WHERE uniqueid = ?`,
      ),
      deleteMailbox: db.prepare('DELETE FROM mailboxes WHERE uniqueid = ?'),
      deleteAclIndex: db.prepare(hotQuerySql.deleteAclIndex),
      insertAclIndex: db.prepare('INSERT OR IGNORE INTO acl_index(identifier, uniqueid) VALUES (?, ?)'),
      deleteReplicaIndex: db.prepare(hotQuerySql.deleteReplicaIndex),
      insertReplicaIndex: db.prepare('INSERT OR IGNORE INTO mailbox_replicas(server, uniqueid) VALUES (?, ?)'),
      subtree: db.prepare<[Buffer, Buffer, Buffer, number], MailboxRow>(hotQuerySql.subtree),
      hasChild: db.prepare<[Buffer, Buffer], { one: number }>(hotQuerySql.hasChild),
      byOwner: db.prepare<[string, number], MailboxRow>(hotQuerySql.byOwner),
      listOwn: db.prepare<[string, number], MailboxRow & { sortkey: Buffer }>(hotQuerySql.listOwn),
      listShared: db.prepare<[string, string, number], MailboxRow & { sortkey: Buffer }>(hotQuerySql.listShared),
      aclRows: db.prepare<[string, number], MailboxRow & { sortkey: Buffer }>(hotQuerySql.aclRows),
      scanAll: db.prepare<[Buffer, number], MailboxRow & { sortkey: Buffer }>(hotQuerySql.scanAll),
      scanServer: db.prepare<[string, Buffer, string, Buffer, number], MailboxRow & { sortkey: Buffer }>(
        hotQuerySql.scanServer,
      ),
      usersPerServer: db.prepare<[], { server: string; users: number }>(
        'SELECT server, count(*) AS users FROM mailboxes WHERE is_root = 1 GROUP BY server',
      ),
      mailboxesPerServer: db.prepare<[], { server: string; mailboxes: number }>(
        'SELECT server, count(*) AS mailboxes FROM mailboxes GROUP BY server',
      ),
      countMailboxes: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM mailboxes'),
      // state = 1 (RESERVED) matches the partial index mailboxes_reservations: reservations only.
      countReserved: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM mailboxes WHERE state = 1'),
      expiredReservations: db.prepare<[number, number], MailboxRow>(
        'SELECT record, revision FROM mailboxes WHERE state = 1 AND reserved_until_ms < ? LIMIT ?',
      ),
      getServer: db.prepare<[string], { record: string }>('SELECT record FROM servers WHERE name = ?'),
      listServers: db.prepare<[], { record: string }>('SELECT record FROM servers ORDER BY name'),
      putServer: db.prepare(
        'INSERT INTO servers(name, record) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record',
      ),
      getBusiness: db.prepare<[string], { id: string; home_server: string }>(
        'SELECT id, home_server FROM businesses WHERE id = ?',
      ),
      putBusiness: db.prepare(
        'INSERT INTO businesses(id, home_server) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET home_server = excluded.home_server',
      ),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE user = ?'),
      putUser: db.prepare(
        `INSERT INTO users(user, business, moving_from, moving_to, moving_since_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(user) DO UPDATE SET business = excluded.business, moving_from = excluded.moving_from,
           moving_to = excluded.moving_to, moving_since_ms = excluded.moving_since_ms`,
      ),
      deleteUser: db.prepare('DELETE FROM users WHERE user = ?'),
      misplacedUsers: db.prepare<[number], MisplacedRow>(
        `SELECT m.owner AS user, m.server AS server, b.home_server AS home, u.business AS business,
                u.moving_since_ms AS moving_since_ms
         FROM users u JOIN businesses b ON b.id = u.business
         JOIN mailboxes m ON m.owner = u.user AND m.is_root = 1
         WHERE u.business <> '' AND m.server <> b.home_server LIMIT ?`,
      ),
      usersOnServer: db.prepare<[string, number], { user: string }>(
        'SELECT owner AS user FROM mailboxes WHERE server = ? AND is_root = 1 LIMIT ?',
      ),
      getLock: db.prepare<[string], { name: string; holder: string; expires_at_ms: number }>(
        'SELECT name, holder, expires_at_ms FROM locks WHERE name = ?',
      ),
      putLock: db.prepare(
        `INSERT INTO locks(name, holder, expires_at_ms) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms`,
      ),
      deleteLock: db.prepare('DELETE FROM locks WHERE name = ?'),
      movingUsers: db.prepare<[number], UserRow>('SELECT * FROM users WHERE moving_since_ms > 0 LIMIT ?'),
      insertChange: db.prepare('INSERT INTO changes(revision, seq, change) VALUES (?, ?, ?)'),
      changesSince: db.prepare<[number, number], { revision: number; change: string }>(
        'SELECT revision, change FROM changes WHERE revision > ? ORDER BY revision, seq LIMIT ?',
      ),
      oldestChange: db.prepare<[], { revision: number | null }>('SELECT min(revision) AS revision FROM changes'),
      pruneChanges: db.prepare('DELETE FROM changes WHERE revision <= ?'),
    };
  }

  // ------------------------------------------------------------ meta and revision

  getMeta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  putMeta(key: string, value: string): void {
    this.statements.putMeta.run(key, value);
  }

  /** The revision of the last applied commit (0 for an empty directory). */
  revision(): number {
    return this.revisionCache;
  }

  /** The oldest revision Watch can resume after without a snapshot. */
  oldestRetainedRevision(): number {
    const oldest = this.statements.oldestChange.get()?.revision ?? null;
    return oldest === null ? this.revisionCache : oldest - 1;
  }

  private refuseInterruptedBulkLoad(): void {
    const started = this.getMeta(bulkLoadIncompleteKey);
    if (started === undefined) return;
    this.db.close();
    throw failedPrecondition(
      `the data directory ${this.path} holds a bulk load that did not finish (mbdir import --data-dir or ` +
        `mbdir bench generate, started ${started}): it was written without a journal, so it may be incomplete or torn. ` +
        'Remove the data directory and run the load again',
    );
  }

  // ------------------------------------------------------------ mailbox reads

  mailboxByName(name: string): MailboxRecord | undefined {
    const row = this.statements.byName.get(name);
    return row === undefined ? undefined : decodeMailbox(row);
  }

  /**
   * Many names in one read transaction (one lock, one snapshot) instead of one
   * per name: a batch of lookups costs a third less and sees one revision.
   */
  mailboxesByNames(names: readonly string[]): Array<MailboxRecord | undefined> {
    // One name is one statement, consistent on its own: a transaction around it (BEGIN and
    // COMMIT, as much again as the lookup) buys nothing. MUPDATE's FIND asks for one name.
    const [only] = names;
    if (names.length === 1 && only !== undefined) return [this.mailboxByName(only)];
    return this.readBatch(() => names.map((name) => this.mailboxByName(name)));
  }

  private readonly readBatch = <T>(read: () => T): T => (this.db.inTransaction ? read() : this.db.transaction(read)());

  mailboxByUniqueid(uniqueid: string): MailboxRecord | undefined {
    const row = this.statements.byUniqueid.get(uniqueid);
    return row === undefined ? undefined : decodeMailbox(row);
  }

  /** The server of the mailbox named `name`, without decoding its record. */
  serverOfMailbox(name: string): string | undefined {
    return this.statements.serverByName.get(name)?.server;
  }

  /**
   * Where the mailbox `root` of `user` is and how to reach it, in one read: its
   * server and state, the server's addresses (null when the server is not
   * registered) and the user's move mark (null without a user record).
   */
  routeOfRoot(root: string, user: string): RouteRow | undefined {
    const row = this.statements.routeOfRoot.get(user, root);
    if (row === undefined) return undefined;
    const { serverRecord, ...rest } = row;
    return { ...rest, serverRecord: serverRecord === null ? undefined : this.parsedServer(serverRecord) };
  }

  /**
   * A server record from its JSON, parsed once per distinct text: every routed
   * message reads one, and servers are few. Keyed by the text itself, so never
   * stale; emptied when it reaches serverRecordMemoEntriesMax.
   */
  private parsedServer(text: string): ServerRecord {
    let parsed = this.serverRecordMemo.get(text);
    if (parsed === undefined) {
      if (this.serverRecordMemo.size >= serverRecordMemoEntriesMax) this.serverRecordMemo.clear();
      parsed = JSON.parse(text) as ServerRecord;
      this.serverRecordMemo.set(text, parsed);
    }
    return parsed;
  }

  private readonly serverRecordMemo = new Map<string, ServerRecord>();

  /** `root` and its subtree in sort-key order, at most `limit` records. */
  subtree(root: string, limit: number): MailboxRecord[] {
    const key = sortKey(root);
    const { low, high } = childKeyRange(key);
    return this.statements.subtree.all(key, low, high, limit).map(decodeMailbox);
  }

  /** True when an ACTIVE mailbox exists strictly under the mailbox whose sort key is `key` (remembered between reads). */
  hasChildrenOfKey(key: Buffer): boolean {
    return this.childrenMemo.hasChildren(key, () => this.probeChildren(key));
  }

  private probeChildren(key: Buffer): boolean {
    const { low, high } = childKeyRange(key);
    return this.statements.hasChild.get(low, high) !== undefined;
  }

  /** Every mailbox in a user's hierarchy (`user.<id>` and below) in sort-key order, at most `limit`. */
  mailboxesOfUser(user: string, limit: number): MailboxRecord[] {
    return this.statements.byOwner.all(user, limit).map(decodeMailbox);
  }

  /**
   * LIST's candidates for `user`: their own hierarchy, then for each identifier
   * the mailboxes of others whose ACL names it, each with its sort key, in one
   * read transaction, at most `limit` in all (more and it throws `tooMany()`).
   */
  listCandidates(user: string, identifiers: readonly string[], limit: number, tooMany: () => Error): ListCandidate[] {
    return this.readBatch(() => {
      const candidates: ListCandidate[] = [];
      const add = (mailbox: MailboxRecord, key: Buffer, own: boolean): void => {
        candidates.push({ mailbox, key, own });
        if (candidates.length > limit) throw tooMany();
      };
      for (const row of this.statements.listOwn.all(user, limit + 1)) add(decodeMailbox(row), row.sortkey, true);
      for (const identifier of identifiers) {
        if (identifier === user) {
          // The caller's own identifier: the shares of others only (their own rows are above), never cached.
          for (const row of this.statements.listShared.iterate(identifier, user, limit + 1)) add(decodeMailbox(row), row.sortkey, false);
        } else {
          for (const row of this.aclRows(identifier, limit + 1)) add(row.mailbox, row.key, false);
        }
      }
      return candidates;
    });
  }

  /** Every mailbox whose ACL names `identifier`, at most `limit`, from the cache when it has them. */
  private aclRows(identifier: string, limit: number): readonly CachedAclRow[] {
    const cached = this.aclReadCache.get(identifier);
    if (cached !== undefined) return cached;
    const rows = this.statements.aclRows.all(identifier, limit).map((row) => ({ mailbox: decodeMailbox(row), key: row.sortkey }));
    if (rows.length < limit) this.aclReadCache.put(identifier, rows); // only a complete set is kept
    return rows;
  }

  /** One page of mailboxes after `afterKey` in sort-key order, optionally of one server. */
  scanPage(server: string, afterKey: Buffer, limit: number): { mailboxes: MailboxRecord[]; lastKey: Buffer } {
    const rows =
      server === ''
        ? this.statements.scanAll.all(afterKey, limit)
        : this.statements.scanServer.all(server, afterKey, server, afterKey, limit);
    const last = rows.at(-1);
    return { mailboxes: rows.map(decodeMailbox), lastKey: last?.sortkey ?? afterKey };
  }

  expiredReservations(nowMs: number, limit: number): MailboxRecord[] {
    return this.statements.expiredReservations.all(nowMs, limit).map(decodeMailbox);
  }

  /** Mailboxes in the directory (counted once, then kept up by the writes). */
  /** Reservations held now (RESERVED mailboxes), counted through their partial index. */
  reservedCount(): number {
    return this.statements.countReserved.get()?.n ?? 0;
  }

  mailboxCount(): number {
    this.mailboxCountKept ??= this.statements.countMailboxes.get()?.n ?? 0;
    return this.mailboxCountKept;
  }

  private keepMailboxCount(delta: number): void {
    if (this.mailboxCountKept !== null) this.mailboxCountKept += delta;
  }

  // ------------------------------------------------------------ placement reads

  server(name: string): ServerRecord | undefined {
    const row = this.statements.getServer.get(name);
    return row === undefined ? undefined : serverFromJson(row.record);
  }

  servers(): ServerRecord[] {
    return this.statements.listServers.all().map((row) => serverFromJson(row.record));
  }

  /** Users (hierarchy roots) per server. */
  usersPerServer(): Map<string, number> {
    return new Map(this.statements.usersPerServer.all().map((row) => [row.server, row.users]));
  }

  mailboxesPerServer(): Map<string, number> {
    return new Map(this.statements.mailboxesPerServer.all().map((row) => [row.server, row.mailboxes]));
  }

  business(id: string): BusinessRecord | undefined {
    const row = this.statements.getBusiness.get(id);
    return row === undefined ? undefined : { id: row.id, homeServer: row.home_server };
  }

  user(user: string): UserRecord | undefined {
    const row = this.statements.getUser.get(user);
    return row === undefined ? undefined : decodeUser(row);
  }

  /** Users whose root is not on their business's home server. */
  misplacedUsers(limit: number): MisplacedRow[] {
    return this.statements.misplacedUsers.all(limit);
  }

  /** Users whose root mailbox is on `server`. */
  usersOnServer(server: string, limit: number): string[] {
    return this.statements.usersOnServer.all(server, limit).map((row) => row.user);
  }

  movingUsers(limit: number): UserRecord[] {
    return this.statements.movingUsers.all(limit).map(decodeUser);
  }

  /** The lease named `name`, expired or not. */
  lock(name: string): LockRecord | undefined {
    const row = this.statements.getLock.get(name);
    return row === undefined ? undefined : { name: row.name, holder: row.holder, expiresAtMs: row.expires_at_ms };
  }

  // ------------------------------------------------------------ change log

  /** Committed changes after `revision`, in order, at most `limit`. */
  changesSince(revision: number, limit: number): ChangeEvent[] {
    return this.statements.changesSince
      .all(revision, limit)
      .map((row) => ({ revision: row.revision, change: JSON.parse(row.change) as Change }));
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
      this.statements.insertChange.run(revision, seq, JSON.stringify(change));
    });
    this.statements.putMeta.run('revision', String(revision));
    this.revisionCache = revision;
    if (revision % 1000 === 0) this.statements.pruneChanges.run(revision - this.retention);
  }

  /**
   * Applies commits in revision order in one transaction (one COMMIT for the lot, as the
   * etcd follower applies a watch response); on a failure nothing of them stays applied.
   */
  applyCommits(
    commits: ReadonlyArray<{ changes: readonly Change[]; revision: number }>,
    options: { keepMailboxRevisions?: boolean } = {},
  ): void {
    try {
      this.db.transaction(() => {
        for (const commit of commits) this.apply(commit.changes, commit.revision, options);
      })();
    } catch (error) {
      this.resetRevisionCache();
      throw error;
    }
  }

  /**
   * For a view another system keeps durable (the etcd engine): commits stop waiting for
   * fsync (synchronous=NORMAL, under WAL still safe from corruption; the WAL is synced at
   * checkpoints). A crash may lose the newest commits, rows and applied revision together,
   * and the view's owner replays them from its source. OFF stays OFF.
   */
  skipCommitSyncs(): void {
    if (this.path === ':memory:' || this.synchronous !== 'FULL') return;
    this.db.pragma('synchronous = NORMAL');
  }

  /** Moves the revision counter after a rolled-back transaction restored the old value. */
  resetRevisionCache(): void {
    this.aclReadCache.clear(); // what a rolled-back transaction dropped from it is simply read again
    this.childrenMemo.clear();
    this.mailboxCountKept = null;
    this.revisionCache = Number(this.getMeta('revision') ?? '0');
  }

  private applyOne(change: Change, revision: number): void {
    switch (change.kind) {
      case 'mailbox.put':
        change.mailbox.revision = revision;
        this.putMailbox(change.mailbox);
        return;
      case 'mailbox.delete':
        change.mailbox.revision = revision;
        this.aclReadCache.forget(change.mailbox.uniqueid, change.mailbox.acl);
        this.childrenMemo.clear();
        this.keepMailboxCount(-this.statements.deleteMailbox.run(change.mailbox.uniqueid).changes);
        this.statements.deleteAclIndex.run(change.mailbox.uniqueid);
        this.statements.deleteReplicaIndex.run(change.mailbox.uniqueid);
        return;
      case 'server.put':
        this.statements.putServer.run(change.server.name, JSON.stringify(change.server));
        return;
      case 'business.put':
        this.statements.putBusiness.run(change.business.id, change.business.homeServer);
        return;
      case 'user.put': {
        const user = change.user;
        this.statements.putUser.run(user.user, user.business, user.movingFrom, user.movingTo, user.movingSinceMs);
        return;
      }
      case 'user.delete':
        this.statements.deleteUser.run(change.user);
        return;
      case 'lock.put':
        this.statements.putLock.run(change.lock.name, change.lock.holder, change.lock.expiresAtMs);
        return;
      case 'lock.delete':
        this.statements.deleteLock.run(change.name);
        return;
    }
  }

  private putMailbox(mailbox: MailboxRecord): void {
    this.aclReadCache.forget(mailbox.uniqueid, mailbox.acl);
    this.childrenMemo.clear();
    const row = mailboxRow(mailbox);
    // A create (the common write) is one insert: it has no reverse-index rows to delete.
    const inserted = this.statements.insertMailbox.run(row).changes;
    this.keepMailboxCount(inserted);
    if (inserted === 0) {
      this.statements.updateMailbox.run([...row.slice(1), row[0]]);
      this.statements.deleteAclIndex.run(mailbox.uniqueid);
      this.statements.deleteReplicaIndex.run(mailbox.uniqueid);
    }
    for (const entry of mailbox.acl) {
      this.statements.insertAclIndex.run(indexedIdentifier(entry.identifier), mailbox.uniqueid);
    }
    for (const replica of mailbox.replicas) this.statements.insertReplicaIndex.run(replica.server, mailbox.uniqueid);
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
    try {
      this.db.transaction(() => {
        for (const mailbox of mailboxes) {
          mailbox.revision = revision;
          this.putMailbox(mailbox);
        }
        this.statements.putMeta.run('revision', String(revision));
        this.statements.pruneChanges.run(revision);
      })();
    } catch (error) {
      this.mailboxCountKept = null; // the count followed inserts that were rolled back
      throw error;
    }
    this.revisionCache = revision;
  }

  /** Applies non-mailbox changes (servers, businesses, users) of a bulk load at `revision`, without the change log. */
  bulkApply(changes: readonly Change[], revision: number): void {
    this.db.transaction(() => {
      for (const change of changes) this.applyOne(change, revision);
      this.statements.putMeta.run('revision', String(revision));
      this.statements.pruneChanges.run(revision);
    })();
    this.revisionCache = Math.max(this.revisionCache, revision);
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

/** A user's route as one read gives it (Store.routeOfRoot). */
export interface RouteRow {
  server: string;
  /** stateCode: 2 is ACTIVE. */
  state: number;
  /** The server's record; undefined when the server is not registered. */
  serverRecord: ServerRecord | undefined;
  /** The user's move mark; null without a user record. */
  movingFrom: string | null;
  movingTo: string | null;
  movingSinceMs: number | null;
}

type RouteRowText = Omit<RouteRow, 'serverRecord'> & { serverRecord: string | null };

/** Distinct server records Store.routeOfRoot keeps parsed (a directory has far fewer servers). */
export const serverRecordMemoEntriesMax = 10_000;

interface UserRow {
  user: string;
  business: string;
  moving_from: string;
  moving_to: string;
  moving_since_ms: number;
}

export interface MisplacedRow {
  user: string;
  server: string;
  home: string;
  business: string;
  moving_since_ms: number | null;
}

function decodeUser(row: UserRow): UserRecord {
  return {
    user: row.user,
    business: row.business,
    movingFrom: row.moving_from,
    movingTo: row.moving_to,
    movingSinceMs: row.moving_since_ms,
  };
}

/** A stored server record; records written before pop3Address existed read as without one. */
function serverFromJson(text: string): ServerRecord {
  return { pop3Address: '', ...(JSON.parse(text) as Partial<ServerRecord>) } as ServerRecord;
}
