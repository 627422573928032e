/**
 * SyncServer: a backend streams its whole mailbox list (what `ctl_mboxlist -m`
 * does for Cyrus) and the directory answers with the difference, applying it
 * unless asked for a dry run.
 *
 * The backend is the authority for its own server: a record located there that
 * it no longer lists is removed, a name it holds under another uniqueid is
 * replaced, a uniqueid it lists under a new name is renamed. It is never the
 * authority over another server's records: a name or uniqueid held elsewhere is
 * a conflict, reported and left alone, and so is a name that would enter a
 * hierarchy homed on another server (a user's hierarchy stays on one server
 * unless an admin places a folder elsewhere). Entries are classified and committed in
 * bounded batches, each batch one commit decided against the current state.
 */
import { normalizeAcl } from '../model/acl.js';
import { conflict, invalidArgument, quote, resourceExhausted } from '../model/errors.js';
import { normalizeMbtype, normalizePartition, validateLabel } from '../model/labels.js';
import { limits } from '../model/limits.js';
import { validateName } from '../model/names.js';
import type { Change, MailboxRecord } from '../model/records.js';
import { validateUniqueid } from '../model/uniqueid.js';
import type { Decision } from '../replication/engine.js';
import type { Store } from '../store/store.js';
import { adoptUniqueid, canAdoptUniqueid, describeHolder, hierarchyHomedElsewhere, serversOf } from './mailbox-rules.js';
import { requireRegisteredServer } from './placement-rules.js';

/** Entries of each kind listed in a SyncServer answer; the counts are whole. */
export const syncReportEntriesMax = 1000;

export type SyncEntryKind = 'added' | 'updated' | 'unchanged' | 'conflicting' | 'removed';

export interface SyncClassified {
  kind: SyncEntryKind;
  mailbox: MailboxRecord;
  holder?: MailboxRecord;
  reason?: string;
  changes: Change[];
}

/** Normalises one entry the backend reported; its server is the syncing server. */
export function normalizeSyncEntry(server: string, entry: MailboxRecord): MailboxRecord {
  validateName(entry.name);
  validateUniqueid(entry.uniqueid);
  return {
    ...entry,
    server,
    partition: normalizePartition(entry.partition),
    replicas: [],
    acl: normalizeAcl(entry.acl),
    mbtype: normalizeMbtype(entry.mbtype),
    state: 'ACTIVE',
    revision: 0,
    reservedUntilMs: 0,
    requestId: '',
  };
}

function sameContent(left: MailboxRecord, right: MailboxRecord): boolean {
  return (
    left.partition === right.partition &&
    left.mbtype === right.mbtype &&
    left.state === right.state &&
    JSON.stringify(left.acl) === JSON.stringify(right.acl)
  );
}

/** Classifies one reported entry against the directory and says what to change. */
export function classifySyncEntry(store: Store, server: string, entry: MailboxRecord): SyncClassified {
  const holder = store.mailboxByName(entry.name);
  if (holder !== undefined && holder.uniqueid === entry.uniqueid) return classifySameMailbox(server, entry, holder);
  if (holder !== undefined && canAdoptUniqueid(holder, entry.uniqueid, server)) return classifyAdoption(store, server, entry, holder);
  if (holder !== undefined && holder.server !== server) {
    return { kind: 'conflicting', mailbox: entry, holder, reason: `mailbox ${describeHolder(holder)}`, changes: [] };
  }
  const byId = store.mailboxByUniqueid(entry.uniqueid);
  if (byId !== undefined && byId.server !== server) {
    const reason = `uniqueid ${entry.uniqueid} is registered as ${quote(byId.name)} on server ${byId.server}`;
    return { kind: 'conflicting', mailbox: entry, holder: byId, reason, changes: [] };
  }
  // A name entering a hierarchy (new, or renamed into it) must enter one homed on this server, or replicated here.
  const home = byId?.name === entry.name ? undefined : hierarchyHomedElsewhere(store, entry, server);
  if (home !== undefined) {
    const reason = `${quote(entry.name)} would be in the hierarchy of ${quote(home.name)}, on ${home.server}`;
    return { kind: 'conflicting', mailbox: entry, holder: home, reason, changes: [] };
  }
  const changes: Change[] = [];
  if (holder !== undefined) changes.push({ kind: 'mailbox.delete', mailbox: holder });
  const record: MailboxRecord = {
    ...entry,
    nameHistory: byId === undefined ? [] : [...byId.nameHistory, byId.name].slice(-limits.nameHistoryMax),
  };
  const previous = byId === undefined ? undefined : { name: byId.name, servers: serversOf(byId) };
  changes.push(previous === undefined ? { kind: 'mailbox.put', mailbox: record } : { kind: 'mailbox.put', mailbox: record, previous });
  const kind = holder === undefined && byId === undefined ? 'added' : 'updated';
  return { kind, mailbox: record, changes };
}

