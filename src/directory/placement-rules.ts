/**
 * Placement rules: where a new mailbox goes (create-on-server), servers,
 * businesses and users, ResolveUser, the rebalance plan, and the guarded user
 * move. Decision functions over the store, like the mailbox rules; the
 * rebalance job and the proxies' adapters build on these.
 */
import { conflict, failedPrecondition, invalidArgument, notFound, quote, resourceExhausted, unavailable } from '../model/errors.js';
import { normalizePartition, validateAddress, validateLabel } from '../model/labels.js';
import { limits } from '../model/limits.js';
import { hierarchyOf, ownerOf, parentName, userRootName, validateUserId } from '../model/names.js';
import type {
  BusinessRecord,
  Change,
  MailboxRecord,
  ServerRecord,
  ServerState,
  UserRecord,
} from '../model/records.js';
import type { Decision } from '../replication/engine.js';
import type { StoreQueries } from '../store/queries.js';
import { stateCode, type Store } from '../store/store.js';

/** Weight bounds for a server's share of placements. */
export const serverWeightMax = 1000;

/**
 * Where a mailbox created without a server goes: a sub-folder to its user's
 * server, a shared sub-folder to its parent's, a new user to their business's
 * home server, otherwise the least-loaded UP server by users per weight.
 * Never to a DRAINING or DOWN server.
 */
export function choosePlacement(store: Store, name: string): string {
  const owner = ownerOf(name);
  if (owner !== null) {
    // The root `user.<id>` sorts first in the hierarchy: found by name (one index search) it is the
    // answer; only a hierarchy without its root reads the user's mailboxes in sort-key order.
    const existing = store.serverOfMailbox(hierarchyOf(name)) ?? store.mailboxesOfUser(owner, 1)[0]?.server;
    if (existing !== undefined) return existing;
    const home = businessHomeOf(store, owner);
    if (home !== null && isUp(store.server(home))) return home;
  } else {
    const parent = parentName(name);
    const parentRecord = parent === null ? undefined : store.mailboxByName(parent);
    if (parentRecord !== undefined) return parentRecord.server;
  }
  const server = leastLoadedUpServer(store, new Set());
  if (server === null) {
    throw failedPrecondition(`no UP server to place ${quote(name)} on: register one with PutServer (mbdir server-put)`);
  }
  return server;
}

function isUp(server: ServerRecord | undefined): boolean {
  return server !== undefined && server.state === 'UP';
}

function businessHomeOf(store: StoreQueries, user: string): string | null {
  const business = store.user(user)?.business ?? '';
  if (business === '') return null;
  return store.business(business)?.homeServer ?? null;
}

/** The UP server with the fewest users per weight, or null when none is UP. */
export function leastLoadedUpServer(store: StoreQueries, exclude: ReadonlySet<string>, extraUsers?: Map<string, number>): string | null {
  return leastLoadedOf(store.servers(), store.usersPerServer(), exclude, extraUsers);
}

/** Pure part of leastLoadedUpServer, for callers that count users once and choose many times. */
export function leastLoadedOf(
  servers: Iterable<ServerRecord>,
  users: ReadonlyMap<string, number>,
  exclude: ReadonlySet<string>,
  extraUsers?: ReadonlyMap<string, number>,
): string | null {
  let best: { name: string; load: number } | null = null;
  for (const server of servers) {
    if (server.state !== 'UP' || exclude.has(server.name)) continue;
    const count = (users.get(server.name) ?? 0) + (extraUsers?.get(server.name) ?? 0);
    const load = count / Math.max(1, server.weight);
    if (best === null || load < best.load) best = { name: server.name, load };
  }
  return best?.name ?? null;
}

// ------------------------------------------------------------ servers, businesses, users

/**
 * The rule every write that names a server follows: the server must be
 * registered, or no proxy could route to what is placed there. FailedPrecondition,
 * not InvalidArgument: the request is well formed and succeeds once the
 * directory knows the server (`mbdir server-put`), as gRPC defines that code.
 */
export function requireRegisteredServer(store: Pick<Store, 'server'>, server: string, what: string): ServerRecord {
  const record = store.server(server);
  if (record === undefined) throw unregisteredServer(server, what);
  return record;
}

/** The refusal of a server the directory does not know. */
function unregisteredServer(server: string, what: string): Error {
  return failedPrecondition(
    `${what} ${quote(server)} is not a registered server: register it first with ` +
      `mbdir server-put ${server} --imap IP:PORT --lmtp IP:PORT (PutServer)`,
  );
}

const serverStates: readonly ServerState[] = ['UP', 'DRAINING', 'DOWN'];

