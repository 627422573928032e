/**
 * Which etcd values the sweep takes for tombstones, which keys a commit's
 * changes may have left as tombstones, and the sweep's transactions
 * (src/replication/etcd-tombstones.ts).
 */
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { Keyspace } from '../../src/replication/etcd-keyspace.js';
import { isSweepableTombstone, planSweepTxns, tombstoneCandidates } from '../../src/replication/etcd-tombstones.js';
import { mailboxRecord as record } from '../helpers/records.js';

const value = (object: unknown): Buffer => Buffer.from(JSON.stringify(object));

describe('etcd tombstones', () => {
  it('takes an empty hierarchy and a deleted uniqueid for tombstones, and nothing else', () => {
    expect(isSweepableTombstone('hier', value({ requestId: 'r', mailboxes: [] }))).toBe(true);
    expect(isSweepableTombstone('hier', value({ requestId: 'r', mailboxes: [record('user.a', 'u1')] }))).toBe(false);
    expect(isSweepableTombstone('uid', value({ requestId: 'r', uniqueid: 'u1', deleted: true }))).toBe(true);
    expect(isSweepableTombstone('uid', value({ requestId: 'r', uniqueid: 'u1' }))).toBe(false);
    // User and lock tombstones stay: a relist needs them to delete a node's local record.
    expect(isSweepableTombstone('user', value({ requestId: 'r', deletedUser: 'alice' }))).toBe(false);
    expect(isSweepableTombstone('lock', value({ requestId: 'r', deletedLock: 'rebalance' }))).toBe(false);
    expect(isSweepableTombstone('hier', Buffer.from('not json'))).toBe(false);
  });

  it('names the uniqueid and the hierarchy of every deleted mailbox once each, and the hierarchy a rename left', () => {
    const keyspace = new Keyspace('/mbdir');
    const keys = tombstoneCandidates(keyspace, [
      { kind: 'mailbox.delete', mailbox: record('user.alice.Sent', 'u1') },
      { kind: 'mailbox.delete', mailbox: record('user.alice', 'u2') },
      { kind: 'mailbox.put', mailbox: record('user.bob', 'u3') },
      { kind: 'mailbox.put', mailbox: { ...record('user.carol.Old', 'u4'), nameHistory: ['user.carol.Older'] } },
      { kind: 'mailbox.put', mailbox: { ...record('user.dave', 'u5'), nameHistory: ['user.dan'] } },
    ]);
    expect(keys.sort()).toEqual(['/mbdir/hier/user.alice', '/mbdir/hier/user.dan', '/mbdir/uid/u1', '/mbdir/uid/u2']);
  });

  it('removes each tombstone only at the revision it was read at, in transactions under etcd --max-txn-ops', () => {
    const tombstones = Array.from({ length: 250 }, (_, index) => ({ key: Buffer.from(`/mbdir/uid/u${index}`), modRevision: 10 + index }));
    const txns = planSweepTxns(tombstones, limits.etcdSweepTxnKeysMax);
    expect(txns.map((txn) => txn.success.length)).toEqual([120, 120, 10]);
    for (const txn of txns) expect(Math.max(txn.compare.length, txn.success.length)).toBeLessThanOrEqual(limits.etcdTxnOpsMax);
    expect(txns[0]?.compare[5]).toEqual({ result: 'EQUAL', target: 'MOD', key: Buffer.from('/mbdir/uid/u5'), mod_revision: 15 });
    expect(txns[0]?.success[5]).toEqual({ request_delete_range: { key: Buffer.from('/mbdir/uid/u5') } });
  });
});
