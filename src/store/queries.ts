/**
 * The store's reads: every SELECT the rules and the node run, prepared once on
 * the connection it is given, which may be read-only (a reader thread's own
 * connection): it keeps no write state and never writes. Every read is bounded
 * by an explicit limit, an indexed key range or the number of servers; no query
 * scans the mailbox table except the exports, which page through it by sort
 * key. The SQL is exported (`hotQuerySql`) so test/perf-guard checks each plan.
 * The caches in front of some reads belong to the store that writes (store.ts).
 */
import type Database from 'better-sqlite3';
import { childKeyRange, sortKey } from '../model/names.js';
import type { BusinessRecord, Change, ChangeEvent, LockRecord, MailboxRecord, ServerRecord, UserRecord } from '../model/records.js';
import {
  decodeMailbox,
  decodeUser,
  serverFromJson,
  type ListCandidate,
  type MailboxRow,
  type MisplacedRow,
  type PlacementCount,
  type RouteRow,
  type RouteRowText,
  type UserRow,
} from './rows.js';

/** Distinct server records StoreQueries.routeOfRoot keeps parsed (a directory has far fewer servers). */
export const serverRecordMemoEntriesMax = 10_000;

/** A mailbox row as stored: its record's JSON text (without revision) and its revision. */
export interface StoredMailboxRow {
  uniqueid: string;
  name: string;
  record: string;
  revision: number;
}

/** A mailbox whose ACL names an identifier, decoded, with its sort key (LIST's shared candidates). */
export interface AclRow {
  mailbox: MailboxRecord;
  key: Buffer;
}

/**
 * The SQL of every read, exported so test/perf-guard can check their query
 * plans (an index search, never a scan of a mailbox-sized table) against the
 * real statements.
 */
export const hotQuerySql = {
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  byName: 'SELECT record, revision FROM mailboxes WHERE name = ?',
  byUniqueid: 'SELECT record, revision FROM mailboxes WHERE uniqueid = ?',
  serverByName: 'SELECT server FROM mailboxes WHERE name = ?',
  // Routing a user (socketmap, Dovecot): the root's server and state, that server's addresses
  // and the user's move mark in one read; every delivered message and proxied login costs one.
  routeOfRoot: `SELECT m.server AS server, m.state AS state, s.record AS serverRecord, u.moving_from AS movingFrom, u.moving_to AS movingTo, u.moving_since_ms AS movingSinceMs
         FROM mailboxes m LEFT JOIN servers s ON s.name = m.server LEFT JOIN users u ON u.user = ?
         WHERE m.name = ?`,
  // A name and its subtree are one range of sort keys, [key, key + 0x20): no valid name puts a
  // byte below 0x20 after a name's key but the hierarchy separator 0x1f (names.ts), so one
  // index range in order replaces `= key OR child range` (a merge of two searches and a sort).
  subtree: 'SELECT record, revision FROM mailboxes WHERE sortkey >= ? AND sortkey < ? ORDER BY sortkey LIMIT ?',
  // A hierarchy's records as stored, for the etcd engine's hierarchy value (no decode, no order).
  subtreeRows: 'SELECT uniqueid, name, record, revision FROM mailboxes WHERE sortkey >= ? AND sortkey < ? LIMIT ?',
  hasChild: 'SELECT 1 AS one FROM mailboxes WHERE sortkey >= ? AND sortkey < ? AND state = 2 LIMIT 1',
  // Sort-key order: a user's hierarchy is answered (MoveUser) in Cyrus order like every other list.
  byOwner: 'SELECT record, revision FROM mailboxes WHERE owner = ? ORDER BY sortkey LIMIT ?',
  // LIST's two reads: they also return the sort key (no recomputation), and the
  // reverse-ACL read leaves out the caller's own mailboxes, which LIST has from the first.
  // The key comes as hex text (see keyOfHex).
  listOwn: 'SELECT record, revision, hex(sortkey) AS sortkey_hex FROM mailboxes WHERE owner = ? LIMIT ?',
  // Every mailbox whose ACL names a group or `anyone`: read once, then kept by the AclReadCache.
  aclRows: `SELECT m.record, m.revision, hex(m.sortkey) AS sortkey_hex FROM acl_index a JOIN mailboxes m ON m.uniqueid = a.uniqueid
         WHERE a.identifier = ? LIMIT ?`,
  // NOT IN reads the owner index alone (it covers uniqueid): the caller's own rows are
  // dropped before the join, not fetched and then filtered (a third of the cost).
  listShared: `SELECT m.record, m.revision, hex(m.sortkey) AS sortkey_hex FROM acl_index a JOIN mailboxes m ON m.uniqueid = a.uniqueid
         WHERE a.identifier = ? AND a.uniqueid NOT IN (SELECT uniqueid FROM mailboxes WHERE owner = ?) LIMIT ?`,
  scanAll: 'SELECT record, revision, sortkey FROM mailboxes WHERE sortkey > ? ORDER BY sortkey LIMIT ?',
  scanServer: `SELECT record, revision, sortkey FROM mailboxes WHERE server = ? AND sortkey > ?
         UNION ALL
         SELECT m.record, m.revision, m.sortkey FROM mailbox_replicas r JOIN mailboxes m ON m.uniqueid = r.uniqueid
         WHERE r.server = ? AND m.sortkey > ?
         ORDER BY sortkey LIMIT ?`,
  // The placement counters (kept by apply in the same transaction as the mailboxes): one row per server.
  placementCounts: 'SELECT server, users, mailboxes FROM server_counts ORDER BY server',
  // The directory's mailboxes (Status): the sum of the counters, not a count(*) (0.5 s at 2M).
  countMailboxes: 'SELECT coalesce(sum(mailboxes), 0) AS n FROM server_counts',
  // state = 1 (RESERVED) matches the partial index mailboxes_reservations: reservations only.
  countReserved: 'SELECT count(*) AS n FROM mailboxes WHERE state = 1',
  // reserved_until_ms 0 never expires (an XFER's hand-off, held until ACTIVATE): only 1 up to now.
  expiredReservations: 'SELECT record, revision FROM mailboxes WHERE state = 1 AND reserved_until_ms BETWEEN 1 AND ? LIMIT ?',
  getServer: 'SELECT record FROM servers WHERE name = ?',
  listServers: 'SELECT record FROM servers ORDER BY name',
  getBusiness: 'SELECT id, home_server FROM businesses WHERE id = ?',
  getUser: 'SELECT * FROM users WHERE user = ?',
  misplacedUsers: `SELECT m.owner AS user, m.server AS server, b.home_server AS home, u.business AS business,
                u.moving_since_ms AS moving_since_ms
         FROM users u JOIN businesses b ON b.id = u.business
         JOIN mailboxes m ON m.owner = u.user AND m.is_root = 1
         WHERE u.business <> '' AND m.server <> b.home_server LIMIT ?`,
  usersOnServer: 'SELECT owner AS user FROM mailboxes WHERE server = ? AND is_root = 1 LIMIT ?',
  getLock: 'SELECT name, holder, expires_at_ms FROM locks WHERE name = ?',
  movingUsers: 'SELECT * FROM users WHERE moving_since_ms > 0 LIMIT ?',
  changesSince: 'SELECT revision, change FROM changes WHERE revision > ? ORDER BY revision, seq LIMIT ?',
  oldestChange: 'SELECT min(revision) AS revision FROM changes',
} as const;