/** Validates and normalises a server record. */
export function validateServer(server: ServerRecord): ServerRecord {
  validateLabel(server.name, 'server name');
  validateAddress(server.imapAddress, 'imap_address');
  validateAddress(server.lmtpAddress, 'lmtp_address');
  validateAddress(server.pop3Address, 'pop3_address');
  if (!serverStates.includes(server.state)) throw invalidArgument(`server state must be one of ${serverStates.join(', ')}`);
  if (!Number.isInteger(server.weight) || server.weight < 0 || server.weight > serverWeightMax) {
    throw invalidArgument(`server weight must be 0..${serverWeightMax} (0 means 1)`);
  }
  if (server.datacenter !== '') validateLabel(server.datacenter, 'datacenter');
  const replicaPartner = server.replicaPartner ?? '';
  if (replicaPartner !== '') {
    validateLabel(replicaPartner, 'replica_partner');
    if (replicaPartner === server.name) throw invalidArgument(`server ${quote(server.name)} cannot be its own replica partner`);
  }
  return { ...server, weight: server.weight === 0 ? 1 : server.weight, replicaPartner };
}

export function decidePutServer(server: ServerRecord): Decision<ServerRecord> {
  const valid = validateServer(server);
  return { changes: [{ kind: 'server.put', server: valid }], result: valid };
}

export function decidePutBusiness(store: Store, business: BusinessRecord): Decision<BusinessRecord> {
  validateLabel(business.id, 'business id');
  validateLabel(business.homeServer, 'home_server');
  requireRegisteredServer(store, business.homeServer, 'home_server');
  return { changes: [{ kind: 'business.put', business }], result: business };
}

export function decideSetUserBusiness(store: Store, user: string, business: string): Decision<UserRecord> {
  validateUserId(user);
  if (business !== '') {
    validateLabel(business, 'business id');
    if (store.business(business) === undefined) throw notFound(`no business ${quote(business)} (mbdir business-put)`);
  }
  const record: UserRecord = { ...(store.user(user) ?? emptyUser(user)), business };
  return { changes: [{ kind: 'user.put', user: record }], result: record };
}

function emptyUser(user: string): UserRecord {
  return { user, business: '', movingFrom: '', movingTo: '', movingSinceMs: 0 };
}

// ------------------------------------------------------------ resolve

export interface ResolvedUser {
  user: string;
  mailbox: MailboxRecord;
  server: ServerRecord | undefined;
  record: UserRecord | undefined;
}

/** Where a user lives: their `user.<id>` root (or any mailbox of theirs). */
export function resolveUser(store: Store, user: string): ResolvedUser {
  const root = userRootName(user);
  const mailbox = store.mailboxByName(root) ?? store.mailboxesOfUser(user, 1)[0];
  if (mailbox === undefined || mailbox.state !== 'ACTIVE') throw notFound(`user ${quote(user)} has no mailbox`);
  return { user, mailbox, server: store.server(mailbox.server), record: store.user(user) };
}

/** Where mail and logins for a user go now: the server and its addresses. */
export interface UserRoute {
  user: string;
  server: string;
  imapAddress: string;
  pop3Address: string;
  lmtpAddress: string;
}

/** Which of a server's addresses a route needs: a login proxy's (IMAP, POP3) or a delivery's (LMTP). */
export type RouteNeed = 'imap' | 'pop3' | 'lmtp';

const addressOf: Record<RouteNeed, (server: ServerRecord) => string> = {
  imap: (server) => server.imapAddress,
  pop3: (server) => server.pop3Address,
  lmtp: (server) => server.lmtpAddress,
};

/**
 * Where to deliver to, or proxy a login of, `user` now. NotFound for a user
 * without an active mailbox; Unavailable (retry later) while the user is being
 * moved, so nothing lands on the server being emptied, and while their server
 * is DOWN (as userAvailability tells the HTTP adapter); FailedPrecondition when
 * the user's server is not registered, or has no address for `need`.
 */
export function routeUser(store: Store, user: string, need: RouteNeed): UserRoute {
  // The usual case in one read: the user's root exists and is active.
  const row = store.routeOfRoot(userRootName(user), user);
  if (row !== undefined && row.state === stateCode.ACTIVE) return checkedRoute(user, row.server, row.serverRecord, row, need);
  // A hierarchy without its root, or none (NotFound): the general rule.
  const { mailbox, server, record } = resolveUser(store, user);
  return checkedRoute(user, mailbox.server, server, record ?? null, need);
}

