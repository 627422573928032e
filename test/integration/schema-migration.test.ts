/**
 * Migrations 4 and 5 rebuild `mailboxes`: 4 as a rowid table, 5 with
 * uniqueid's uniqueness as an index of its own (which a bulk load may drop);
 * 6 adds the placement counters, counted from the mailboxes once.
 * A data directory written by an older schema must open with every record,
 * index and rule intact: lookups by name and uniqueid, subtree order, the
 * reverse ACL index, and a create that must not reuse a held name or
 * uniqueid; after 5, rowids are kept and the schema is a fresh directory's.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { sortKey } from '../../src/model/names.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { migrations } from '../../src/store/schema.js';
import { bulkLoadIncompleteKey, Store } from '../../src/store/store.js';
import { connectionOf } from '../../src/store/connection.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A data directory (removed after the test) whose database has run the first `version` migrations. */
function directoryAtVersion(version: number): { dataDir: string; db: Database.Database } {
  const dataDir = mkdtempSync(join(tmpdir(), `mbdir-schema-v${version}-`));
  directories.push(dataDir);
  const db = new Database(join(dataDir, 'mbdir.sqlite'));
  db.pragma('journal_mode = WAL');
  for (const migration of migrations.slice(0, version)) db.exec(migration);
  db.pragma(`user_version = ${version}`);
  return { dataDir, db };
}

/** A version-3 data directory holding `names`, each with uniqueid `<name>-id` and an ACL for `alice`. */
function versionThreeDirectory(names: readonly string[]): string {
  const { dataDir, db } = directoryAtVersion(3);
  const insert = db.prepare(
    `INSERT INTO mailboxes(uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record)
     VALUES (?, ?, ?, 'alice', ?, 'backend1', 2, 0, 1, ?)`,
  );
  for (const name of names) {
    const record = {
      uniqueid: `${name}-id`, name, server: 'backend1', partition: 'default', replicas: [],
      acl: [{ identifier: 'alice', rights: 'lrs' }], mbtype: 'e', state: 'ACTIVE', uidvalidity: 1,
      createdmodseq: 0, foldermodseq: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
    };
    insert.run(`${name}-id`, name, sortKey(name), name === 'user.alice' ? 1 : 0, JSON.stringify(record));
    db.prepare('INSERT INTO acl_index(identifier, uniqueid) VALUES (?, ?)').run('alice', `${name}-id`);
  }
  db.prepare("INSERT INTO meta(key, value) VALUES ('revision', '1')").run();
  const backend1 = { name: 'backend1', imapAddress: '', pop3Address: '', lmtpAddress: '', state: 'UP', weight: 1, datacenter: '' };
  db.prepare('INSERT INTO servers(name, record) VALUES (?, ?)').run('backend1', JSON.stringify(backend1));
  db.close();
  return dataDir;
}

describe('schema migration 4 (mailboxes as a rowid table)', () => {
  it('keeps every record and index of a version-3 directory, and the create rules on top of them', async () => {
    const names = ['user.alice', 'user.alice.Sent', 'user.alice.Archive', 'user.alice.Archive.2024'];
    const dataDir = versionThreeDirectory(names);
    const store = new Store({ dataDir, synchronous: 'FULL' });
    const engine = new StandaloneEngine(store);
    const directory = new Directory(store, engine);
    try {
      expect(connectionOf(store).pragma('user_version', { simple: true })).toBe(migrations.length);
      expect(store.mailboxCount()).toBe(4);
      expect(store.mailboxByUniqueid('user.alice.Sent-id')?.name).toBe('user.alice.Sent');
      expect(store.subtree('user.alice', 10).map((mailbox) => mailbox.name)).toEqual([
        'user.alice', 'user.alice.Archive', 'user.alice.Archive.2024', 'user.alice.Sent',
      ]);
      const aclJoined = connectionOf(store)
        .prepare<[], { n: number }>(`SELECT count(*) AS n FROM acl_index a JOIN mailboxes m ON m.uniqueid = a.uniqueid WHERE a.identifier = 'alice'`)
        .get();
      expect(aclJoined?.n).toBe(4);

      await expect(directory.createMailbox({ name: 'user.alice.Sent', uniqueid: 'another-id' })).rejects.toThrow(/held by uniqueid/);
      await expect(directory.createMailbox({ name: 'user.alice.Other', uniqueid: 'user.alice.Sent-id' })).rejects.toThrow(/already registered/);
      const created = await directory.createMailbox({ name: 'user.alice.Drafts' });
      expect(created).toMatchObject({ outcome: 'CREATED', revision: 2, mailbox: { server: 'backend1' } });
      expect(store.mailboxByName('user.alice.Drafts')?.uniqueid).toBe(created.mailbox.uniqueid);
    } finally {
      await engine.close();
      store.close();
    }
  });
});

