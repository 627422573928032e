/**
 * The mailbox rules as decision functions: create (replica pairs, conflicts,
 * retries), activate, rename (whole subtree), delete and SETACL. Each takes the
 * store as its view and returns the changes to commit and its answer; engines
 * run them atomically. They never write and never know a protocol. The create
 * rule reads through the narrow `CreateReads`, so `mbdir import --data-dir`
 * runs this same rule over a bulk load's rows (decideCreateWith).
 */
import { applyAclEdit, normalizeAcl, renameAclIdentifier, type AclEntry } from '../model/acl.js';
import { conflict, failedPrecondition, invalidArgument, notFound, quote, resourceExhausted } from '../model/errors.js';
import { normalizeMbtype, normalizePartition, validateLabel, validateRequestId } from '../model/labels.js';
import { limits } from '../model/limits.js';
import { hierarchyOf, isInSubtree, isUserRoot, ownerOf, renamedName, validateName } from '../model/names.js';
import type { Change, MailboxRecord, ServerRecord, UserRecord } from '../model/records.js';
import { validateUniqueid } from '../model/uniqueid.js';
import type { Decision } from '../replication/engine.js';
import type { Store } from '../store/store.js';
import { choosePlacement, requireRegisteredServer } from './placement-rules.js';

export type CreateOutcome = 'CREATED' | 'ALREADY_PRESENT' | 'REPLICA_ADDED';

/** What a create asks for: the record's own fields as the caller gives them, and how to treat them. */
export type CreateInput = Pick<
  MailboxRecord,
  'uniqueid' | 'name' | 'server' | 'partition' | 'replicas' | 'acl' | 'mbtype' | 'uidvalidity' | 'createdmodseq' | 'foldermodseq' | 'requestId'
> & {
  /** True when the client gave no uniqueid and `uniqueid` was generated for it. */
  uniqueidGenerated: boolean;
  reserveOnly: boolean;
  /** Earlier names of the mailbox (an import brings Cyrus's name_history); the newest `limits.nameHistoryMax` are kept. */
  nameHistory: string[];
};

export interface CreateResult {
  mailbox: MailboxRecord;
  outcome: CreateOutcome;
}

/** The fields of a mailbox that a create checks and normalises. */
export type CreatedFields = Pick<
  CreateInput,
  'name' | 'uniqueid' | 'requestId' | 'server' | 'partition' | 'replicas' | 'acl' | 'mbtype' | 'nameHistory'
>;

/**
 * What the create rule reads. A Store is one; an empty-directory bulk load
 * (src/store/bulk-load.ts) gives a view of the rows it has written so far.
 */
export interface CreateReads {
  mailboxByName(name: string): MailboxRecord | undefined;
  mailboxByUniqueid(uniqueid: string): MailboxRecord | undefined;
  server(name: string): ServerRecord | undefined;
}

/**
 * Checks a new mailbox's fields and normalises them in place (a bulk import
 * checks millions of records this way without copying them).
 */
export function normalizeCreatedFields(fields: CreatedFields): void {
  validateName(fields.name);
  validateUniqueid(fields.uniqueid);
  validateRequestId(fields.requestId);
  if (fields.server !== '') validateLabel(fields.server, 'server');
  if (fields.replicas.length > limits.replicasMax) {
    throw invalidArgument(`mailbox has ${fields.replicas.length} replicas, more than the limit of ${limits.replicasMax}`);
  }
  fields.replicas = fields.replicas.map((replica) => {
    validateLabel(replica.server, 'replica server');
    return { server: replica.server, partition: normalizePartition(replica.partition) };
  });
  fields.partition = normalizePartition(fields.partition);
  fields.acl = normalizeAcl(fields.acl);
  fields.mbtype = normalizeMbtype(fields.mbtype);
  if (fields.nameHistory.length > 0) fields.nameHistory = normalizeNameHistory(fields.nameHistory);
}

/** Earlier names, each a valid name; the newest `limits.nameHistoryMax` kept, as a rename keeps them. */
function normalizeNameHistory(history: readonly string[]): string[] {
  const kept = history.slice(-limits.nameHistoryMax);
  for (const name of kept) validateName(name, 'name_history entry');
  return kept;
}