function checkedRoute(
  user: string,
  serverName: string,
  server: ServerRecord | undefined,
  moving: { movingFrom: string | null; movingTo: string | null; movingSinceMs: number | null } | null,
  need: RouteNeed,
): UserRoute {
  if (moving !== null && (moving.movingSinceMs ?? 0) > 0) {
    throw unavailable(`user ${quote(user)} is being moved from ${quote(moving.movingFrom ?? '')} to ${quote(moving.movingTo ?? '')}; try again later`);
  }
  if (server === undefined) throw failedPrecondition(`server ${quote(serverName)} of user ${quote(user)} is not registered (mbdir server-put)`);
  if (server.state === 'DOWN') throw unavailable(`server ${quote(serverName)} of user ${quote(user)} is DOWN; try again later`);
  if (addressOf[need](server) === '') {
    throw failedPrecondition(`server ${quote(serverName)} has no ${need} address (mbdir server-put ${serverName} --${need} IP:PORT)`);
  }
  return { user, server: serverName, imapAddress: server.imapAddress, pop3Address: server.pop3Address, lmtpAddress: server.lmtpAddress };
}

/**
 * Whether a proxy may send the user's logins now: not while a move is under way
 * (the data is in flight), not to a DOWN server, not to a server the directory
 * does not know. A DRAINING server still serves the users it holds.
 */
export type UserAvailability = 'ready' | 'moving' | 'server-down' | 'server-unknown';

export function userAvailability(resolved: ResolvedUser): UserAvailability {
  if ((resolved.record?.movingSinceMs ?? 0) > 0) return 'moving';
  if (resolved.server === undefined) return 'server-unknown';
  return resolved.server.state === 'DOWN' ? 'server-down' : 'ready';
}

// ------------------------------------------------------------ rebalance plan

export interface PlannedMove {
  user: string;
  fromServer: string;
  toServer: string;
  reason: 'business-home' | 'draining';
  business: string;
  moving: boolean;
}

/**
 * Users not on their business's home server (when that server is UP), and users
 * on DRAINING servers (to their business's home, else the least-loaded UP server);
 * also users left marked moving whose move is no longer planned.
 */
export function planRebalance(store: StoreQueries, maxUsers: number): { moves: PlannedMove[]; total: number; staleMoving: string[] } {
  const moves = new Map<string, PlannedMove>();
  const servers = new Map(store.servers().map((server) => [server.name, server]));
  for (const row of store.misplacedUsers(limits.planUsersMax)) {
    if (!isUp(servers.get(row.home))) continue;
    moves.set(row.user, {
      user: row.user,
      fromServer: row.server,
      toServer: row.home,
      reason: servers.get(row.server)?.state === 'DRAINING' ? 'draining' : 'business-home',
      business: row.business,
      moving: (row.moving_since_ms ?? 0) > 0,
    });
  }
  // Counted once: a GROUP BY over every root per drained user made a 10,000-user drain take minutes.
  const usersPerServer = store.usersPerServer();
  const extraUsers = new Map<string, number>();
  const draining = [...servers.values()].filter((server) => server.state === 'DRAINING').map((server) => server.name);
  for (const server of draining) {
    for (const user of store.usersOnServer(server, limits.planUsersMax)) {
      if (moves.has(user) || moves.size >= limits.planUsersMax) continue;
      const record = store.user(user);
      const home = businessHomeOf(store, user);
      const target = home !== null && home !== server && isUp(servers.get(home))
        ? home
        : leastLoadedOf(servers.values(), usersPerServer, new Set([server]), extraUsers);
      if (target === null) continue;
      extraUsers.set(target, (extraUsers.get(target) ?? 0) + 1);
      moves.set(user, {
        user,
        fromServer: server,
        toServer: target,
        reason: 'draining',
        business: record?.business ?? '',
        moving: (record?.movingSinceMs ?? 0) > 0,
      });
    }
  }
  const all = [...moves.values()];
  // Marked moving by a run that died, but no longer planned (e.g. re-assigned since): the job clears them.
  const staleMoving = store.movingUsers(limits.planUsersMax).filter((user) => !moves.has(user.user)).map((user) => user.user);
  return { moves: all.slice(0, maxUsers), total: all.length, staleMoving: staleMoving.slice(0, maxUsers) };
}

// ------------------------------------------------------------ moves

export interface MoveInput {
  user: string;
  fromServer: string;
  toServer: string;
  partition: string;
  expectRevision: number;
  expectMailboxes: number;
}

/** The user's whole hierarchy, bounded; NotFound when they have none. */
function hierarchyOfUser(store: Store, user: string): MailboxRecord[] {
  validateUserId(user);
  const mailboxes = store.mailboxesOfUser(user, limits.renameSubtreeMailboxesMax + 1);
  if (mailboxes.length === 0) throw notFound(`user ${quote(user)} has no mailbox`);
  if (mailboxes.length > limits.renameSubtreeMailboxesMax) {
    throw resourceExhausted(`user ${quote(user)} has more than ${limits.renameSubtreeMailboxesMax} mailboxes`);
  }
  return mailboxes;
}

