/**
 * Every cache in front of the store keeps to the bound its header names: each
 * is filled past its bound here, and must stay at (or under) the bound while
 * every answer it gives stays right. The AclReadCache's reverse map
 * (uniqueid -> identifiers) must shrink with the rows it points at.
 */
import { describe, expect, it } from 'vitest';
import { RouteCache } from '../../src/directory/route-cache.js';
import { limits } from '../../src/model/limits.js';
import type { MailboxRecord, ServerRecord } from '../../src/model/records.js';
import {
  AclReadCache,
  aclReadCacheIdentifiersMax,
  aclReadCacheRowsMax,
  aclReadCacheRowsTotalMax,
  type CachedAclRow,
} from '../../src/store/acl-read-cache.js';
import { ChildrenMemo, childrenMemoEntriesMax } from '../../src/store/children-memo.js';
import { LoadedUniqueids } from '../../src/store/loaded-uniqueids.js';
import { serverRecordMemoEntriesMax, Store } from '../../src/store/store.js';

function mailbox(uniqueid: string, name: string, server = 's1'): MailboxRecord {
  return {
    uniqueid, name, server, partition: 'default', replicas: [], acl: [], mbtype: 'e', state: 'ACTIVE',
    uidvalidity: 1, createdmodseq: 1, foldermodseq: 1, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
  };
}

/** `count` rows whose uniqueids start with `prefix`. */
function rowsOf(prefix: string, count: number): CachedAclRow[] {
  return Array.from({ length: count }, (_, index) => ({ mailbox: mailbox(`${prefix}-${index}`, `shared.${prefix}.${index}`), key: Buffer.from([index]) }));
}

describe('AclReadCache', () => {
  it('keeps at most its identifiers, least recently used out first, and its reverse map shrinks with them', () => {
    const cache = new AclReadCache();
    const total = aclReadCacheIdentifiersMax + 100;
    for (let index = 0; index < total; index += 1) cache.put(`group:g${index}`, rowsOf(`g${index}`, 2));
    expect(cache.sizes).toEqual({ identifiers: aclReadCacheIdentifiersMax, rows: aclReadCacheIdentifiersMax * 2, uniqueids: aclReadCacheIdentifiersMax * 2 });
    expect(cache.get('group:g0')).toBeUndefined();
    expect(cache.get(`group:g${total - 1}`)?.map((row) => row.mailbox.uniqueid)).toEqual([`g${total - 1}-0`, `g${total - 1}-1`]);
    // A put of a mailbox held by a kept identifier drops it, and its reverse entries with it.
    cache.forget(`g${total - 1}-0`, []);
    expect(cache.get(`group:g${total - 1}`)).toBeUndefined();
    expect(cache.sizes.uniqueids).toBe((aclReadCacheIdentifiersMax - 1) * 2);
  });

  it('keeps at most its rows in all, and never a set bigger than its rows per identifier', () => {
    const cache = new AclReadCache();
    const perIdentifier = aclReadCacheRowsMax;
    const identifiers = Math.ceil(aclReadCacheRowsTotalMax / perIdentifier) + 5;
    for (let index = 0; index < identifiers; index += 1) cache.put(`group:big${index}`, rowsOf(`big${index}`, perIdentifier));
    expect(cache.sizes.rows).toBeLessThanOrEqual(aclReadCacheRowsTotalMax);
    expect(cache.sizes.uniqueids).toBe(cache.sizes.rows);
    expect(cache.get(`group:big${identifiers - 1}`)).toHaveLength(perIdentifier);
    expect(cache.get('group:big0')).toBeUndefined();
    cache.put('group:huge', rowsOf('huge', aclReadCacheRowsMax + 1));
    expect(cache.get('group:huge')).toBeUndefined();
  });

  it('answers what the store reads, through a store filled past the bound', () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    try {
      const changes = Array.from({ length: 300 }, (_, index) => ({
        kind: 'mailbox.put' as const,
        mailbox: { ...mailbox(`m${index}`, `shared.f${index}`), acl: [{ identifier: `group:g${index % 100}`, rights: 'lr' }] },
      }));
      store.transaction(() => store.apply(changes, 1));
      const small = new AclReadCache({ identifiersMax: 10, rowsMax: 5, rowsTotalMax: 20 });
      for (let round = 0; round < 3; round += 1) {
        for (let group = 0; group < 100; group += 1) {
          const read = store.listCandidates('nobody', [`group:g${group}`], 100, () => new Error('too many'));
          expect(read.map((row) => row.mailbox.name).sort()).toEqual([`shared.f${group}`, `shared.f${group + 100}`, `shared.f${group + 200}`].sort());
          small.put(`group:g${group}`, read.map((row) => ({ mailbox: row.mailbox, key: row.key })));
          expect(small.sizes.identifiers).toBeLessThanOrEqual(10);
          expect(small.sizes.rows).toBeLessThanOrEqual(20);
          expect(small.get(`group:g${group}`)?.map((row) => row.mailbox.name)).toEqual(read.map((row) => row.mailbox.name));
        }
      }
    } finally {
      store.close();
    }
  });
});