/**
 * The create request registering `mailbox` as a dump entry gives it: its own
 * uniqueid (as CreateMailbox takes a given one), a reservation when RESERVED.
 */
export function createInputOf(mailbox: MailboxRecord): CreateInput {
  return {
    uniqueid: mailbox.uniqueid,
    uniqueidGenerated: false,
    name: mailbox.name,
    server: mailbox.server,
    partition: mailbox.partition,
    replicas: mailbox.replicas,
    acl: mailbox.acl,
    mbtype: mailbox.mbtype,
    uidvalidity: mailbox.uidvalidity,
    createdmodseq: mailbox.createdmodseq,
    foldermodseq: mailbox.foldermodseq,
    reserveOnly: mailbox.state === 'RESERVED',
    requestId: mailbox.requestId,
    nameHistory: mailbox.nameHistory,
  };
}

/** Checks a create request's fields; returns the normalised input. */
export function validateCreate(input: CreateInput): CreateInput {
  const normalized = { ...input };
  normalizeCreatedFields(normalized);
  return normalized;
}

/** Describes the record holding a name, for Conflict messages. */
export function describeHolder(holder: MailboxRecord): string {
  return `${quote(holder.name)} is held by uniqueid ${holder.uniqueid} on server ${holder.server}`;
}

function isExpiredReservation(mailbox: MailboxRecord, nowMs: number): boolean {
  return mailbox.state === 'RESERVED' && mailbox.reservedUntilMs > 0 && mailbox.reservedUntilMs <= nowMs;
}

/** The create rule (DESIGN.md "Rules that matter"). `input` must be validated. */
export function decideCreate(
  store: Store,
  input: CreateInput,
  nowMs: number,
  reservationTtlMs: number = limits.reservationTtlMs,
): Decision<CreateResult> {
  return decideCreateWith(store, input, nowMs, reservationTtlMs, (name) => choosePlacement(store, name));
}

/**
 * The create rule over any `CreateReads`; `place` chooses the server of a new
 * mailbox given none (a bulk load gives every mailbox its server, so it never asks).
 */
export function decideCreateWith(
  reads: CreateReads,
  input: CreateInput,
  nowMs: number,
  reservationTtlMs: number,
  place: (name: string) => string,
): Decision<CreateResult> {
  const changes: Change[] = [];
  let holder = reads.mailboxByName(input.name);
  if (holder !== undefined && isExpiredReservation(holder, nowMs)) {
    changes.push({ kind: 'mailbox.delete', mailbox: holder });
    holder = undefined;
  }
  if (holder !== undefined) return decideCreateOnHeldName(reads, holder, input, changes);

  const sameId = reads.mailboxByUniqueid(input.uniqueid);
  if (sameId !== undefined) {
    if (!(isExpiredReservation(sameId, nowMs))) {
      throw conflict(
        `uniqueid ${input.uniqueid} is already registered as ${quote(sameId.name)} on server ${sameId.server}` +
          ` (a mailbox changing name is a rename)`,
      );
    }
    changes.push({ kind: 'mailbox.delete', mailbox: sameId });
  }
  const server = input.server !== '' ? input.server : place(input.name);
  requireRegisteredServer(reads, server, 'server');
  for (const replica of input.replicas) requireRegisteredServer(reads, replica.server, 'replica server');
  const mailbox = createdMailbox(input, server, nowMs, reservationTtlMs);
  changes.push({ kind: 'mailbox.put', mailbox });
  return { changes, result: { mailbox, outcome: 'CREATED' } };
}

/**
 * The record a create of a free name and uniqueid stores on `server` (the
 * bulk load packs exactly this for such a mailbox, without asking the rule).
 */