/** The schema SQLite keeps for a database (tables and indexes, by name). */
function schemaOf(db: Database.Database): Array<{ type: string; name: string; sql: string | null }> {
  return db.prepare<[], { type: string; name: string; sql: string | null }>('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
}

describe('schema migration 5 (uniqueid unique by an index of its own)', () => {
  it('keeps rowids and records, tells before upgrading, and leaves the schema of a fresh directory', async () => {
    const { dataDir, db: old } = directoryAtVersion(4);
    const insert = old.prepare(
      `INSERT INTO mailboxes(uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record)
       VALUES (?, ?, ?, 'bob', 0, 'backend1', 2, 0, 1, ?)`,
    );
    for (let index = 0; index < 50; index += 1) {
      const name = `user.bob.f${index}`;
      insert.run(`bob-${index}`, name, sortKey(name), JSON.stringify({ uniqueid: `bob-${index}`, name, server: 'backend1' }));
    }
    old.exec("DELETE FROM mailboxes WHERE name IN ('user.bob.f3', 'user.bob.f17')"); // gaps in the rowids
    const before = old.prepare('SELECT rowid, uniqueid, name, record FROM mailboxes ORDER BY rowid').all();
    old.close();

    const upgrades: Array<[number, number]> = [];
    const store = new Store({ dataDir, synchronous: 'FULL', onSchemaUpgrade: (from, to) => upgrades.push([from, to]) });
    const fresh = new Store({ dataDir: ':memory:', synchronous: 'OFF', onSchemaUpgrade: (from, to) => upgrades.push([from, to]) });
    try {
      expect(upgrades).toEqual([[4, migrations.length]]);
      expect(connectionOf(store).prepare('SELECT rowid, uniqueid, name, record FROM mailboxes ORDER BY rowid').all()).toEqual(before);
      expect(schemaOf(connectionOf(store))).toEqual(schemaOf(connectionOf(fresh)));
      expect(store.mailboxByUniqueid('bob-49')?.name).toBe('user.bob.f49');
      const plan = connectionOf(store).prepare("EXPLAIN QUERY PLAN SELECT record FROM mailboxes WHERE uniqueid = 'bob-1'").all() as Array<{ detail: string }>;
      expect(plan.map((row) => row.detail).join(' ')).toMatch(/USING INDEX mailboxes_by_uniqueid/);
      expect(() => connectionOf(store).prepare(
        `INSERT INTO mailboxes(uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record)
         VALUES ('bob-1', 'user.bob.other', x'00', 'bob', 0, 'backend1', 2, 0, 1, '{}')`,
      ).run()).toThrow(/UNIQUE constraint failed: mailboxes.uniqueid/);
    } finally {
      store.close();
      fresh.close();
    }
  });

  it('refuses an older directory holding an unfinished bulk load before upgrading it', () => {
    const { dataDir, db } = directoryAtVersion(4);
    db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)').run(bulkLoadIncompleteKey, '2026-11-23T00:00:00Z');
    db.close();
    const upgrades: Array<[number, number]> = [];
    expect(() => new Store({ dataDir, synchronous: 'FULL', onSchemaUpgrade: (from, to) => upgrades.push([from, to]) })).toThrow(
      /holds a bulk load that did not finish/,
    );
    expect(upgrades).toEqual([]);
    const after = new Database(join(dataDir, 'mbdir.sqlite'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(4);
    after.close();
  });
});

describe('schema migration 6 (placement counters)', () => {
  it('counts the users and mailboxes per server of an existing directory once, and apply keeps them after', () => {
    const { dataDir, db: old } = directoryAtVersion(5);
    const insert = old.prepare(
      `INSERT INTO mailboxes(uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1, ?)`,
    );
    const rows: Array<[string, string, number, string, number]> = [];
    for (let user = 0; user < 30; user += 1) {
      const server = `backend${user % 3}`;
      rows.push([`user.u${user}`, `u${user}`, 1, server, 2]);
      for (let folder = 0; folder < user % 4; folder += 1) rows.push([`user.u${user}.f${folder}`, `u${user}`, 0, server, 2]);
    }
    rows.push(['user.u99', 'u99', 1, 'backend9', 1]); // a reservation counts like any mailbox, as the scans did
    for (const [name, owner, isRoot, server, state] of rows) {
      insert.run(`${name}-id`, name, sortKey(name), owner, isRoot, server, state, JSON.stringify({ uniqueid: `${name}-id`, name, server }));
    }
    old.prepare("INSERT INTO meta(key, value) VALUES ('revision', '1')").run();
    old.close();
    const expected = (server: string) => ({
      server,
      users: rows.filter((row) => row[3] === server && row[2] === 1).length,
      mailboxes: rows.filter((row) => row[3] === server).length,
    });

    const upgrades: Array<[number, number]> = [];
    const store = new Store({ dataDir, synchronous: 'FULL', onSchemaUpgrade: (from, to) => upgrades.push([from, to]) });
    try {
      expect(upgrades).toEqual([[5, migrations.length]]);
      expect(store.placementCounts()).toEqual(['backend0', 'backend1', 'backend2', 'backend9'].map(expected));
      expect(store.mailboxCount()).toBe(rows.length);
      const created = {
        uniqueid: 'new-id', name: 'user.u0.new', server: 'backend0', partition: 'default', replicas: [], acl: [], mbtype: 'e',
        state: 'ACTIVE' as const, uidvalidity: 1, createdmodseq: 0, foldermodseq: 0, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
      };
      store.transaction(() => store.apply([{ kind: 'mailbox.put', mailbox: created }], 2));
      expect(store.placementCounts().find((row) => row.server === 'backend0')?.mailboxes).toBe(expected('backend0').mailboxes + 1);
    } finally {
      store.close();
    }
    const reopened = new Store({ dataDir, synchronous: 'FULL', onSchemaUpgrade: (from, to) => upgrades.push([from, to]) });
    try {
      expect(upgrades).toHaveLength(1); // counted once, at the upgrade
      expect(reopened.mailboxCount()).toBe(rows.length + 1);
    } finally {
      reopened.close();
    }
  });
});
