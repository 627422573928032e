// Seeded properties of the etcd engine's hierarchy cache (src/replication/hierarchy-cache.ts):
// followed through random creates, renames (across hierarchies too), ACL changes and deletes
// applied as the follower applies them, it always equals a fresh read of the store, evicting
// or not; its values parse to the store's records; a store moved on without it is not served.
// Replay a failure with FC_SEED=<seed printed by fast-check>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change, ChangeEvent, MailboxRecord } from '../../src/model/records.js';
import { encodedHierarchyValue, HierarchyCache } from '../../src/replication/hierarchy-cache.js';
import { Store } from '../../src/store/store.js';
import { mailboxRecord } from '../helpers/records.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261206;
const hierarchies = ['user.ann', 'user.bob', 'shared.team', 'top'];

function record(name: string, uniqueid: string, acl: MailboxRecord['acl'] = []): MailboxRecord {
  return mailboxRecord(name, uniqueid, { acl, requestId: 'rq' });
}

type Step = { op: 'put'; hierarchy: number; folder: number; uniqueid: number; reader: number } | { op: 'delete'; uniqueid: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('put' as const),
    hierarchy: fc.nat(hierarchies.length - 1),
    folder: fc.nat(3),
    uniqueid: fc.nat(7),
    reader: fc.nat(2),
  }),
  fc.record({ op: fc.constant('delete' as const), uniqueid: fc.nat(7) }),
);

/** The change a step makes in `store` (a put moves the uniqueid to the step's name when that name is free). */
function changeOf(store: Store, next: Step): Change | undefined {
  const uniqueid = `u${next.uniqueid}`;
  const existing = store.mailboxByUniqueid(uniqueid);
  if (next.op === 'delete') return existing === undefined ? undefined : { kind: 'mailbox.delete', mailbox: existing };
  const root = hierarchies[next.hierarchy] ?? 'top';
  const name = next.folder === 0 || root === 'top' ? root : `${root}.f${next.folder}`;
  const holder = store.mailboxByName(name);
  if (holder !== undefined && holder.uniqueid !== uniqueid) return undefined;
  const acl = next.reader === 0 ? [] : [{ identifier: `reader${next.reader}`, rights: 'lrs' }];
  return { kind: 'mailbox.put', mailbox: record(name, uniqueid, acl) };
}

/** Applies `change` at the next revision as the follower does: the store, then the cache. */
function applyAsFollower(store: Store, cache: HierarchyCache, change: Change | undefined): void {
  const revision = store.revision() + 1;
  const changes = change === undefined ? [] : [change];
  store.applyCommits([{ changes, revision }]);
  const events: ChangeEvent[] = changes.map((applied) => ({ revision, change: applied }));
  cache.applied(events, store.revision());
}

function valueOf(map: ReadonlyMap<string, string>): MailboxRecord[] {
  const parsed = JSON.parse(encodedHierarchyValue('rq', map.values())) as { mailboxes: MailboxRecord[] };
  return parsed.mailboxes.sort((left, right) => left.uniqueid.localeCompare(right.uniqueid));
}

describe(`hierarchy cache (seed ${seed})`, () => {
  it('followed through every applied change, it equals a fresh read of the store (with and without eviction)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.constantFrom(2, 1000), (steps, recordsMax) => {
        const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
        const cache = new HierarchyCache(recordsMax);
        for (const next of steps) {
          // Plan-time reads populate the cache, as the engine's writes do.
          for (const hierarchy of hierarchies) cache.get(store, hierarchy);
          applyAsFollower(store, cache, changeOf(store, next));
          for (const hierarchy of hierarchies) {
            const fresh = new HierarchyCache().get(store, hierarchy);
            const cached = cache.get(store, hierarchy);
            expect(new Map(cached)).toEqual(new Map(fresh));
          }
          expect(cache.size()).toBeLessThanOrEqual(Math.max(recordsMax, 4));
        }
        store.close();
      }),
      { seed, numRuns: 100 },
    );
  });

  it("a hierarchy value holds the store's records, each with the revision it was written at", () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const cache = new HierarchyCache();
    cache.get(store, 'user.ann');
    applyAsFollower(store, cache, { kind: 'mailbox.put', mailbox: record('user.ann', 'a1') });
    applyAsFollower(store, cache, { kind: 'mailbox.put', mailbox: record('user.ann.Sent', 'a2', [{ identifier: 'bob', rights: 'lr' }]) });
    expect(valueOf(cache.get(store, 'user.ann'))).toEqual([store.mailboxByUniqueid('a1'), store.mailboxByUniqueid('a2')]);
    expect(valueOf(cache.get(store, 'user.ann')).map((mailbox) => mailbox.revision)).toEqual([1, 2]);
    store.close();
  });

  it('a store that moved on without telling the cache is read again, never served from the cache', () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const cache = new HierarchyCache();
    expect(cache.get(store, 'user.ann').size).toBe(0);
    // Applied behind the cache's back (no `applied` call): the cache is at an older revision.
    store.applyCommits([{ changes: [{ kind: 'mailbox.put', mailbox: record('user.ann', 'a1') }], revision: 1 }]);
    expect([...cache.get(store, 'user.ann').keys()]).toEqual(['a1']);
    store.close();
  });
});