function requireOnServer(user: string, mailboxes: readonly MailboxRecord[], server: string): void {
  const elsewhere = mailboxes.find((mailbox) => mailbox.server !== server);
  if (elsewhere !== undefined) {
    throw failedPrecondition(
      `user ${quote(user)} is not on server ${quote(server)}: ${quote(elsewhere.name)} is on ${elsewhere.server}`,
    );
  }
}

/** Newest revision and count of a hierarchy: changes during a move alter one or the other. */
export function hierarchyFingerprint(mailboxes: readonly MailboxRecord[]): { revision: number; count: number } {
  return { revision: Math.max(0, ...mailboxes.map((mailbox) => mailbox.revision)), count: mailboxes.length };
}

function requireTargetServer(store: Store, name: string): void {
  validateLabel(name, 'to_server');
  const server = requireRegisteredServer(store, name, 'to_server');
  if (server.state !== 'UP') throw failedPrecondition(`to_server ${quote(name)} is ${server.state}, not UP`);
}

/** Moves a whole hierarchy atomically, guarded on the server it is leaving. */
export function decideMoveUser(store: Store, input: MoveInput): Decision<MailboxRecord[]> {
  validateLabel(input.fromServer, 'from_server');
  requireTargetServer(store, input.toServer);
  if (input.fromServer === input.toServer) throw invalidArgument('from_server and to_server are the same');
  const partition = input.partition === '' ? '' : normalizePartition(input.partition);
  const mailboxes = hierarchyOfUser(store, input.user);
  requireOnServer(input.user, mailboxes, input.fromServer);
  const fingerprint = hierarchyFingerprint(mailboxes);
  const revisionChanged = input.expectRevision > 0 && fingerprint.revision !== input.expectRevision;
  const countChanged = input.expectMailboxes > 0 && fingerprint.count !== input.expectMailboxes;
  if (revisionChanged || countChanged) {
    throw conflict(
      `the hierarchy of ${quote(input.user)} changed during the move ` +
        `(revision ${fingerprint.revision}, ${fingerprint.count} mailboxes; expected ` +
        `${input.expectRevision}, ${input.expectMailboxes}): copy again`,
    );
  }
  const changes: Change[] = [];
  const moved = mailboxes.map((mailbox): MailboxRecord => ({
    ...mailbox,
    server: input.toServer,
    partition: partition === '' ? mailbox.partition : partition,
    replicas: mailbox.replicas.filter((replica) => replica.server !== input.toServer),
  }));
  moved.forEach((mailbox, index) => {
    const before = mailboxes[index] as MailboxRecord;
    changes.push({ kind: 'mailbox.put', mailbox, previous: { name: before.name, servers: [before.server] } });
  });
  const record = store.user(input.user);
  if (record !== undefined && record.movingSinceMs > 0) {
    changes.push({ kind: 'user.put', user: { ...record, movingFrom: '', movingTo: '', movingSinceMs: 0 } });
  }
  return { changes, result: moved };
}

export interface MarkMovingResult {
  revision: number;
  count: number;
  movingSinceMs: number;
}

/** Marks a user as moving (proxies answer "retry later") or clears the mark. */
export function decideMarkMoving(
  store: Store,
  input: { user: string; fromServer: string; toServer: string; clear: boolean },
  nowMs: number,
): Decision<MarkMovingResult> {
  const mailboxes = hierarchyOfUser(store, input.user);
  const fingerprint = hierarchyFingerprint(mailboxes);
  const record = store.user(input.user) ?? emptyUser(input.user);
  if (input.clear) {
    const cleared: UserRecord = { ...record, movingFrom: '', movingTo: '', movingSinceMs: 0 };
    return { changes: [{ kind: 'user.put', user: cleared }], result: { ...fingerprint, movingSinceMs: 0 } };
  }
  validateLabel(input.fromServer, 'from_server');
  requireTargetServer(store, input.toServer);
  requireOnServer(input.user, mailboxes, input.fromServer);
  const sameMove = record.movingSinceMs > 0 && record.movingTo === input.toServer;
  const movingSinceMs = sameMove ? record.movingSinceMs : nowMs;
  const marked: UserRecord = { ...record, movingFrom: input.fromServer, movingTo: input.toServer, movingSinceMs };
  return { changes: [{ kind: 'user.put', user: marked }], result: { ...fingerprint, movingSinceMs } };
}