describe('ChildrenMemo', () => {
  it('starts again empty at its bound and keeps answering what the probe says', () => {
    const memo = new ChildrenMemo();
    const answer = (index: number): boolean => index % 3 === 0;
    for (let index = 0; index <= childrenMemoEntriesMax + 10; index += 1) {
      const key = Buffer.from(`user.u${index}`);
      expect(memo.hasChildren(key, () => answer(index))).toBe(answer(index));
      expect(memo.size).toBeLessThanOrEqual(childrenMemoEntriesMax);
    }
    expect(memo.size).toBe(11);
    expect(memo.hasChildren(Buffer.from(`user.u${childrenMemoEntriesMax + 10}`), () => false)).toBe(true); // remembered, not probed
  });
});

describe('RouteCache', () => {
  it(`keeps at most limits.routeCacheEntriesMax (${limits.routeCacheEntriesMax}) answers, each the route computed for its user`, () => {
    const cache = new RouteCache(limits.routeCacheEntriesMax);
    const route = (user: string) => ({ user, server: `s-${user}`, imapAddress: '', pop3Address: '', lmtpAddress: '' });
    for (let index = 0; index < limits.routeCacheEntriesMax + 50; index += 1) cache.route(`u${index}`, 'lmtp', () => route(`u${index}`));
    expect(cache.size).toBe(limits.routeCacheEntriesMax);
    let reads = 0;
    expect(cache.route('u0', 'lmtp', () => ((reads += 1), route('u0'))).server).toBe('s-u0'); // dropped: read again
    expect(cache.route(`u${limits.routeCacheEntriesMax + 49}`, 'lmtp', () => ((reads += 1), route('x'))).server).toBe(
      `s-u${limits.routeCacheEntriesMax + 49}`,
    );
    expect(reads).toBe(1);
    expect(cache.size).toBe(limits.routeCacheEntriesMax);
  });
});

describe('LoadedUniqueids', () => {
  it('refuses a uniqueid past its bound, with an error naming it, and still finds those it holds', () => {
    const uniqueids = Array.from({ length: 1001 }, (_, index) => `id${index}`);
    const loaded = new LoadedUniqueids((rowid) => uniqueids[rowid - 1], undefined, 1000);
    for (let index = 0; index < 1000; index += 1) loaded.add(uniqueids[index] as string, index + 1);
    expect(() => loaded.add('id1000', 1001)).toThrow(/more than 1000 mailboxes in one load/);
    expect(loaded.size).toBe(1000);
    expect(loaded.rowidOf('id999')).toBe(1000);
    expect(loaded.rowidOf('id1000')).toBe(0);
  });
});

describe('server record memo of routeOfRoot', () => {
  it(`keeps at most ${serverRecordMemoEntriesMax} parsed records, and routes always carry the server as it is now`, () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    try {
      const server = (weight: number): ServerRecord => ({
        name: 's1', imapAddress: '127.0.0.1:143', lmtpAddress: '127.0.0.1:24', pop3Address: '', state: 'UP', weight, datacenter: '',
      });
      let revision = 0;
      store.transaction(() => store.apply([{ kind: 'mailbox.put', mailbox: mailbox('u-root', 'user.ann') }], (revision += 1)));
      for (let weight = 1; weight <= serverRecordMemoEntriesMax + 20; weight += 1) {
        store.transaction(() => store.apply([{ kind: 'server.put', server: server(weight) }], (revision += 1)));
        expect(store.routeOfRoot('user.ann', 'ann')?.serverRecord?.weight).toBe(weight);
        expect(store.serverRecordMemoSize).toBeLessThanOrEqual(serverRecordMemoEntriesMax);
      }
    } finally {
      store.close();
    }
  });
});