export function createdMailbox(input: CreateInput, server: string, nowMs: number, reservationTtlMs: number): MailboxRecord {
  return {
    uniqueid: input.uniqueid,
    name: input.name,
    server,
    partition: input.partition,
    replicas: input.replicas.filter((replica) => replica.server !== server),
    acl: input.acl,
    mbtype: input.mbtype,
    state: input.reserveOnly ? 'RESERVED' : 'ACTIVE',
    uidvalidity: input.uidvalidity,
    createdmodseq: input.createdmodseq,
    foldermodseq: input.foldermodseq,
    revision: 0,
    nameHistory: input.nameHistory,
    reservedUntilMs: input.reserveOnly ? nowMs + reservationTtlMs : 0,
    requestId: input.requestId,
  };
}

/**
 * True when `holder`'s uniqueid was generated (it was made over MUPDATE, which
 * carries none) and `server`, one of its servers, now brings the real one: the
 * real uniqueid replaces the generated one. That is no fork.
 */
export function canAdoptUniqueid(holder: MailboxRecord, uniqueid: string, server: string): boolean {
  return holder.uniqueidGenerated === true && uniqueid !== '' && uniqueid !== holder.uniqueid && serversOf(holder).includes(server);
}

/** `holder` under its real uniqueid, no longer marked generated (commit it after deleting `holder`). */
export function adoptUniqueid(holder: MailboxRecord, uniqueid: string): MailboxRecord {
  const mailbox: MailboxRecord = { ...holder, uniqueid };
  delete mailbox.uniqueidGenerated;
  return mailbox;
}

/** A create bringing the real uniqueid of a record made over MUPDATE: adopt it (and activate a reservation). */
function adoptOnCreate(store: CreateReads, holder: MailboxRecord, input: CreateInput, changes: Change[]): Decision<CreateResult> {
  const other = store.mailboxByUniqueid(input.uniqueid);
  if (other !== undefined) {
    throw conflict(`uniqueid ${input.uniqueid} is already registered as ${quote(other.name)} on server ${other.server}`);
  }
  const mailbox: MailboxRecord = {
    ...adoptUniqueid(holder, input.uniqueid),
    state: input.reserveOnly ? holder.state : 'ACTIVE',
    reservedUntilMs: input.reserveOnly ? holder.reservedUntilMs : 0,
    uidvalidity: input.uidvalidity !== 0 ? input.uidvalidity : holder.uidvalidity,
    createdmodseq: input.createdmodseq !== 0 ? input.createdmodseq : holder.createdmodseq,
    foldermodseq: input.foldermodseq !== 0 ? input.foldermodseq : holder.foldermodseq,
  };
  changes.push({ kind: 'mailbox.delete', mailbox: holder }, { kind: 'mailbox.put', mailbox });
  return { changes, result: { mailbox, outcome: 'ALREADY_PRESENT' } };
}

/** A create on a name already held: retry, adoption of a real uniqueid, replica pair, or conflict. */
function decideCreateOnHeldName(
  store: CreateReads,
  holder: MailboxRecord,
  input: CreateInput,
  changes: Change[],
): Decision<CreateResult> {
  const retried = input.requestId !== '' && holder.requestId === input.requestId;
  if (retried) return { changes, result: { mailbox: holder, outcome: 'ALREADY_PRESENT' } };
  if (canAdoptUniqueid(holder, input.uniqueidGenerated ? '' : input.uniqueid, input.server === '' ? holder.server : input.server)) {
    return adoptOnCreate(store, holder, input, changes);
  }
  if (input.uniqueidGenerated || holder.uniqueid !== input.uniqueid) {
    throw conflict(`mailbox ${describeHolder(holder)}; a second mailbox of the same name is never created`);
  }
  const server = input.server === '' ? holder.server : input.server;
  const onHolderServer = server === holder.server;
  const alreadyReplica = holder.replicas.some((replica) => replica.server === server);
  if (onHolderServer || alreadyReplica) {
    if (holder.state === 'RESERVED' && !input.reserveOnly && onHolderServer) {
      const activated: MailboxRecord = { ...holder, state: 'ACTIVE', reservedUntilMs: 0 };
      changes.push({ kind: 'mailbox.put', mailbox: activated });
      return { changes, result: { mailbox: activated, outcome: 'ALREADY_PRESENT' } };
    }
    return { changes, result: { mailbox: holder, outcome: 'ALREADY_PRESENT' } };
  }
  requireRegisteredServer(store, server, 'replica server');
  if (holder.replicas.length >= limits.replicasMax) {
    throw resourceExhausted(`mailbox ${quote(holder.name)} already has ${limits.replicasMax} replicas`);
  }
  const paired: MailboxRecord = {
    ...holder,
    replicas: [...holder.replicas, { server, partition: input.partition }],
  };
  changes.push({ kind: 'mailbox.put', mailbox: paired, previous: { name: holder.name, servers: serversOf(holder) } });
  return { changes, result: { mailbox: paired, outcome: 'REPLICA_ADDED' } };
}