/** The backend brings the real uniqueid of a record made over MUPDATE: adopt it, then apply the entry's content. */
function classifyAdoption(store: Store, server: string, entry: MailboxRecord, holder: MailboxRecord): SyncClassified {
  const byId = store.mailboxByUniqueid(entry.uniqueid);
  if (byId !== undefined) {
    const reason = `uniqueid ${entry.uniqueid} is registered as ${quote(byId.name)} on server ${byId.server}`;
    return { kind: 'conflicting', mailbox: entry, holder: byId, reason, changes: [] };
  }
  const adopted = adoptUniqueid(holder, entry.uniqueid);
  const same = classifySameMailbox(server, entry, adopted);
  const mailbox = same.kind === 'unchanged' ? adopted : same.mailbox;
  const record: MailboxRecord = { ...mailbox, uidvalidity: entry.uidvalidity, createdmodseq: entry.createdmodseq, foldermodseq: entry.foldermodseq };
  return { kind: 'updated', mailbox: record, changes: [{ kind: 'mailbox.delete', mailbox: holder }, { kind: 'mailbox.put', mailbox: record }] };
}

function classifySameMailbox(server: string, entry: MailboxRecord, holder: MailboxRecord): SyncClassified {
  if (holder.server === server) {
    if (sameContent(holder, entry)) return { kind: 'unchanged', mailbox: holder, changes: [] };
    const updated: MailboxRecord = {
      ...holder,
      partition: entry.partition,
      mbtype: entry.mbtype,
      acl: entry.acl,
      state: 'ACTIVE',
      reservedUntilMs: 0,
    };
    return { kind: 'updated', mailbox: updated, changes: [{ kind: 'mailbox.put', mailbox: updated }] };
  }
  if (holder.replicas.some((replica) => replica.server === server)) {
    return { kind: 'unchanged', mailbox: holder, changes: [] };
  }
  if (holder.replicas.length >= limits.replicasMax) {
    return { kind: 'conflicting', mailbox: entry, holder, reason: `${quote(holder.name)} has too many replicas`, changes: [] };
  }
  const paired: MailboxRecord = { ...holder, replicas: [...holder.replicas, { server, partition: entry.partition }] };
  return {
    kind: 'added',
    mailbox: paired,
    changes: [{ kind: 'mailbox.put', mailbox: paired, previous: { name: holder.name, servers: serversOf(holder) } }],
  };
}

/** What to do with a directory record on `server` that the backend did not list. */
export function classifyUnlisted(server: string, mailbox: MailboxRecord): SyncClassified | null {
  if (mailbox.state === 'RESERVED') return null; // a create in flight: not the backend's to judge yet
  if (mailbox.server === server) {
    return { kind: 'removed', mailbox, changes: [{ kind: 'mailbox.delete', mailbox }] };
  }
  const replicas = mailbox.replicas.filter((replica) => replica.server !== server);
  const updated: MailboxRecord = { ...mailbox, replicas };
  return {
    kind: 'removed',
    mailbox,
    changes: [{ kind: 'mailbox.put', mailbox: updated, previous: { name: mailbox.name, servers: serversOf(mailbox) } }],
  };
}

/** Accumulates a SyncServer report with bounded lists and whole counts. */
export class SyncReport {
  readonly lists: Record<SyncEntryKind, SyncClassified[]> = {
    added: [],
    updated: [],
    unchanged: [],
    conflicting: [],
    removed: [],
  };
  readonly counts: Record<SyncEntryKind, number> = { added: 0, updated: 0, unchanged: 0, conflicting: 0, removed: 0 };
  truncated = false;
  revision = 0;

