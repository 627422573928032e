/**
 * The SQLite schema as an ordered list of migrations. `PRAGMA user_version`
 * records how many have run; `migrate` runs the rest in one transaction at
 * open. Append a migration for every change; never edit one that has shipped.
 *
 * Mailboxes (a rowid table; uniqueid is unique by an index of its own) carry their whole record as
 * JSON, beside the columns the hot queries use: name, sort key (Cyrus's dbname,
 * compared as bytes), owner, server. `acl_index` is the reverse ACL index and
 * `mailbox_replicas` the reverse replica index, `server_counts` the users and
 * mailboxes per server (placement); all three are kept by `apply`.
 */
import type Database from 'better-sqlite3';

/**
 * Counts the placement counters from the mailboxes: mailboxes per server from
 * the (server, sortkey) index, users from the partial index of roots by server.
 * Run by migration 6 and after a bulk load, which writes rows without apply.
 */
export const placementCountsRebuildSql = `
  DELETE FROM server_counts;
  INSERT INTO server_counts(server, users, mailboxes) SELECT server, 0, count(*) FROM mailboxes GROUP BY server;
  UPDATE server_counts SET users = (SELECT count(*) FROM mailboxes WHERE is_root = 1 AND server = server_counts.server);
`;

export const migrations: readonly string[] = [
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE mailboxes (
    uniqueid TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sortkey BLOB NOT NULL UNIQUE,
    owner TEXT,
    is_root INTEGER NOT NULL,
    server TEXT NOT NULL,
    state INTEGER NOT NULL,
    reserved_until_ms INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    record TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX mailboxes_by_owner ON mailboxes(owner) WHERE owner IS NOT NULL;
  CREATE INDEX mailboxes_by_server ON mailboxes(server, sortkey);
  CREATE INDEX mailboxes_roots_by_server ON mailboxes(server) WHERE is_root = 1;
  CREATE INDEX mailboxes_reservations ON mailboxes(reserved_until_ms) WHERE state = 1;

  CREATE TABLE mailbox_replicas (
    server TEXT NOT NULL,
    uniqueid TEXT NOT NULL,
    PRIMARY KEY (server, uniqueid)
  ) WITHOUT ROWID;

  CREATE TABLE acl_index (
    identifier TEXT NOT NULL,
    uniqueid TEXT NOT NULL,
    PRIMARY KEY (identifier, uniqueid)
  ) WITHOUT ROWID;

  CREATE TABLE servers (
    name TEXT PRIMARY KEY,
    record TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE businesses (
    id TEXT PRIMARY KEY,
    home_server TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE users (
    user TEXT PRIMARY KEY,
    business TEXT NOT NULL,
    moving_from TEXT NOT NULL,
    moving_to TEXT NOT NULL,
    moving_since_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX users_by_business ON users(business) WHERE business <> '';
  CREATE INDEX users_moving ON users(moving_since_ms) WHERE moving_since_ms > 0;

  CREATE TABLE changes (
    revision INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (revision, seq)
  ) WITHOUT ROWID;
  `,
  // 2: leases (the rebalance job's lock), written through the engine like every record,
  // and an index for the rebalance plan.
  `
  CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- Covers the rebalance plan's join (user root -> server) without reading the JSON records.
  CREATE INDEX mailboxes_root_owner_server ON mailboxes(owner, server) WHERE is_root = 1;
  `,
  // 3: apply() deletes a mailbox's reverse-index rows by uniqueid on every put;
  // without these indexes each delete scanned both tables (O(N) per write).
  `
  CREATE INDEX acl_index_by_uniqueid ON acl_index(uniqueid);
  CREATE INDEX mailbox_replicas_by_uniqueid ON mailbox_replicas(uniqueid);
  `,
  // 4: mailboxes become a rowid table (uniqueid stays UNIQUE). As a WITHOUT ROWID table keyed
  // by a random uniqueid, with rows of ~500 bytes, every create landed on a random leaf and
  // split the tree often (interior pages hold whole rows): 2.8 of the ~7 pages a create wrote
  // to the WAL were this table's. A rowid table appends new rows to its last page.
  `
  ALTER TABLE mailboxes RENAME TO mailboxes_without_rowid;
  CREATE TABLE mailboxes (
    uniqueid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    sortkey BLOB NOT NULL UNIQUE,
    owner TEXT,
    is_root INTEGER NOT NULL,
    server TEXT NOT NULL,
    state INTEGER NOT NULL,
    reserved_until_ms INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  INSERT INTO mailboxes(uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record)
    SELECT uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record
    FROM mailboxes_without_rowid;
  DROP TABLE mailboxes_without_rowid;
  -- uniqueid in the owner index: LIST leaves out the caller's own mailboxes from this index alone.
  CREATE INDEX mailboxes_by_owner ON mailboxes(owner, uniqueid) WHERE owner IS NOT NULL;
  CREATE INDEX mailboxes_by_server ON mailboxes(server, sortkey);
  CREATE INDEX mailboxes_roots_by_server ON mailboxes(server) WHERE is_root = 1;
  CREATE INDEX mailboxes_reservations ON mailboxes(reserved_until_ms) WHERE state = 1;
  CREATE INDEX mailboxes_root_owner_server ON mailboxes(owner, server) WHERE is_root = 1;
  `,
  // 5: uniqueid's uniqueness becomes a named unique index instead of the column's UNIQUE
  // constraint, which SQLite cannot drop. A bulk load of an empty directory (bulk-load.ts) can
  // then drop it and rebuild it by one sort: uniqueids arrive in random order, and keeping this
  // index up row by row took about 10 of the 17 seconds SQLite spent inserting 2M mailboxes.
  // The table is rebuilt (rowids kept): about a minute per 2M mailboxes, once.
  `
  ALTER TABLE mailboxes RENAME TO mailboxes_with_unique_uniqueid;
  CREATE TABLE mailboxes (
    uniqueid TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    sortkey BLOB NOT NULL UNIQUE,
    owner TEXT,
    is_root INTEGER NOT NULL,
    server TEXT NOT NULL,
    state INTEGER NOT NULL,
    reserved_until_ms INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  INSERT INTO mailboxes(rowid, uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record)
    SELECT rowid, uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record
    FROM mailboxes_with_unique_uniqueid ORDER BY rowid;
  DROP TABLE mailboxes_with_unique_uniqueid;
  CREATE UNIQUE INDEX mailboxes_by_uniqueid ON mailboxes(uniqueid);
  CREATE INDEX mailboxes_by_owner ON mailboxes(owner, uniqueid) WHERE owner IS NOT NULL;
  CREATE INDEX mailboxes_by_server ON mailboxes(server, sortkey);
  CREATE INDEX mailboxes_roots_by_server ON mailboxes(server) WHERE is_root = 1;
  CREATE INDEX mailboxes_reservations ON mailboxes(reserved_until_ms) WHERE state = 1;
  CREATE INDEX mailboxes_root_owner_server ON mailboxes(owner, server) WHERE is_root = 1;
  `,
  // 6: placement counters, kept by apply in the same transaction as the mailboxes, so that
  // least-loaded placement and ListServers read one row per server instead of counting
  // every user root and every mailbox (two index passes, 0.5 s at 2M) on each call.
  // Counted once here from the mailboxes: a pass over two indexes, seconds at 2M.
  `
  CREATE TABLE server_counts (
    server TEXT PRIMARY KEY,
    users INTEGER NOT NULL CHECK (users >= 0),
    mailboxes INTEGER NOT NULL CHECK (mailboxes >= 0)
  ) WITHOUT ROWID;
  ${placementCountsRebuildSql}
  `,
];

/**
 * Runs the migrations the database has not seen yet, in one transaction;
 * `upgrading` is told first when the database had a schema already.
 */
export function migrate(db: Database.Database, upgrading?: (from: number, to: number) => void): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > migrations.length) {
    throw new Error(
      `the data directory has schema version ${from}, newer than this mbdir knows (${migrations.length}): upgrade mbdir`,
    );
  }
  if (from > 0 && from < migrations.length) upgrading?.(from, migrations.length);
  db.transaction(() => {
    for (let version = from; version < migrations.length; version += 1) {
      db.exec(migrations[version] ?? '');
    }
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
  return { from, to: migrations.length };
}