/** Every server holding a copy: the primary first, then the replicas. */
export function serversOf(mailbox: MailboxRecord): string[] {
  return [mailbox.server, ...mailbox.replicas.map((replica) => replica.server)];
}

/**
 * The mailbox that homes the hierarchy `mailbox` is in, other than itself: the
 * hierarchy's root, or (a user's hierarchy without its root) another of the
 * user's mailboxes. Undefined for a new hierarchy.
 */
export function hierarchyHome(store: Store, mailbox: Pick<MailboxRecord, 'name' | 'uniqueid'>): MailboxRecord | undefined {
  const root = store.mailboxByName(hierarchyOf(mailbox.name));
  if (root !== undefined) return root.uniqueid === mailbox.uniqueid ? undefined : root;
  const owner = ownerOf(mailbox.name);
  if (owner === null) return undefined;
  return store.mailboxesOfUser(owner, 2).find((other) => other.uniqueid !== mailbox.uniqueid);
}

/**
 * The home of the hierarchy `mailbox` would enter when it is neither on
 * `server` nor replicated there (a user's hierarchy stays on one server unless
 * an admin places a folder elsewhere explicitly); undefined otherwise.
 */
export function hierarchyHomedElsewhere(
  store: Store,
  mailbox: Pick<MailboxRecord, 'name' | 'uniqueid'>,
  server: string,
): MailboxRecord | undefined {
  const home = hierarchyHome(store, mailbox);
  if (home === undefined || home.server === server) return undefined;
  return home.replicas.some((replica) => replica.server === server) ? undefined : home;
}

/** Finds a mailbox by name or throws NotFound naming it. */
export function requireMailbox(store: Store, name: string): MailboxRecord {
  validateName(name);
  const mailbox = store.mailboxByName(name);
  if (mailbox === undefined) throw notFound(`no mailbox named ${quote(name)}`);
  return mailbox;
}

export interface ActivateInput {
  name: string;
  uniqueid: string;
  acl: AclEntry[] | null;
}

/** RESERVED -> ACTIVE; activating an ACTIVE mailbox changes nothing. */
export function decideActivate(store: Store, input: ActivateInput, nowMs: number): Decision<MailboxRecord> {
  const mailbox = requireMailbox(store, input.name);
  if (input.uniqueid !== '' && input.uniqueid !== mailbox.uniqueid) {
    throw conflict(`mailbox ${describeHolder(mailbox)}, not by uniqueid ${input.uniqueid}`);
  }
  if (isExpiredReservation(mailbox, nowMs)) {
    throw notFound(`the reservation of ${quote(input.name)} expired before it was activated`);
  }
  const acl = input.acl === null ? mailbox.acl : normalizeAcl(input.acl);
  if (mailbox.state === 'ACTIVE' && input.acl === null) return { changes: [], result: mailbox };
  const activated: MailboxRecord = { ...mailbox, state: 'ACTIVE', reservedUntilMs: 0, acl };
  return { changes: [{ kind: 'mailbox.put', mailbox: activated }], result: activated };
}

/** Deletes one mailbox (not its children, as Cyrus does). */
export function decideDelete(store: Store, name: string): Decision<MailboxRecord> {
  const mailbox = requireMailbox(store, name);
  return { changes: [{ kind: 'mailbox.delete', mailbox }], result: mailbox };
}

