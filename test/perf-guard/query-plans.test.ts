/**
 * The store's queries must stay index searches: a schema change that turns one
 * of them into a scan of a table makes LIST, lookups, placement or writes cost
 * O(N) at millions of mailboxes. Checks every statement the store prepares
 * (hotQuerySql for the reads, applySql for the writes) with EXPLAIN QUERY PLAN
 * on the real schema. A few may read more, each named below with why; every
 * other statement, and every new one, must search.
 */
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionOf } from '../../src/store/connection.js';
import { applySql, hotQuerySql, Store } from '../../src/store/store.js';

const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
afterAll(() => store.close());

function planOf(sql: string, db: Database.Database = connectionOf(store)): string[] {
  const parameters = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
  return db
    .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...parameters)
    .map((row) => row.detail);
}

/** Tables that grow with the mailboxes or the users. */
const largeTables = 'mailboxes|acl_index|mailbox_replicas|changes|users|businesses|locks|meta';
/** Tables of one row per server: reading all of them is reading the servers. */
const serverTables = 'servers|server_counts';

/** Full passes over a table, through the table itself or through a whole index ("SCAN t USING INDEX i"). */
function scansOf(plan: string[], tables: string): string[] {
  return plan.filter((detail) => new RegExp(`^SCAN (${tables})\\b`).test(detail));
}

/** Statements that read every server (a few rows), never a large table: placement, ListServers, Status. */
const perServer = new Set(['placementCounts', 'countMailboxes', 'listServers']);
/** Statements allowed a pass over an index, and why none runs per request. */
const notPerRequest: Record<string, string> = {
  countReserved: 'the reservations gauge, per metrics scrape, over the partial index of reservations only',
  misplacedUsers: 'the rebalance plan, a background job bounded by its LIMIT',
};

const statements = Object.entries({ ...hotQuerySql, ...applySql });

describe('query plans', () => {
  for (const [name, sql] of statements) {
    if (name in notPerRequest) continue;
    it(`${name} ${perServer.has(name) ? 'reads the servers only' : 'searches an index'}`, () => {
      const plan = planOf(sql);
      if (perServer.has(name)) {
        expect(scansOf(plan, largeTables), `${name}: ${plan.join(' / ')}`).toEqual([]);
        return;
      }
      expect(scansOf(plan, `${largeTables}|${serverTables}`), `${name}: ${plan.join(' / ')}`).toEqual([]);
      // A read says how it searches; an INSERT ... VALUES has no plan to show.
      if (!/^\s*INSERT/.test(sql)) {
        expect(plan.some((detail) => /USING (COVERING |PRIMARY KEY|INDEX)|USING INTEGER PRIMARY KEY/.test(detail)), plan.join(' / ')).toBe(true);
      }
    });
  }

  it('leaves no statement out but the ones named with a reason', () => {
    expect(Object.keys(notPerRequest).every((name) => statements.some(([other]) => other === name))).toBe(true);
    expect(statements.length - Object.keys(notPerRequest).length).toBeGreaterThan(40);
  });

  it('LIST reads the subtree and the reverse ACL index through indexes', () => {
    expect(planOf(hotQuerySql.byOwner).join(' ')).toMatch(/mailboxes_by_owner/);
    expect(planOf(hotQuerySql.listShared).join(' ')).toMatch(/SEARCH a USING (COVERING INDEX|PRIMARY KEY)/);
    expect(planOf(hotQuerySql.listShared).join(' ')).toMatch(/SEARCH m USING (PRIMARY KEY|INDEX \S+) \(uniqueid=\?\)/);
    expect(planOf(hotQuerySql.listShared).join(' ')).toMatch(/COVERING INDEX mailboxes_by_owner/);
    expect(planOf(hotQuerySql.listOwn).join(' ')).toMatch(/mailboxes_by_owner/);
    expect(planOf(applySql.deleteAclIndex).join(' ')).toMatch(/acl_index_by_uniqueid/);
  });

  it('placement reads the counters, not the mailboxes', () => {
    expect(planOf(hotQuerySql.placementCounts).join(' ')).toMatch(/server_counts/);
    expect(planOf(hotQuerySql.placementCounts).join(' ')).not.toMatch(/mailboxes/);
    expect(planOf(applySql.placementOf).join(' ')).toMatch(/SEARCH mailboxes USING INDEX mailboxes_by_uniqueid/);
  });

  it('catches a scan when an index is gone', () => {
    const bare = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    try {
      const db = connectionOf(bare);
      db.exec('DROP INDEX mailboxes_by_owner');
      db.exec('DROP INDEX mailboxes_by_uniqueid');
      expect(scansOf(planOf(hotQuerySql.byOwner, db), largeTables)).not.toEqual([]);
      expect(scansOf(planOf(applySql.placementOf, db), largeTables)).not.toEqual([]);
    } finally {
      bare.close();
    }
  });
});

describe('page cache', () => {
  it('is 32 MiB unless the node is told otherwise (--cache-mib)', () => {
    const sized = new Store({ dataDir: ':memory:', synchronous: 'OFF', cacheMebibytes: 8 });
    try {
      expect(connectionOf(store).pragma('cache_size', { simple: true })).toBe(-32 * 1024);
      expect(connectionOf(sized).pragma('cache_size', { simple: true })).toBe(-8 * 1024);
    } finally {
      sized.close();
    }
  });
});