type SortedRow = MailboxRow & { sortkey: Buffer };
type HexSortedRow = MailboxRow & { sortkey_hex: string };

/**
 * A LIST row's sort key from its hex text. better-sqlite3 gives each BLOB as a
 * Buffer of its own, with its own off-heap memory, which V8 frees after every
 * young-generation collection: with ~25 keys a LIST, that freeing was half of
 * a read thread's collection pause (0.5 of 1.1 ms, --trace-gc-nvp's
 * scavenge.sweep_array_buffers) and then kept a helper thread busy for 1-2 ms
 * on a core a woken request thread wanted. A key parsed from text is a slice
 * of Node's shared buffer pool instead (docs/performance.md).
 */
function keyOfHex(row: HexSortedRow): Buffer {
  return Buffer.from(row.sortkey_hex, 'hex');
}

function prepareReads(db: Database.Database) {
  const sql = hotQuerySql;
  return {
    getMeta: db.prepare<[string], { value: string }>(sql.getMeta),
    byName: db.prepare<[string], MailboxRow>(sql.byName),
    byUniqueid: db.prepare<[string], MailboxRow>(sql.byUniqueid),
    serverByName: db.prepare<[string], { server: string }>(sql.serverByName),
    routeOfRoot: db.prepare<[string, string], RouteRowText>(sql.routeOfRoot),
    subtree: db.prepare<[Buffer, Buffer, number], MailboxRow>(sql.subtree),
    subtreeRows: db.prepare<[Buffer, Buffer, number], StoredMailboxRow>(sql.subtreeRows),
    hasChild: db.prepare<[Buffer, Buffer], { one: number }>(sql.hasChild),
    byOwner: db.prepare<[string, number], MailboxRow>(sql.byOwner),
    listOwn: db.prepare<[string, number], HexSortedRow>(sql.listOwn),
    listShared: db.prepare<[string, string, number], HexSortedRow>(sql.listShared),
    aclRows: db.prepare<[string, number], HexSortedRow>(sql.aclRows),
    scanAll: db.prepare<[Buffer, number], SortedRow>(sql.scanAll),
    scanServer: db.prepare<[string, Buffer, string, Buffer, number], SortedRow>(sql.scanServer),
    placementCounts: db.prepare<[], PlacementCount>(sql.placementCounts),
    countMailboxes: db.prepare<[], { n: number }>(sql.countMailboxes),
    countReserved: db.prepare<[], { n: number }>(sql.countReserved),
    expiredReservations: db.prepare<[number, number], MailboxRow>(sql.expiredReservations),
    getServer: db.prepare<[string], { record: string }>(sql.getServer),
    listServers: db.prepare<[], { record: string }>(sql.listServers),
    getBusiness: db.prepare<[string], { id: string; home_server: string }>(sql.getBusiness),
    getUser: db.prepare<[string], UserRow>(sql.getUser),
    misplacedUsers: db.prepare<[number], MisplacedRow>(sql.misplacedUsers),
    usersOnServer: db.prepare<[string, number], { user: string }>(sql.usersOnServer),
    getLock: db.prepare<[string], { name: string; holder: string; expires_at_ms: number }>(sql.getLock),
    movingUsers: db.prepare<[number], UserRow>(sql.movingUsers),
    changesSince: db.prepare<[number, number], { revision: number; change: string }>(sql.changesSince),
    oldestChange: db.prepare<[], { revision: number | null }>(sql.oldestChange),
  };
}