/** One SETACL edit: `rights`, `+rights`, `-rights`; empty removes the entry. */
export function decideSetAcl(
  store: Store,
  name: string,
  identifier: string,
  rights: string,
): Decision<MailboxRecord> {
  const mailbox = requireMailbox(store, name);
  const updated: MailboxRecord = { ...mailbox, acl: applyAclEdit(mailbox.acl, identifier, rights) };
  return { changes: [{ kind: 'mailbox.put', mailbox: updated }], result: updated };
}

/**
 * Renames `name` and its whole subtree atomically. Renaming `user.a` to
 * `user.b` renames the user: their business and any move mark follow, and
 * their identifier `a` (and `-a`) becomes `b` in the ACLs of the moved
 * mailboxes, as Cyrus's user_renameacl does (the reverse ACL index follows).
 */
export function decideRename(
  store: Store,
  name: string,
  newName: string,
  nowMs: number,
): Decision<MailboxRecord[]> {
  validateName(newName, 'new mailbox name');
  validateName(name);
  // One read: the name's subtree range starts with the name itself (its sort key sorts first).
  const subtree = store.subtree(name, limits.renameSubtreeMailboxesMax + 1);
  if (subtree[0]?.name !== name) throw notFound(`no mailbox named ${quote(name)}`);
  if (newName === name) throw invalidArgument(`${quote(name)} is already named so`);
  if (isInSubtree(newName, name)) {
    throw invalidArgument(`cannot rename ${quote(name)} into its own subtree (${quote(newName)})`);
  }
  if (subtree.length > limits.renameSubtreeMailboxesMax) {
    throw resourceExhausted(
      `${quote(name)} has more than ${limits.renameSubtreeMailboxesMax} mailboxes in its subtree; rename it in parts`,
    );
  }
  const changes: Change[] = [];
  const renamed: MailboxRecord[] = [];
  const user = renamedUser(name, newName);
  for (const mailbox of subtree) {
    const target = renamedName(mailbox.name, name, newName);
    validateName(target, 'renamed mailbox name');
    const holder = store.mailboxByName(target);
    if (holder !== undefined) {
      if (!isExpiredReservation(holder, nowMs)) {
        throw conflict(`cannot rename ${quote(mailbox.name)} to ${quote(target)}: mailbox ${describeHolder(holder)}`);
      }
      changes.push({ kind: 'mailbox.delete', mailbox: holder });
    }
    const nameHistory = [...mailbox.nameHistory, mailbox.name].slice(-limits.nameHistoryMax);
    const acl = user === null ? mailbox.acl : [...renameAclIdentifier(mailbox.acl, user.from, user.to)];
    const moved: MailboxRecord = { ...mailbox, name: target, nameHistory, acl };
    changes.push({ kind: 'mailbox.put', mailbox: moved, previous: { name: mailbox.name, servers: serversOf(mailbox) } });
    renamed.push(moved);
  }
  changes.push(...userRecordFollowsRename(store, name, newName));
  return { changes, result: renamed };
}

/**
 * The user a rename renames: `user.a` -> `user.b` (a root to another user's
 * root, domains included: `example.com!user.a` is `a@example.com`), else null.
 */
function renamedUser(name: string, newName: string): { from: string; to: string } | null {
  const from = ownerOf(name);
  const to = ownerOf(newName);
  if (from === null || to === null || from === to) return null;
  if (!isUserRoot(name) || !isUserRoot(newName)) return null;
  return { from, to };
}

/** When a user's root is renamed to another user's root, the user record follows. */
function userRecordFollowsRename(store: Store, name: string, newName: string): Change[] {
  const user = renamedUser(name, newName);
  if (user === null) return [];
  const [oldUser, newUser] = [user.from, user.to];
  const record = store.user(oldUser);
  if (record === undefined) return [];
  if (store.user(newUser) !== undefined) {
    throw failedPrecondition(`user ${quote(newUser)} already has a business or move record; clear it first`);
  }
  const moved: UserRecord = { ...record, user: newUser };
  return [
    { kind: 'user.delete', user: oldUser },
    { kind: 'user.put', user: moved },
  ];
}