  record(entry: SyncClassified): void {
    this.counts[entry.kind] += 1;
    if (entry.kind === 'unchanged') return;
    const list = this.lists[entry.kind];
    if (list.length < syncReportEntriesMax) list.push(entry);
    else this.truncated = true;
  }
}

/** Tracks what a sync stream listed, refusing duplicates and oversized streams. */
export class SyncListing {
  private readonly names = new Set<string>();
  private readonly uniqueids = new Set<string>();

  constructor(readonly server: string) {
    validateLabel(server, 'server');
  }

  /** Registers a batch; throws on a duplicate entry or past the stream limit. */
  add(entries: readonly MailboxRecord[]): void {
    if (entries.length > limits.syncBatchMailboxesMax) {
      throw invalidArgument(`one SyncServer message holds ${entries.length} mailboxes, more than ${limits.syncBatchMailboxesMax}`);
    }
    if (this.names.size + entries.length > limits.syncEntriesMax) {
      throw resourceExhausted(`SyncServer stream lists more than ${limits.syncEntriesMax} mailboxes`);
    }
    for (const entry of entries) {
      if (this.names.has(entry.name)) throw invalidArgument(`SyncServer lists ${quote(entry.name)} twice`);
      if (this.uniqueids.has(entry.uniqueid)) {
        throw conflict(`SyncServer lists uniqueid ${entry.uniqueid} twice (second time as ${quote(entry.name)})`);
      }
      this.names.add(entry.name);
      this.uniqueids.add(entry.uniqueid);
    }
  }

  listed(mailbox: MailboxRecord): boolean {
    return this.names.has(mailbox.name) || this.uniqueids.has(mailbox.uniqueid);
  }
}

/** Names and uniqueids an entry's changes touch. */
function touchedKeys(entry: SyncClassified): string[] {
  const keys: string[] = [];
  for (const change of entry.changes) {
    if (change.kind !== 'mailbox.put' && change.kind !== 'mailbox.delete') continue;
    keys.push(`n:${change.mailbox.name}`, `u:${change.mailbox.uniqueid}`);
    if (change.kind === 'mailbox.put' && change.previous !== undefined) keys.push(`n:${change.previous.name}`);
  }
  return keys;
}

/**
 * One commit of a sync: classifies a batch against the current state. Changes
 * are applied after the decision, so two entries touching the same name or
 * uniqueid (a swap of names, say) cannot share a commit: the later one is
 * returned in `deferred` and committed on its own afterwards.
 */
export function decideSyncBatch(
  store: Store,
  server: string,
  entries: readonly MailboxRecord[],
): Decision<{ classified: SyncClassified[]; deferred: MailboxRecord[] }> {
  // The whole stream is refused, as a create on an unknown server is: nothing to classify against.
  requireRegisteredServer(store, server, 'SyncServer server');
  const classified: SyncClassified[] = [];
  const deferred: MailboxRecord[] = [];
  const touched = new Set<string>();
  for (const entry of entries) {
    const result = classifySyncEntry(store, server, entry);
    const keys = touchedKeys(result);
    if (keys.some((key) => touched.has(key))) {
      deferred.push(entry);
      continue;
    }
    for (const key of keys) touched.add(key);
    classified.push(result);
  }
  return { changes: classified.flatMap((entry) => entry.changes), result: { classified, deferred } };
}

/** One commit of the removals: re-checks each record is still there and unlisted. */
export function decideSyncRemovals(
  store: Store,
  server: string,
  candidates: readonly MailboxRecord[],
  listing: SyncListing,
): Decision<SyncClassified[]> {
  const classified: SyncClassified[] = [];
  for (const candidate of candidates) {
    const current = store.mailboxByUniqueid(candidate.uniqueid);
    if (current === undefined || listing.listed(current) || !serversOf(current).includes(server)) continue;
    const entry = classifyUnlisted(server, current);
    if (entry !== null) classified.push(entry);
  }
  return { changes: classified.flatMap((entry) => entry.changes), result: classified };
}
