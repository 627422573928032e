/**
 * The etcd engine's cache of hierarchy values: for the hierarchies this node
 * wrote lately, every record of the hierarchy already encoded as it goes into
 * the `hier/` value, so a write re-encodes only the records it changes instead
 * of reading and encoding the whole hierarchy again. It is kept exact by the
 * apply path: every applied change of a cached hierarchy updates it, at the
 * revision the store is at; a cache found at another revision than the store
 * is dropped whole. Bounded by etcdHierarchyCacheMailboxesMax records (least
 * recently planned hierarchies leave first). It never reads etcd: a stale plan
 * is still refused by the txn's mod_revision guard.
 */
import { resourceExhausted } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { hierarchyOf, parseName } from '../model/names.js';
import type { ChangeEvent, MailboxRecord } from '../model/records.js';
import { mailboxRecordText } from '../store/packed-rows.js';
import type { Store } from '../store/store.js';

/** Records of one hierarchy by uniqueid, each as the JSON text it has in the hierarchy value. */
export type EncodedHierarchy = Map<string, string>;

/**
 * A record as the hierarchy value holds it: the stored record text with its revision last
 * (what JSON.stringify gives for a record read back from the store).
 */
export function encodedRecord(mailbox: MailboxRecord, revision: number): string {
  return encodedStoredRecord(mailboxRecordText(mailbox), revision);
}

/** `encodedRecord` from the record's stored text (its `record` column, a JSON object). */
export function encodedStoredRecord(text: string, revision: number): string {
  return `${text.slice(0, -1)},"revision":${revision}}`;
}

/** The hierarchy value's text: `{"requestId":...,"mailboxes":[...]}`, as JSON.stringify writes it. */
export function encodedHierarchyValue(requestId: string, records: Iterable<string>): string {
  let joined = '';
  for (const record of records) joined += joined === '' ? record : `,${record}`;
  return `{"requestId":${JSON.stringify(requestId)},"mailboxes":[${joined}]}`;
}

export class HierarchyCache {
  private readonly entries = new Map<string, EncodedHierarchy>();
  /** The cached hierarchy of every record the entries hold. */
  private readonly homes = new Map<string, string>();
  private records = 0;
  /** The store revision the entries are exact at. */
  private revision = -1;

  constructor(private readonly recordsMax: number = limits.etcdHierarchyCacheMailboxesMax) {}

  /**
   * The records of `hierarchy` as the store holds them now (read from it on a miss). The
   * caller may read the map, not change it. Throws ResourceExhausted past etcdHierarchyMailboxesMax.
   */
  get(store: Store, hierarchy: string): ReadonlyMap<string, string> {
    if (this.revision !== store.revision()) this.clear(store.revision());
    let entry = this.entries.get(hierarchy);
    if (entry === undefined) {
      entry = readHierarchy(store, hierarchy);
      this.add(hierarchy, entry);
    } else {
      if (entry.size > limits.etcdHierarchyMailboxesMax) throw tooLarge(hierarchy);
      // Most recently used last: eviction takes the first.
      this.entries.delete(hierarchy);
      this.entries.set(hierarchy, entry);
    }
    return entry;
  }

  /** Follows an applied commit (or a relist): every mailbox change of a cached hierarchy. */
  applied(events: readonly ChangeEvent[], revision: number): void {
    if (this.revision < 0) return;
    for (const { change } of events) {
      if (change.kind !== 'mailbox.put' && change.kind !== 'mailbox.delete') continue;
      const uniqueid = change.mailbox.uniqueid;
      const before = this.homes.get(uniqueid);
      if (before !== undefined) {
        this.entries.get(before)?.delete(uniqueid);
        this.homes.delete(uniqueid);
        this.records -= 1;
      }
      if (change.kind === 'mailbox.delete') continue;
      const home = hierarchyOf(change.mailbox.name);
      const entry = this.entries.get(home);
      if (entry === undefined) continue;
      entry.set(uniqueid, encodedRecord(change.mailbox, change.mailbox.revision));
      this.homes.set(uniqueid, home);
      this.records += 1;
    }
    this.revision = revision;
    this.evict();
  }

  /** Forgets every entry; the next `get` reads the store at `revision`. */
  clear(revision = -1): void {
    this.entries.clear();
    this.homes.clear();
    this.records = 0;
    this.revision = revision;
  }

  /** Records held now (for tests and bounds). */
  size(): number {
    return this.records;
  }

  private add(hierarchy: string, entry: EncodedHierarchy): void {
    this.entries.set(hierarchy, entry);
    for (const uniqueid of entry.keys()) this.homes.set(uniqueid, hierarchy);
    this.records += entry.size;
    this.evict(hierarchy);
  }

  /** Drops least recently used hierarchies while over the bound (never `keep`, just read). */
  private evict(keep?: string): void {
    for (const [hierarchy, entry] of this.entries) {
      if (this.records <= this.recordsMax) return;
      if (hierarchy === keep) continue;
      this.entries.delete(hierarchy);
      for (const uniqueid of entry.keys()) this.homes.delete(uniqueid);
      this.records -= entry.size;
    }
  }
}

/** The records of `hierarchy` in the store, encoded. */
function readHierarchy(store: Store, hierarchy: string): EncodedHierarchy {
  const entry: EncodedHierarchy = new Map();
  if (parseName(hierarchy, 'hierarchy').segments.length < 2) {
    const only = store.mailboxByName(hierarchy);
    if (only !== undefined) entry.set(only.uniqueid, encodedRecord(only, only.revision));
    return entry;
  }
  const rows = store.subtreeRows(hierarchy, limits.etcdHierarchyMailboxesMax + 1);
  if (rows.length > limits.etcdHierarchyMailboxesMax) throw tooLarge(hierarchy);
  for (const row of rows) {
    if (hierarchyOf(row.name) === hierarchy) entry.set(row.uniqueid, encodedStoredRecord(row.record, row.revision));
  }
  return entry;
}

function tooLarge(hierarchy: string): Error {
  return resourceExhausted(
    `hierarchy ${hierarchy} holds more than ${limits.etcdHierarchyMailboxesMax} mailboxes, the most one etcd value holds`,
  );
}
