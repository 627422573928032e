/**
 * The etcd keyspace of the etcd engine, and the translation of a decision's
 * changes into one etcd transaction. Under the prefix: `hier/<hierarchy>` holds
 * every mailbox record of one hierarchy (DESIGN.md: one value per hierarchy),
 * `uid/<uniqueid>` marks a registered uniqueid, `server/`, `business/`, `user/`
 * one record each, and `log` the changes of the latest commit (what the watch
 * applies; a batch of writes at one revision puts each one's under `log/<slot>`),
 * `maintenance/` the keys of etcd maintenance (etcd-maintenance.ts).
 * Every value carries the request id that wrote it. A write never deletes a
 * key, it overwrites it with a tombstone (an empty hierarchy, a deleted
 * marker): a deleted key's mod_revision reads 0, which would defeat the guard.
 * Only the sweep removes tombstones, and it first puts `maintenance/swept`,
 * which every txn also guards (docs/cluster.md says why that is safe). The
 * guard of a txn: every key written or relied upon has mod_revision <= the
 * revision of the local view the decision read, so a txn commits only if that
 * view was current. Pure: reads the local store, does no I/O to etcd.
 */
import { resourceExhausted } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { hierarchyOf, parseName } from '../model/names.js';
import type { BusinessRecord, Change, LockRecord, MailboxRecord, ServerRecord, UserRecord } from '../model/records.js';
import type { Store } from '../store/store.js';
import type { Compare, RequestOp } from './etcd-client.js';
import { encodedHierarchyValue, encodedRecord, HierarchyCache } from './hierarchy-cache.js';

export interface HierarchyValue {
  requestId: string;
  /** Records of the hierarchy; revision 0 means "the mod_revision of this key". */
  mailboxes: MailboxRecord[];
}

export interface LogValue {
  requestId: string;
  changes: Change[];
}

export type RecordValue =
  | { requestId: string; server: ServerRecord }
  | { requestId: string; business: BusinessRecord }
  | { requestId: string; user: UserRecord }
  | { requestId: string; lock: LockRecord }
  | { requestId: string; deletedLock: string }
  | { requestId: string; deletedUser: string }
  | { requestId: string; uniqueid: string; deleted?: boolean };

export class Keyspace {
  readonly root: Buffer;
  readonly end: Buffer;

  constructor(readonly prefix: string) {
    this.root = Buffer.from(`${prefix.replace(/\/+$/, '')}/`);
    this.end = Buffer.from(this.root);
    this.end[this.end.length - 1] = (this.end[this.end.length - 1] ?? 0) + 1;
  }

  key(kind: 'hier' | 'uid' | 'server' | 'business' | 'user' | 'lock', id: string): string {
    return `${this.root.toString()}${kind}/${id}`;
  }

  logKey(): string {
    return `${this.root.toString()}log`;
  }

  /** The log of the `slot`th write of a batch (etcd-write-batcher.ts): parsed as kind `log` too. */
  logSlotKey(slot: number): string {
    return `${this.root.toString()}log/${slot}`;
  }

  /** A key of etcd maintenance: the lock, the last run, the swept marker, or `node/<id>` (a node's applied revision). */
  maintenanceKey(name: 'lock' | 'last' | 'swept' | `node/${string}`): string {
    return `${this.root.toString()}maintenance/${name}`;
  }

  /** The kind of a key under the prefix and its id, or undefined for foreign keys. */
  parse(key: Buffer): { kind: string; id: string } | undefined {
    const text = key.subarray(this.root.length).toString();
    const slash = text.indexOf('/');
    if (slash < 0) return text === 'log' ? { kind: 'log', id: '' } : undefined;
    return { kind: text.slice(0, slash), id: text.slice(slash + 1) };
  }
}

