/**
 * The rules of MUPDATE's location commands (RFC 3656 as Cyrus 3.x acts):
 * RESERVE holds a name for a server, ACTIVATE sets a mailbox's location and
 * ACL (creating or overwriting it), DEACTIVATE hands an active mailbox back to
 * RESERVED at a location, DELETE removes a name if held. A server's replica
 * partner registers a replica instead of meeting "already exists"; conflicts
 * compare the server part only (`be!` and `be!default` are one server).
 * Records made here carry a generated uniqueid, marked so a backend's real one
 * is adopted later. Pure decisions over the store; no protocol text here.
 */
import { normalizeAcl, type AclEntry } from '../model/acl.js';
import { conflict, failedPrecondition, notFound, quote, resourceExhausted } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { validateName } from '../model/names.js';
import type { Change, Location, MailboxRecord } from '../model/records.js';
import type { Decision } from '../replication/engine.js';
import type { Store } from '../store/store.js';
import { describeHolder, serversOf } from './mailbox-rules.js';
import { requireRegisteredServer } from './placement-rules.js';

export interface LocationInput {
  name: string;
  server: string;
  /** '' keeps the partition on record (Cyrus's rename sends `be!`); 'default' for a new record. */
  partition: string;
  /** A fresh uniqueid, used only if the name is free. */
  generatedUniqueid: string;
}

export type LocationOutcome = 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'REPLICA_ADDED';

export interface LocationResult {
  mailbox: MailboxRecord;
  outcome: LocationOutcome;
}

function isExpiredReservation(mailbox: MailboxRecord, nowMs: number): boolean {
  return mailbox.state === 'RESERVED' && mailbox.reservedUntilMs > 0 && mailbox.reservedUntilMs <= nowMs;
}

/** Refuses a location naming a server the directory does not know. */
/** True when `left` and `right` are declared a replica pair (either side's replica_partner). */
export function arePartners(store: Store, left: string, right: string): boolean {
  return store.server(left)?.replicaPartner === right || store.server(right)?.replicaPartner === left;
}

/** The name's holder, unless it is a lapsed reservation (then its deletion is queued in `changes`). */
function liveHolder(store: Store, name: string, nowMs: number, changes: Change[]): MailboxRecord | undefined {
  const holder = store.mailboxByName(name);
  if (holder === undefined || !isExpiredReservation(holder, nowMs)) return holder;
  changes.push({ kind: 'mailbox.delete', mailbox: holder });
  return undefined;
}

function newRecord(input: LocationInput, state: MailboxRecord['state'], acl: AclEntry[], reservedUntilMs: number): MailboxRecord {
  return {
    uniqueid: input.generatedUniqueid,
    name: input.name,
    server: input.server,
    partition: input.partition === '' ? 'default' : input.partition,
    replicas: [],
    acl,
    mbtype: 'e',
    state,
    uidvalidity: 0,
    createdmodseq: 0,
    foldermodseq: 0,
    revision: 0,
    nameHistory: [],
    reservedUntilMs,
    requestId: '',
    uniqueidGenerated: true,
  };
}

/** The record with `server` added as a replica (bounded by replicasMax). */
function withReplica(holder: MailboxRecord, server: string, partition: string): MailboxRecord {
  if (holder.replicas.length >= limits.replicasMax) {
    throw resourceExhausted(`mailbox ${quote(holder.name)} already has ${limits.replicasMax} replicas`);
  }
  return { ...holder, replicas: [...holder.replicas, { server, partition: partition === '' ? 'default' : partition }] };
}

/**
 * RESERVE: a free name is reserved for `server` (lapsing after `reservationTtlMs`
 * unless activated); a name held by the same server (primary or replica) is left
 * as it is; its holder's replica partner becomes a replica; anyone else: Conflict.
 */
export function decideReserve(store: Store, input: LocationInput, nowMs: number, reservationTtlMs: number): Decision<LocationResult> {
  validateName(input.name);
  requireRegisteredServer(store, input.server, 'server');
  const changes: Change[] = [];
  const holder = liveHolder(store, input.name, nowMs, changes);
  if (holder === undefined) {
    const mailbox = newRecord(input, 'RESERVED', [], nowMs + reservationTtlMs);
    changes.push({ kind: 'mailbox.put', mailbox });
    return { changes, result: { mailbox, outcome: 'CREATED' } };
  }
  if (serversOf(holder).includes(input.server)) return { changes, result: { mailbox: holder, outcome: 'UNCHANGED' } };
  if (arePartners(store, holder.server, input.server)) {
    const paired = withReplica(holder, input.server, input.partition);
    changes.push({ kind: 'mailbox.put', mailbox: paired, previous: { name: holder.name, servers: serversOf(holder) } });
    return { changes, result: { mailbox: paired, outcome: 'REPLICA_ADDED' } };
  }
  throw conflict(`mailbox ${describeHolder(holder)}; ${input.server} may not reserve it`);
}

/** The holder moved to `server` (ACTIVATE from a server that neither holds it nor pairs with its holder). */
function movedTo(holder: MailboxRecord, input: LocationInput): MailboxRecord {
  return {
    ...holder,
    server: input.server,
    partition: input.partition === '' ? holder.partition : input.partition,
    replicas: holder.replicas.filter((replica) => replica.server !== input.server),
  };
}

