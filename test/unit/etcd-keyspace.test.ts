/**
 * The etcd engine's translation of changes into one etcd transaction
 * (src/replication/etcd-keyspace.ts): what it writes, what it guards, and the
 * etcd bounds it enforces before etcd would refuse the request.
 */
import { describe, expect, it } from 'vitest';
import { DirectoryError } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import type { Change, MailboxRecord } from '../../src/model/records.js';
import { Keyspace, planTxn } from '../../src/replication/etcd-keyspace.js';
import { Store } from '../../src/store/store.js';
import { mailboxRecord as record } from '../helpers/records.js';

const keyspace = new Keyspace('/mbdir');
const keysOf = (ops: ReturnType<typeof planTxn>['success']): string[] =>
  ops.map((op) => ('request_put' in op ? op.request_put.key.toString() : ''));

describe('etcd keyspace', () => {
  it('a create writes its hierarchy, its uniqueid and the log, guarded at the view revision', () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const plan = planTxn(keyspace, store, [{ kind: 'mailbox.put', mailbox: record('user.alice.Sent', 'u1') }], 'rq1', 7);
    expect(keysOf(plan.success)).toEqual(['/mbdir/hier/user.alice', '/mbdir/uid/u1', '/mbdir/log']);
    const guards = plan.compare.map((compare) => [compare.key.toString(), compare.result, 'mod_revision' in compare ? compare.mod_revision : -1]);
    expect(guards.sort()).toEqual([
      ['/mbdir/hier/user.alice', 'LESS', 8],
      // A view older than the last sweep of tombstones must catch up first (docs/cluster.md).
      ['/mbdir/maintenance/swept', 'LESS', 8],
      ['/mbdir/server/imap1', 'LESS', 8],
      ['/mbdir/uid/u1', 'LESS', 8],
    ]);
    const value = JSON.parse(plan.success[0] && 'request_put' in plan.success[0] ? plan.success[0].request_put.value.toString() : '{}');
    expect(value.requestId).toBe('rq1');
  });

  it('a delete leaves a tombstone instead of deleting keys, so the key keeps guarding', () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    store.transaction(() => store.apply([{ kind: 'mailbox.put', mailbox: record('user.bob', 'u2') }], 1));
    const existing = store.mailboxByName('user.bob') as MailboxRecord;
    const plan = planTxn(keyspace, store, [{ kind: 'mailbox.delete', mailbox: existing }], 'rq2', 1);
    expect(plan.success.every((op) => 'request_put' in op)).toBe(true);
    expect(keysOf(plan.success)).toEqual(['/mbdir/hier/user.bob', '/mbdir/uid/u2', '/mbdir/log']);
  });

  it(`refuses a change touching more keys than etcd's ${limits.etcdTxnOpsMax} txn operations`, () => {
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const changes: Change[] = Array.from({ length: 64 }, (_, index) => ({
      kind: 'mailbox.put',
      mailbox: record(`user.u${index}`, `id${index}`),
    }));
    expect(() => planTxn(keyspace, store, changes, 'rq3', 0)).toThrow(DirectoryError);
    expect(() => planTxn(keyspace, store, changes, 'rq3', 0)).toThrow(/--max-txn-ops/);
    expect(() => planTxn(keyspace, store, changes.slice(0, 40), 'rq3', 0)).not.toThrow();
  });
});
