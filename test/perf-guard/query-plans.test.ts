/**
 * The hot queries must stay index searches: a schema change that turns one of
 * them into a scan of a table makes LIST, lookups or writes cost O(N) at
 * millions of mailboxes. Checks the store's own SQL (hotQuerySql) with
 * EXPLAIN QUERY PLAN on the real schema.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hotQuerySql, Store } from '../../src/store/store.js';

const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
afterAll(() => store.close());

function planOf(sql: string): string[] {
  const parameters = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
  return store.db
    .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...parameters)
    .map((row) => row.detail);
}

/** A plan step reading a whole table: `SCAN <table>` (not a scan of a subquery or of constant rows). */
/** Full passes over a table, through the table itself or through a whole index ("SCAN t USING INDEX i"). */
function tableScans(plan: string[]): string[] {
  return plan.filter((detail) => /^SCAN (mailboxes|acl_index|mailbox_replicas|changes|users|servers|businesses)\b/.test(detail));
}

describe('hot query plans', () => {
  for (const [name, sql] of Object.entries(hotQuerySql)) {
    it(`${name} searches an index`, () => {
      const plan = planOf(sql);
      expect(plan.length).toBeGreaterThan(0);
      expect(tableScans(plan), `${name}: ${plan.join(' / ')}`).toEqual([]);
      expect(plan.some((detail) => /USING (COVERING |PRIMARY KEY|INDEX)|USING INTEGER PRIMARY KEY/.test(detail))).toBe(true);
    });
  }

  it('LIST reads the subtree and the reverse ACL index through indexes', () => {
    expect(planOf(hotQuerySql.byOwner).join(' ')).toMatch(/mailboxes_by_owner/);
    expect(planOf(hotQuerySql.listShared).join(' ')).toMatch(/SEARCH a USING (COVERING INDEX|PRIMARY KEY)/);
    expect(planOf(hotQuerySql.listShared).join(' ')).toMatch(/SEARCH m USING (PRIMARY KEY|INDEX \S+) \(uniqueid=\?\)/);
    expect(planOf(hotQuerySql.listShared).join(' ')).toMatch(/COVERING INDEX mailboxes_by_owner/);
    expect(planOf(hotQuerySql.listOwn).join(' ')).toMatch(/mailboxes_by_owner/);
    expect(planOf(hotQuerySql.deleteAclIndex).join(' ')).toMatch(/acl_index_by_uniqueid/);
  });

  it('catches a scan when the index is gone', () => {
    const bare = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    try {
      bare.db.exec('DROP INDEX mailboxes_by_owner');
      const plan = bare.db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${hotQuerySql.byOwner}`)
        .all('x', 1)
        .map((row) => row.detail);
      expect(tableScans(plan)).not.toEqual([]);
    } finally {
      bare.close();
    }
  });
});

describe('page cache', () => {
  it('is 32 MiB unless the node is told otherwise (--cache-mib)', () => {
    const sized = new Store({ dataDir: ':memory:', synchronous: 'OFF', cacheMebibytes: 8 });
    try {
      expect(store.db.pragma('cache_size', { simple: true })).toBe(-32 * 1024);
      expect(sized.db.pragma('cache_size', { simple: true })).toBe(-8 * 1024);
    } finally {
      sized.close();
    }
  });
});