export interface PlannedTxn {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** The current records of hierarchy `hierarchy` in the local view. */
export function hierarchyMailboxes(store: Store, hierarchy: string): MailboxRecord[] {
  if (parseName(hierarchy, 'hierarchy').segments.length < 2) {
    const only = store.mailboxByName(hierarchy);
    return only === undefined ? [] : [only];
  }
  const records = store.subtree(hierarchy, limits.etcdHierarchyMailboxesMax + 1);
  if (records.length > limits.etcdHierarchyMailboxesMax) {
    throw resourceExhausted(
      `hierarchy ${hierarchy} holds more than ${limits.etcdHierarchyMailboxesMax} mailboxes, the most one etcd value holds`,
    );
  }
  return records.filter((record) => hierarchyOf(record.name) === hierarchy);
}

/**
 * Applies the mailbox changes to the hierarchies they touch; returns each hierarchy's new
 * records (encoded), and the hierarchy each changed uniqueid had in the view (undefined: new).
 */
function plannedHierarchies(
  store: Store,
  changes: readonly Change[],
  cache: HierarchyCache,
): { hierarchies: Map<string, Map<string, string>>; homeBefore: Map<string, string | undefined> } {
  const hierarchies = new Map<string, Map<string, string>>();
  const homeOf = new Map<string, string | undefined>();
  const homeBefore = new Map<string, string | undefined>();
  const load = (hierarchy: string): Map<string, string> => {
    let records = hierarchies.get(hierarchy);
    if (records === undefined) {
      records = new Map(cache.get(store, hierarchy));
      hierarchies.set(hierarchy, records);
    }
    return records;
  };
  const currentHome = (uniqueid: string): string | undefined => {
    if (!homeOf.has(uniqueid)) {
      const existing = store.mailboxByUniqueid(uniqueid);
      const home = existing === undefined ? undefined : hierarchyOf(existing.name);
      homeOf.set(uniqueid, home);
      homeBefore.set(uniqueid, home);
    }
    return homeOf.get(uniqueid);
  };
  for (const change of changes) {
    if (change.kind !== 'mailbox.put' && change.kind !== 'mailbox.delete') continue;
    const uniqueid = change.mailbox.uniqueid;
    const home = currentHome(uniqueid);
    if (home !== undefined) load(home).delete(uniqueid);
    if (change.kind === 'mailbox.delete') {
      homeOf.set(uniqueid, undefined);
      continue;
    }
    const target = hierarchyOf(change.mailbox.name);
    // Revision 0: "the mod_revision of this key" (the revision this txn commits at).
    load(target).set(uniqueid, encodedRecord(change.mailbox, 0));
    homeOf.set(uniqueid, target);
  }
  return { hierarchies, homeBefore };
}

/**
 * Builds the txn committing `changes` decided on the view at `viewRevision`:
 * puts and deletes of every touched key, the log entry, and the guard. `cache`
 * holds the encoded records of recently written hierarchies, exact at the view.
 */
export function planTxn(
  keyspace: Keyspace,
  store: Store,
  changes: readonly Change[],
  requestId: string,
  viewRevision: number,
  cache: HierarchyCache = new HierarchyCache(),
): PlannedTxn {
  const writes = new Map<string, unknown>(); // key -> value (a Buffer when already encoded)
  const guarded = new Set<string>();
  const { hierarchies, homeBefore } = plannedHierarchies(store, changes, cache);
  for (const [hierarchy, records] of hierarchies) {
    writes.set(keyspace.key('hier', hierarchy), Buffer.from(encodedHierarchyValue(requestId, records.values())));
  }
  const isNew = (uniqueid: string): boolean =>
    homeBefore.has(uniqueid) ? homeBefore.get(uniqueid) === undefined : store.mailboxByUniqueid(uniqueid) === undefined;
  for (const change of changes) planRecordChange(keyspace, isNew, change, requestId, writes, guarded);
  // A sweep removes tombstones only after putting this key: a view older than the sweep may
  // still hold records whose tombstones are gone, so its txn must fail and catch up first.
  guarded.add(keyspace.maintenanceKey('swept'));
  let bytes = 0;
  const success: RequestOp[] = [];
  let firstPut: string | undefined;
  for (const [key, value] of writes) {
    guarded.add(key);
    firstPut ??= key;
    const encoded = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
    bytes += key.length + encoded.length;
    success.push({ request_put: { key: Buffer.from(key), value: encoded } });
  }
  const log = Buffer.from(JSON.stringify({ requestId, changes: [...changes] } satisfies LogValue));
  bytes += log.length;
  success.push({ request_put: { key: Buffer.from(keyspace.logKey()), value: log } });
  const compare: Compare[] = [...guarded].map((key) => ({
    result: 'LESS',
    target: 'MOD',
    key: Buffer.from(key),
    mod_revision: viewRevision + 1,
  }));
  checkTxnBounds(success.length, compare.length + 1, bytes + compare.length * 128);
  // On a failed guard: the first written key (does it carry our request id, from a lost
  // reply?) and the revisions of the guarded keys (how far the local copy must catch up).
  const witness = Buffer.from(firstPut ?? keyspace.logKey());
  const failure: RequestOp[] = [{ request_range: { key: witness } }];
  for (const key of guarded) failure.push({ request_range: { key: Buffer.from(key), keys_only: true } });
  return { compare, success, failure };
}

function planRecordChange(
  keyspace: Keyspace,
  isNew: (uniqueid: string) => boolean,
  change: Change,
  requestId: string,
  writes: Map<string, unknown>,
  guarded: Set<string>,
): void {
  switch (change.kind) {
    case 'mailbox.put': {
      const key = keyspace.key('uid', change.mailbox.uniqueid);
      if (isNew(change.mailbox.uniqueid)) {
        writes.set(key, { requestId, uniqueid: change.mailbox.uniqueid });
      }
      guarded.add(key);
      // The server it is placed on must be as the decision saw it (never DRAINING or DOWN).
      guarded.add(keyspace.key('server', change.mailbox.server));
      return;
    }
    case 'mailbox.delete':
      writes.set(keyspace.key('uid', change.mailbox.uniqueid), { requestId, uniqueid: change.mailbox.uniqueid, deleted: true });
      return;
    case 'server.put':
      writes.set(keyspace.key('server', change.server.name), { requestId, server: change.server });
      return;
    case 'business.put':
      writes.set(keyspace.key('business', change.business.id), { requestId, business: change.business });
      return;
    case 'user.put':
      writes.set(keyspace.key('user', change.user.user), { requestId, user: change.user });
      return;
    case 'user.delete':
      writes.set(keyspace.key('user', change.user), { requestId, deletedUser: change.user });
      return;
    case 'lock.put':
      // A lease is granted against the holder the decision saw: guard it like a name.
      writes.set(keyspace.key('lock', change.lock.name), { requestId, lock: change.lock });
      guarded.add(keyspace.key('lock', change.lock.name));
      return;
    case 'lock.delete':
      // A tombstone, never a delete: a deleted key would read as never written and stop guarding.
      writes.set(keyspace.key('lock', change.name), { requestId, deletedLock: change.name });
      guarded.add(keyspace.key('lock', change.name));
      return;
  }
}

function checkTxnBounds(operations: number, compares: number, bytes: number): void {
  if (operations > limits.etcdTxnOpsMax || compares > limits.etcdTxnOpsMax) {
    throw resourceExhausted(
      `this change touches ${Math.max(operations, compares)} etcd keys; one etcd transaction holds at most ` +
        `${limits.etcdTxnOpsMax} (etcd --max-txn-ops): split it`,
    );
  }
  if (bytes > limits.etcdRequestBytesMax) {
    throw resourceExhausted(
      `this change needs an etcd request of ${bytes} bytes; etcd accepts at most ${limits.etcdRequestBytesMax} ` +
        '(etcd --max-request-bytes): split it',
    );
  }
}
