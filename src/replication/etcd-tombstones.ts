/**
 * Which etcd keys are tombstones the sweep may remove, and the transactions
 * that remove them. A mailbox delete leaves two: `uid/<uniqueid>` marked
 * deleted, and `hier/<hierarchy>` once the hierarchy holds no mailbox. User
 * and lock tombstones are kept: a relist needs them to delete a node's local
 * record, and there are few. Every removal is guarded on the tombstone's own
 * mod_revision, so a key written again since it was read is never removed.
 * Pure: values in, transactions out; no I/O.
 */
import { hierarchyOf } from '../model/names.js';
import type { Change } from '../model/records.js';
import type { TxnRequest } from './etcd-client.js';
import type { Keyspace } from './etcd-keyspace.js';

/** A key read from etcd that the sweep may remove, and the revision it was last written at. */
export interface Tombstone {
  key: Buffer;
  modRevision: number;
}

/** True when `value`, the value of a key of kind `kind`, is a tombstone the sweep removes. */
export function isSweepableTombstone(kind: string, value: Buffer): boolean {
  if (kind !== 'hier' && kind !== 'uid') return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  if (kind === 'uid') return (parsed as { deleted?: unknown }).deleted === true;
  const mailboxes = (parsed as { mailboxes?: unknown }).mailboxes;
  return Array.isArray(mailboxes) && mailboxes.length === 0;
}

/**
 * The keys committed `changes` may have left as tombstones: the uniqueid of every deleted
 * mailbox and the hierarchy it was in, and the hierarchy a renamed mailbox left (each still
 * to be read: the hierarchy may hold others).
 */
export function tombstoneCandidates(keyspace: Keyspace, changes: readonly Change[]): string[] {
  const keys = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'mailbox.delete') {
      keys.add(keyspace.key('uid', change.mailbox.uniqueid));
      keys.add(keyspace.key('hier', hierarchyOf(change.mailbox.name)));
    } else if (change.kind === 'mailbox.put') {
      const previous = change.mailbox.nameHistory.at(-1);
      if (previous !== undefined && hierarchyOf(previous) !== hierarchyOf(change.mailbox.name)) keys.add(keyspace.key('hier', hierarchyOf(previous)));
    }
  }
  return [...keys];
}

/**
 * One transaction per `batchKeys` tombstones: each removed only if its mod_revision is
 * still the one read (a key written again since is left alone; the whole batch then
 * fails and waits for the next sweep).
 */
export function planSweepTxns(tombstones: readonly Tombstone[], batchKeys: number): TxnRequest[] {
  const txns: TxnRequest[] = [];
  for (let start = 0; start < tombstones.length; start += batchKeys) {
    const batch = tombstones.slice(start, start + batchKeys);
    txns.push({
      compare: batch.map((tombstone) => ({ result: 'EQUAL', target: 'MOD', key: tombstone.key, mod_revision: tombstone.modRevision })),
      success: batch.map((tombstone) => ({ request_delete_range: { key: tombstone.key } })),
      failure: [],
    });
  }
  return txns;
}