/**
 * The reads of one connection. `Store` extends it (adding the caches in front
 * of `aclRows` and `hasChildrenOfKey`); a reader thread makes one on its own
 * read-only connection.
 */
export class StoreQueries {
  private readonly reads;
  private readonly serverRecordMemo = new Map<string, ServerRecord>();

  constructor(protected readonly db: Database.Database) {
    this.reads = prepareReads(db);
  }

  getMeta(key: string): string | undefined {
    return this.reads.getMeta.get(key)?.value;
  }

  /** The revision the database holds (0 for an empty directory), read from it. */
  storedRevision(): number {
    return Number(this.getMeta('revision') ?? '0');
  }

  /** The oldest revision Watch can resume after without a snapshot (`current` when the log is empty). */
  oldestRetainedRevisionAt(current: number): number {
    const oldest = this.reads.oldestChange.get()?.revision ?? null;
    return oldest === null ? current : oldest - 1;
  }

  // ------------------------------------------------------------ mailbox reads

  mailboxByName(name: string): MailboxRecord | undefined {
    const row = this.reads.byName.get(name);
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

  /** Runs `read` in one read transaction (or the one already open). */
  protected readonly readBatch = <T>(read: () => T): T => (this.db.inTransaction ? read() : this.db.transaction(read)());

  mailboxByUniqueid(uniqueid: string): MailboxRecord | undefined {
    const row = this.reads.byUniqueid.get(uniqueid);
    return row === undefined ? undefined : decodeMailbox(row);
  }

  /** The server of the mailbox named `name`, without decoding its record. */
  serverOfMailbox(name: string): string | undefined {
    return this.reads.serverByName.get(name)?.server;
  }

  /**
   * Where the mailbox `root` of `user` is and how to reach it, in one read: its
   * server and state, the server's addresses (null when the server is not
   * registered) and the user's move mark (null without a user record).
   */
  routeOfRoot(root: string, user: string): RouteRow | undefined {
    const row = this.reads.routeOfRoot.get(user, root);
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

  /** Server records parsed and kept by `routeOfRoot` (for the test of its bound). */
  get serverRecordMemoSize(): number {
    return this.serverRecordMemo.size;
  }

  /** `root` and its subtree as stored (record text undecoded), in no order, at most `limit` rows. */
  subtreeRows(root: string, limit: number): StoredMailboxRow[] {
    const key = sortKey(root);
    return this.reads.subtreeRows.all(key, childKeyRange(key).high, limit);
  }

  /** `root` and its subtree in sort-key order, at most `limit` records. */
  subtree(root: string, limit: number): MailboxRecord[] {
    const key = sortKey(root);
    return this.reads.subtree.all(key, childKeyRange(key).high, limit).map(decodeMailbox);
  }

  /** True when an ACTIVE mailbox exists strictly under the mailbox whose sort key is `key`. */
  hasChildrenOfKey(key: Buffer): boolean {
    const { low, high } = childKeyRange(key);
    return this.reads.hasChild.get(low, high) !== undefined;
  }

  /** Every mailbox in a user's hierarchy (`user.<id>` and below) in sort-key order, at most `limit`. */
  mailboxesOfUser(user: string, limit: number): MailboxRecord[] {
    return this.reads.byOwner.all(user, limit).map(decodeMailbox);
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
      for (const row of this.reads.listOwn.all(user, limit + 1)) add(decodeMailbox(row), keyOfHex(row), true);
      for (const identifier of identifiers) {
        if (identifier === user) {
          // The caller's own identifier: the shares of others only (their own rows are above), never cached.
          for (const row of this.reads.listShared.iterate(identifier, user, limit + 1)) add(decodeMailbox(row), keyOfHex(row), false);
        } else {
          for (const row of this.aclRows(identifier, limit + 1)) add(row.mailbox, row.key, false);
        }
      }
      return candidates;
    });
  }

