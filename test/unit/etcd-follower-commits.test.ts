/**
 * commitsOf: the watch events of one or many responses as the commits the
 * follower applies in one transaction: one per etcd revision past the applied
 * one, in order, each with its `log` changes, revisions already applied skipped.
 */
import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/model/records.js';
import type { WatchResponse } from '../../src/replication/etcd-client.js';
import { commitsOf } from '../../src/replication/etcd-follower.js';
import { Keyspace } from '../../src/replication/etcd-keyspace.js';

const keyspace = new Keyspace('/t');
type Event = WatchResponse['events'][number];

function logPut(revision: number, changes: Change[]): Event {
  return {
    type: 'PUT',
    kv: { key: Buffer.from('/t/log'), value: Buffer.from(JSON.stringify({ requestId: `r${revision}`, changes })), mod_revision: revision },
  } as Event;
}

function slotPut(revision: number, slot: number, changes: Change[]): Event {
  const value = JSON.stringify({ requestId: `r${revision}-${slot}`, changes });
  return { type: 'PUT', kv: { key: Buffer.from(`/t/log/${slot}`), value: Buffer.from(value), mod_revision: revision } } as Event;
}

function otherPut(revision: number, key: string): Event {
  return { type: 'PUT', kv: { key: Buffer.from(key), value: Buffer.from('{}'), mod_revision: revision } } as Event;
}

const user = (name: string): Change => ({ kind: 'user.delete', user: name });

describe('commitsOf', () => {
  it('one commit per revision, in order, each with its log changes', () => {
    const events = [otherPut(5, '/t/hier/user.a'), logPut(5, [user('a')]), logPut(6, [user('b'), user('c')]), logPut(9, [user('d')])];
    expect(commitsOf(events, keyspace, 4)).toEqual([
      { revision: 5, changes: [user('a')] },
      { revision: 6, changes: [user('b'), user('c')] },
      { revision: 9, changes: [user('d')] },
    ]);
  });

  it('skips revisions at or below the applied one (a resumed watch repeats them)', () => {
    const events = [logPut(5, [user('a')]), logPut(6, [user('b')]), logPut(7, [user('c')])];
    expect(commitsOf(events, keyspace, 6)).toEqual([{ revision: 7, changes: [user('c')] }]);
    expect(commitsOf(events, keyspace, 7)).toEqual([]);
  });

  it('a revision of the prefix without a log put changes nothing but is applied (the revision moves)', () => {
    expect(commitsOf([otherPut(8, '/t/uid/x')], keyspace, 7)).toEqual([{ revision: 8, changes: [] }]);
  });

  it("a batch of writes at one revision: every slot's changes in order, the batch's own log adds none", () => {
    const batchLog = { type: 'PUT', kv: { key: Buffer.from('/t/log'), value: Buffer.from('{"requestId":"","batch":true}'), mod_revision: 8 } } as Event;
    const events = [slotPut(8, 0, [user('a')]), otherPut(8, '/t/hier/user.b'), slotPut(8, 1, [user('b'), user('c')]), batchLog, logPut(9, [user('d')])];
    expect(commitsOf(events, keyspace, 7)).toEqual([
      { revision: 8, changes: [user('a'), user('b'), user('c')] },
      { revision: 9, changes: [user('d')] },
    ]);
  });
});