/** The holder as ACTIVATE from one of its own servers (or its holder's partner) leaves it. */
function activatedBy(store: Store, holder: MailboxRecord, input: LocationInput): { mailbox: MailboxRecord; outcome: LocationOutcome } {
  if (holder.server === input.server) {
    const partition = input.partition === '' ? holder.partition : input.partition;
    return { mailbox: { ...holder, partition }, outcome: 'UPDATED' };
  }
  const replicaIndex = holder.replicas.findIndex((replica) => replica.server === input.server);
  if (replicaIndex >= 0) {
    const replicas = holder.replicas.map((replica, index) =>
      index === replicaIndex && input.partition !== '' ? { server: replica.server, partition: input.partition } : replica,
    );
    return { mailbox: { ...holder, replicas }, outcome: 'UPDATED' };
  }
  if (arePartners(store, holder.server, input.server)) {
    return { mailbox: withReplica(holder, input.server, input.partition), outcome: 'REPLICA_ADDED' };
  }
  // Cyrus's ACTIVATE overwrites the location: an XFER's destination takes the mailbox over.
  return { mailbox: movedTo(holder, input), outcome: 'UPDATED' };
}

function sameRecord(left: MailboxRecord, right: MailboxRecord): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/** ACTIVATE: creates the mailbox, or sets its location, ACL and ACTIVE state. */
export function decideSetActive(store: Store, input: LocationInput & { acl: AclEntry[] }, nowMs: number): Decision<LocationResult> {
  validateName(input.name);
  requireRegisteredServer(store, input.server, 'server');
  const acl = normalizeAcl(input.acl);
  const changes: Change[] = [];
  const holder = liveHolder(store, input.name, nowMs, changes);
  if (holder === undefined) {
    const mailbox = newRecord(input, 'ACTIVE', acl, 0);
    changes.push({ kind: 'mailbox.put', mailbox });
    return { changes, result: { mailbox, outcome: 'CREATED' } };
  }
  const next = activatedBy(store, holder, input);
  const mailbox: MailboxRecord = { ...next.mailbox, acl, state: 'ACTIVE', reservedUntilMs: 0 };
  if (sameRecord(mailbox, holder)) return { changes, result: { mailbox: holder, outcome: 'UNCHANGED' } };
  changes.push({ kind: 'mailbox.put', mailbox, previous: { name: holder.name, servers: serversOf(holder) } });
  return { changes, result: { mailbox, outcome: next.outcome } };
}

/**
 * DEACTIVATE: an active mailbox becomes RESERVED at the given location and loses
 * its ACL (an XFER's source hands it over). NotFound for an unknown name,
 * FailedPrecondition for one not active: Cyrus's two answers.
 */
export function decideDeactivate(store: Store, input: Omit<LocationInput, 'generatedUniqueid'>): Decision<MailboxRecord> {
  validateName(input.name);
  const holder = store.mailboxByName(input.name);
  if (holder === undefined) throw notFound(`mailbox doesn't exist: no mailbox named ${quote(input.name)}`);
  if (holder.state !== 'ACTIVE') throw failedPrecondition(`mailbox not currently active: ${quote(input.name)} is reserved`);
  requireRegisteredServer(store, input.server, 'server');
  const partition = input.partition === '' ? holder.partition : input.partition;
  const mailbox: MailboxRecord = {
    ...holder,
    server: input.server,
    partition,
    replicas: holder.replicas.filter((replica) => replica.server !== input.server),
    acl: [],
    state: 'RESERVED',
    reservedUntilMs: 0,
  };
  return { changes: [{ kind: 'mailbox.put', mailbox, previous: { name: holder.name, servers: serversOf(holder) } }], result: mailbox };
}

/**
 * DELETE as a backend sends it: removes the name if held; an unknown name is no
 * error (a Cyrus backend's IMAP DELETE fails on anything but OK). From a server
 * holding only a replica (`byServer`), only that replica goes.
 */
export function decideDeleteIfPresent(store: Store, name: string, byServer: string): Decision<MailboxRecord | null> {
  validateName(name);
  const holder = store.mailboxByName(name);
  if (holder === undefined) return { changes: [], result: null };
  if (byServer !== '' && byServer !== holder.server && holder.replicas.some((replica) => replica.server === byServer)) {
    const mailbox: MailboxRecord = { ...holder, replicas: holder.replicas.filter((replica) => replica.server !== byServer) };
    return { changes: [{ kind: 'mailbox.put', mailbox, previous: { name: holder.name, servers: serversOf(holder) } }], result: mailbox };
  }
  return { changes: [{ kind: 'mailbox.delete', mailbox: holder }], result: holder };
}

/** The location `viewer` sees a mailbox at: its own replica's when it holds one, else the primary's. */
export function locationSeenBy(mailbox: MailboxRecord, viewer: string): Location {
  if (viewer !== '' && viewer !== mailbox.server) {
    const replica = mailbox.replicas.find((entry) => entry.server === viewer);
    if (replica !== undefined) return replica;
  }
  return { server: mailbox.server, partition: mailbox.partition };
}

/**
 * The location of `mailbox` that MUPDATE LIST's byte prefix of `server!partition`
 * selects (the primary first, then replicas), or null. Cyrus compares bytes, so
 * `be1` also selects `be10!...`.
 */
export function locationMatchingPrefix(mailbox: MailboxRecord, prefix: string): Location | null {
  if (`${mailbox.server}!${mailbox.partition}`.startsWith(prefix)) return { server: mailbox.server, partition: mailbox.partition };
  for (const replica of mailbox.replicas) if (`${replica.server}!${replica.partition}`.startsWith(prefix)) return replica;
  return null;
}