  /** Every mailbox whose ACL names `identifier`, at most `limit`. */
  protected aclRows(identifier: string, limit: number): readonly AclRow[] {
    return this.reads.aclRows.all(identifier, limit).map((row) => ({ mailbox: decodeMailbox(row), key: keyOfHex(row) }));
  }

  /** One page of mailboxes after `afterKey` in sort-key order, optionally of one server. */
  scanPage(server: string, afterKey: Buffer, limit: number): { mailboxes: MailboxRecord[]; lastKey: Buffer } {
    const rows =
      server === '' ? this.reads.scanAll.all(afterKey, limit) : this.reads.scanServer.all(server, afterKey, server, afterKey, limit);
    const last = rows.at(-1);
    return { mailboxes: rows.map(decodeMailbox), lastKey: last?.sortkey ?? afterKey };
  }

  expiredReservations(nowMs: number, limit: number): MailboxRecord[] {
    return this.reads.expiredReservations.all(nowMs, limit).map(decodeMailbox);
  }

  /** Reservations held now (RESERVED mailboxes), counted through their partial index. */
  reservedCount(): number {
    return this.reads.countReserved.get()?.n ?? 0;
  }

  // ------------------------------------------------------------ placement reads

  server(name: string): ServerRecord | undefined {
    const row = this.reads.getServer.get(name);
    return row === undefined ? undefined : serverFromJson(row.record);
  }

  servers(): ServerRecord[] {
    return this.reads.listServers.all().map((row) => serverFromJson(row.record));
  }

  /** Users and mailboxes per server holding any, from the counters apply keeps (one row per server). */
  placementCounts(): PlacementCount[] {
    return this.reads.placementCounts.all();
  }

  /** Mailboxes in the directory: the sum of the placement counters. */
  mailboxCount(): number {
    return this.reads.countMailboxes.get()?.n ?? 0;
  }

  /** Users (hierarchy roots) per server. */
  usersPerServer(): Map<string, number> {
    return new Map(this.placementCounts().map((row) => [row.server, row.users]));
  }

  /** Mailboxes per server. */
  mailboxesPerServer(): Map<string, number> {
    return new Map(this.placementCounts().map((row) => [row.server, row.mailboxes]));
  }

  business(id: string): BusinessRecord | undefined {
    const row = this.reads.getBusiness.get(id);
    return row === undefined ? undefined : { id: row.id, homeServer: row.home_server };
  }

  user(user: string): UserRecord | undefined {
    const row = this.reads.getUser.get(user);
    return row === undefined ? undefined : decodeUser(row);
  }

  /** Users whose root is not on their business's home server. */
  misplacedUsers(limit: number): MisplacedRow[] {
    return this.reads.misplacedUsers.all(limit);
  }

  /** Users whose root mailbox is on `server`. */
  usersOnServer(server: string, limit: number): string[] {
    return this.reads.usersOnServer.all(server, limit).map((row) => row.user);
  }

  movingUsers(limit: number): UserRecord[] {
    return this.reads.movingUsers.all(limit).map(decodeUser);
  }

  /** The lease named `name`, expired or not. */
  lock(name: string): LockRecord | undefined {
    const row = this.reads.getLock.get(name);
    return row === undefined ? undefined : { name: row.name, holder: row.holder, expiresAtMs: row.expires_at_ms };
  }

  // ------------------------------------------------------------ change log

  /** Committed changes after `revision`, in order, at most `limit`. */
  changesSince(revision: number, limit: number): ChangeEvent[] {
    return this.reads.changesSince
      .all(revision, limit)
      .map((row) => ({ revision: row.revision, change: JSON.parse(row.change) as Change }));
  }
}
