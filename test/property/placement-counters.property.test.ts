// Seeded fast-check property of the placement counters (users and mailboxes per
// server) that apply keeps in server_counts: after any mix of creates, renames
// (a root becoming a folder and back), moves between servers, deletes, batches
// and rolled-back transactions, they equal a full count of the mailboxes, and
// still do after the store is closed and opened again; a bulk load of an empty
// directory leaves them counted too.
// Replay a failure with FC_SEED=<seed printed by fast-check> (and its path).
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Change, MailboxRecord } from '../../src/model/records.js';
import { EmptyDirectoryLoad } from '../../src/store/bulk-load.js';
import { connectionOf } from '../../src/store/connection.js';
import { Store } from '../../src/store/store.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261206;

const names = ['user.ann', 'user.ann.Sent', 'user.bob', 'user.bob.Sent', 'user.bob.Sent.2024', 'shared.team', 'example.com!user.cy'];
const servers = ['s1', 's2', 's3'];
const uniqueids = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6'];

function record(uniqueid: string, name: string, server: string): MailboxRecord {
  return {
    uniqueid, name, server, partition: 'default', replicas: [], acl: [], mbtype: 'e', state: 'ACTIVE',
    uidvalidity: 1, createdmodseq: 1, foldermodseq: 1, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
  };
}

/** One step: put (create, rename or move, by what the uniqueid holds now) or delete; `abort` rolls its transaction back. */
const stepArbitrary = fc.record({
  uniqueid: fc.constantFrom(...uniqueids),
  name: fc.constantFrom(...names),
  server: fc.constantFrom(...servers),
  remove: fc.boolean(),
  batch: fc.integer({ min: 1, max: 3 }),
  abort: fc.boolean(),
});
type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** What a full count of the mailboxes gives, in the counters' shape. */
function scanned(store: Store): Array<{ server: string; users: number; mailboxes: number }> {
  return connectionOf(store)
    .prepare<[], { server: string; users: number; mailboxes: number }>(
      'SELECT server, sum(is_root) AS users, count(*) AS mailboxes FROM mailboxes GROUP BY server ORDER BY server',
    )
    .all();
}

/** The changes of a step on the records `held` (uniqueid -> record), updating it; none when the name is taken. */
function changesOf(step: Step, held: Map<string, MailboxRecord>): Change[] {
  const current = held.get(step.uniqueid);
  if (step.remove) {
    if (current === undefined) return [];
    held.delete(step.uniqueid);
    return [{ kind: 'mailbox.delete', mailbox: current }];
  }
  const holder = [...held.values()].find((mailbox) => mailbox.name === step.name);
  if (holder !== undefined && holder.uniqueid !== step.uniqueid) return [];
  const next = record(step.uniqueid, step.name, step.server);
  held.set(step.uniqueid, next);
  return [{ kind: 'mailbox.put', mailbox: { ...next } }];
}

function runSteps(store: Store, steps: readonly Step[]): void {
  const held = new Map(uniqueids.flatMap((id) => {
    const mailbox = store.mailboxByUniqueid(id);
    return mailbox === undefined ? [] : [[id, mailbox] as const];
  }));
  for (let index = 0; index < steps.length; ) {
    const first = steps[index] as Step;
    const group = steps.slice(index, index + first.batch);
    index += group.length;
    const before = new Map(held);
    const changes = group.flatMap((step) => changesOf(step, held));
    const revision = store.revision() + 1;
    if (first.abort) {
      expect(() => store.transaction(() => {
        store.apply(changes, revision);
        throw new Error('rolled back');
      })).toThrow('rolled back');
      held.clear();
      for (const [id, mailbox] of before) held.set(id, mailbox);
    } else {
      store.transaction(() => store.apply(changes, revision));
    }
    expect(store.placementCounts()).toEqual(scanned(store));
  }
}

describe('placement counters', () => {
  it('equal a full count after any mix of writes and rollbacks, and after reopening', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }), fc.array(stepArbitrary, { maxLength: 10 }), (steps, after) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-counters-'));
        try {
          let store = new Store({ dataDir, synchronous: 'OFF' });
          runSteps(store, steps);
          const counted = store.placementCounts();
          store.close();
          store = new Store({ dataDir, synchronous: 'OFF' });
          try {
            expect(store.placementCounts()).toEqual(counted);
            runSteps(store, after);
            expect(store.mailboxCount()).toBe(scanned(store).reduce((sum, row) => sum + row.mailboxes, 0));
            const users = store.usersPerServer();
            for (const row of scanned(store)) expect(users.get(row.server)).toBe(row.users);
          } finally {
            store.close();
          }
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }),
      { seed, numRuns: 60 },
    );
  });

  it('are counted after a bulk load of an empty directory, which writes rows without apply', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-counters-bulk-'));
    try {
      const store = new Store({ dataDir, synchronous: 'OFF' });
      store.enterBulkMode();
      const load = EmptyDirectoryLoad.begin(store, 5, 'OFF');
      for (let index = 0; index < 300; index += 1) {
        const server = servers[index % servers.length] as string;
        load.put(record(`r${index}`, `user.u${index}`, server));
        load.put(record(`f${index}`, `user.u${index}.Sent`, server));
      }
      await load.finish();
      expect(store.placementCounts()).toEqual([
        { server: 's1', users: 100, mailboxes: 200 },
        { server: 's2', users: 100, mailboxes: 200 },
        { server: 's3', users: 100, mailboxes: 200 },
      ]);
      expect(store.placementCounts()).toEqual(scanned(store));
      store.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
