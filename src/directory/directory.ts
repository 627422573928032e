/**
 * The directory: the one entry point adapters call. It validates requests,
 * waits for `min_revision` on reads, hands decision functions to the engine
 * for writes, and answers plain records with the revision they are valid at.
 * It owns no rule itself (those are in the *-rules modules) and no protocol.
 * Clock and randomness are injected so tests can be deterministic.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AclEntry } from '../model/acl.js';
import { invalidArgument, notFound, quote } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { validateName } from '../model/names.js';
import { planScan, scanPageSize, selectScanPage, type ScanFilter } from './scan-rules.js';
import type { BusinessRecord, Location, MailboxRecord, ServerRecord } from '../model/records.js';
import { generateUniqueid, validateUniqueid, type RandomBytes } from '../model/uniqueid.js';
import type { Engine, EngineStatus } from '../replication/engine.js';
import type { ReadPool } from '../store/read-pool.js';
import type { Store } from '../store/store.js';
import { heavyReads, type HeavyReadKind, type HeavyReads, type RebalancePlan } from './heavy-reads.js';
import { scopeToServer } from './backend-scope.js';
import type { ListInput, ListResult } from './list-rules.js';
import {
  decideDeactivate,
  decideDeleteIfPresent,
  decideReserve,
  decideSetActive,
  type LocationResult,
} from './location-rules.js';
import { decideAcquireLock, decideReleaseLock, type LockAnswer } from './lock-rules.js';
import {
  decideActivate,
  decideCreate,
  decideDelete,
  decideRename,
  decideSetAcl,
  validateCreate,
  type ActivateInput,
  type CreateOutcome,
} from './mailbox-rules.js';
import {
  decideMarkMoving,
  decideMoveUser,
  decidePutBusiness,
  decidePutServer,
  decideSetUserBusiness,
  resolveUser,
  routeUser,
  type RouteNeed,
  type UserRoute,
  type MarkMovingResult,
  type MoveInput,
  type ResolvedUser,
} from './placement-rules.js';
import { RouteCache } from './route-cache.js';
import {
  decideSyncBatch,
  decideSyncRemovals,
  normalizeSyncEntry,
  SyncListing,
  SyncReport,
} from './sync-rules.js';
import type { BackupFacts } from '../store/backup.js';
import { WatchHub, type WatchFilter, type WatchSink, type WatchSubscription } from './watch.js';

export interface Clock {
  nowMs(): number;
}

export interface DirectoryOptions {
  clock?: Clock;
  randomBytes?: RandomBytes;
  nodeId?: string;
  /** How long a reservation holds its name; limits.reservationTtlMs unless a test shortens it. */
  reservationTtlMs?: number;
  /** Read threads for the heavy reads (LIST, scans, plans); on the main thread when absent. */
  readPool?: ReadPool | null;
}

/** What a client may give on create; everything but the name is optional. */
export interface CreateRequest {
  uniqueid?: string;
  name: string;
  server?: string;
  partition?: string;
  replicas?: Location[];
  acl?: AclEntry[];
  mbtype?: string;
  uidvalidity?: number;
  createdmodseq?: number;
  foldermodseq?: number;
  reserveOnly?: boolean;
  requestId?: string;
  nameHistory?: string[];
}

export interface Revisioned<T> {
  value: T;
  revision: number;
}

export interface ServerLoad {
  server: ServerRecord;
  users: number;
  mailboxes: number;
}

/** Bytes drawn from the system's random source at once; a draw per generated uniqueid cost as much as its rules. */
const randomPoolBytes = 4096;

/** The system's random source, read a pool at a time; no byte is handed out twice. */
function pooledRandomBytes(): RandomBytes {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return (count) => {
    if (offset + count > pool.length) {
      pool = cryptoRandomBytes(Math.max(randomPoolBytes, count));
      offset = 0;
    }
    const bytes = pool.subarray(offset, offset + count);
    offset += count;
    return bytes;
  };
}

/** Backend-scoped views kept for reuse (one per backend server). */
const scopedDirectoriesMax = 10_000;

/** Mailboxes scanned per page of ScanMailboxes (and MUPDATE LIST, sync): a page is read in one go, about 10 us a record at 2M. */
export { scanPageSize } from './scan-rules.js';

/**
 * Names in one lookup batch from which it is read on a read thread, and the
 * read threads a node needs for that: posting a single lookup costs the main
 * thread about as much as reading it (tools/bench/read-thread-cost.ts), and one
 * read thread shares its core with the main thread and the heavy reads
 * (docs/performance.md, "Lookup batches on read threads").
 */
export const lookupOnThreadNamesMin = 16;
export const lookupOnThreadThreadsMin = 2;

/** A lookup batch's bounds and names, checked before it is read (on this thread or a read thread). */
function validateLookup(names: readonly string[]): void {
  if (names.length > limits.lookupNamesMax) {
    throw invalidArgument(`${names.length} names in one lookup, more than the limit of ${limits.lookupNamesMax}`);
  }
  for (const name of names) validateName(name);
}

export class Directory {
  readonly clock: Clock;
  readonly watchHub: WatchHub;
  readonly nodeId: string;
  private readonly randomBytes: RandomBytes;
  private readonly startedAtMs: number;
  private readonly scoped = new Map<string, Directory>();
  private readonly reservationTtlMs: number;
  private readonly readPool: ReadPool | null;

  constructor(
    readonly store: Store,
    readonly engine: Engine,
    options: DirectoryOptions & { watchHub?: WatchHub } = {},
  ) {
    this.clock = options.clock ?? { nowMs: () => Date.now() };
    this.randomBytes = options.randomBytes ?? pooledRandomBytes();
    this.nodeId = options.nodeId ?? 'mbdir';
    this.reservationTtlMs = options.reservationTtlMs ?? limits.reservationTtlMs;
    this.readPool = options.readPool ?? null;
    this.watchHub = options.watchHub ?? new WatchHub(store, engine);
    this.startedAtMs = this.clock.nowMs();
  }

  /** This directory as a `backend:server` principal uses it: writes confined to that server. */
  scopedTo(server: string): Directory {
    const existing = this.scoped.get(server);
    if (existing !== undefined) return existing;
    const engine: Engine = Object.create(this.engine) as Engine;
    engine.commit = (decide, options) => this.engine.commit(scopeToServer(decide, server), options);
    const directory = new Directory(this.store, engine, {
      clock: this.clock,
      randomBytes: this.randomBytes,
      nodeId: this.nodeId,
      watchHub: this.watchHub,
      reservationTtlMs: this.reservationTtlMs,
      readPool: this.readPool,
    });
    if (this.scoped.size < scopedDirectoriesMax) this.scoped.set(server, directory);
    return directory;
  }

  /** Waits until this node has applied `minRevision` (read-your-writes). */
  async readAt(minRevision: number, timeoutMs: number = limits.minRevisionWaitMsMax): Promise<void> {
    if (minRevision > 0) await this.engine.waitForRevision(minRevision, Math.min(timeoutMs, limits.minRevisionWaitMsMax));
  }

  /**
   * Runs `read` once this node has applied `minRevision`: at once, with no
   * promise, in the common case where it already has (what keeps lookups cheap).
   */
  readAfter<T>(minRevision: number, timeoutMs: number, read: () => T | Promise<T>): T | Promise<T> {
    if (minRevision <= this.revision()) return read();
    return this.readAt(minRevision, timeoutMs).then(read);
  }

  revision(): number {
    return this.engine.appliedRevision();
  }

  // ------------------------------------------------------------ mailbox writes

  async createMailbox(request: CreateRequest): Promise<{ mailbox: MailboxRecord; outcome: CreateOutcome; revision: number }> {
    const generated = (request.uniqueid ?? '') === '';
    const input = validateCreate({
      uniqueid: generated ? generateUniqueid(this.randomBytes) : (request.uniqueid ?? ''),
      uniqueidGenerated: generated,
      name: request.name,
      server: request.server ?? '',
      partition: request.partition ?? '',
      replicas: request.replicas ?? [],
      acl: request.acl ?? [],
      mbtype: request.mbtype ?? '',
      uidvalidity: request.uidvalidity ?? 0,
      createdmodseq: request.createdmodseq ?? 0,
      foldermodseq: request.foldermodseq ?? 0,
      reserveOnly: request.reserveOnly ?? false,
      requestId: request.requestId ?? '',
      nameHistory: request.nameHistory ?? [],
    });
    const committed = await this.engine.commit((store) => decideCreate(store, input, this.clock.nowMs(), this.reservationTtlMs), {
      requestId: input.requestId,
    });
    return { ...committed.result, revision: committed.revision };
  }

  async activateMailbox(input: ActivateInput): Promise<Revisioned<MailboxRecord>> {
    validateName(input.name);
    if (input.uniqueid !== '') validateUniqueid(input.uniqueid);
    const committed = await this.engine.commit((store) => decideActivate(store, input, this.clock.nowMs()));
    return { value: committed.result, revision: committed.revision };
  }

  async renameMailbox(name: string, newName: string): Promise<Revisioned<MailboxRecord[]>> {
    const committed = await this.engine.commit((store) => decideRename(store, name, newName, this.clock.nowMs()));
    return { value: committed.result, revision: committed.revision };
  }

  async deleteMailbox(name: string): Promise<Revisioned<MailboxRecord>> {
    const committed = await this.engine.commit((store) => decideDelete(store, name));
    return { value: committed.result, revision: committed.revision };
  }

  async setAcl(name: string, identifier: string, rights: string): Promise<Revisioned<MailboxRecord>> {
    const committed = await this.engine.commit((store) => decideSetAcl(store, name, identifier, rights));
    return { value: committed.result, revision: committed.revision };
  }

  // ------------------------------------------------------------ MUPDATE location writes

  /** MUPDATE RESERVE (location-rules): holds a free name for `server`; its replica partner pairs. */
  async reserveLocation(input: { name: string; server: string; partition: string }): Promise<Revisioned<LocationResult>> {
    const generatedUniqueid = generateUniqueid(this.randomBytes);
    const committed = await this.engine.commit((store) =>
      decideReserve(store, { ...input, generatedUniqueid }, this.clock.nowMs(), this.reservationTtlMs),
    );
    return { value: committed.result, revision: committed.revision };
  }

  /** MUPDATE ACTIVATE (location-rules): creates or overwrites location and ACL. */
  async activateLocation(input: { name: string; server: string; partition: string; acl: AclEntry[] }): Promise<Revisioned<LocationResult>> {
    const generatedUniqueid = generateUniqueid(this.randomBytes);
    const committed = await this.engine.commit((store) => decideSetActive(store, { ...input, generatedUniqueid }, this.clock.nowMs()));
    return { value: committed.result, revision: committed.revision };
  }

  /** MUPDATE DEACTIVATE (location-rules): an active mailbox becomes RESERVED at the location. */
  async deactivateLocation(input: { name: string; server: string; partition: string }): Promise<Revisioned<MailboxRecord>> {
    const committed = await this.engine.commit((store) => decideDeactivate(store, input));
    return { value: committed.result, revision: committed.revision };
  }

  /** MUPDATE DELETE (location-rules): removes the name if held (only `byServer`'s replica, when it holds one). */
  async deleteIfPresent(name: string, byServer: string): Promise<Revisioned<MailboxRecord | null>> {
    const committed = await this.engine.commit((store) => decideDeleteIfPresent(store, name, byServer));
    return { value: committed.result, revision: committed.revision };
  }

  /** Releases reservations that were never activated; returns how many. */
  async sweepReservations(): Promise<number> {
    const committed = await this.engine.commit((store) => {
      const expired = store.expiredReservations(this.clock.nowMs(), 1000);
      return { changes: expired.map((mailbox) => ({ kind: 'mailbox.delete' as const, mailbox })), result: expired.length };
    });
    return committed.result;
  }

  // ------------------------------------------------------------ mailbox reads

  getMailbox(key: { name: string } | { uniqueid: string }): Revisioned<MailboxRecord> {
    const revision = this.revision();
    if ('name' in key) {
      validateName(key.name);
      const mailbox = this.store.mailboxByName(key.name);
      if (mailbox === undefined) throw notFoundName(key.name);
      return { value: mailbox, revision };
    }
    validateUniqueid(key.uniqueid);
    const mailbox = this.store.mailboxByUniqueid(key.uniqueid);
    if (mailbox === undefined) throw notFoundUniqueid(key.uniqueid);
    return { value: mailbox, revision };
  }

  /** Looks up names in order; a missing name is reported, not an error. */
  lookupMailboxes(names: readonly string[]): Revisioned<Array<MailboxRecord | undefined>> {
    validateLookup(names);
    const revision = this.revision();
    return { value: this.store.mailboxesByNames(names), revision };
  }

  /**
   * lookupMailboxes on a read thread, answered as the read `kind` makes it
   * there (encoded, for the gRPC adapter), on a snapshot holding at least this
   * node's applied revision; null when the batch is read on this thread
   * instead (fewer than lookupOnThreadNamesMin names, or fewer than
   * lookupOnThreadThreadsMin read threads).
   */
  lookupMailboxesOnThread(kind: string, names: readonly string[]): Promise<Revisioned<unknown>> | null {
    if (names.length < lookupOnThreadNamesMin || this.readPool === null || this.readPool.threads < lookupOnThreadThreadsMin) return null;
    validateLookup(names);
    return this.readOnThread(kind, names);
  }

  /** LIST (list-rules), on a read thread when the node has them: its cost grows with what the caller may see. */
  listMailboxes(input: ListInput): Revisioned<ListResult> | Promise<Revisioned<ListResult>> {
    return this.heavyRead('list', input);
  }

  /**
   * Runs a heavy read on a read thread, on a snapshot holding at least this
   * node's applied revision (so every write it acknowledged, and any
   * min_revision already waited for), answered with that snapshot's revision;
   * on the main thread, at once, without read threads.
   */
  private heavyRead<Kind extends HeavyReadKind>(
    kind: Kind,
    input: HeavyReads[Kind]['input'],
  ): Revisioned<HeavyReads[Kind]['result']> | Promise<Revisioned<HeavyReads[Kind]['result']>> {
    if (this.readPool === null) {
      const read = heavyReads[kind] as (store: Store, input: HeavyReads[Kind]['input']) => HeavyReads[Kind]['result'];
      const revision = this.revision();
      return { value: read(this.store, input), revision };
    }
    return this.readPool.run(kind, input, this.revision()) as Promise<Revisioned<HeavyReads[Kind]['result']>>;
  }

  /**
   * Runs read `kind` of a read thread (an adapter's own shape of a heavy read,
   * such as LIST answered as gRPC bytes) on a snapshot at this node's applied
   * revision or newer; null when the node has no read threads.
   */
  readOnThread(kind: string, input: unknown): Promise<Revisioned<unknown>> | null {
    return this.readPool === null ? null : this.readPool.run(kind, input, this.revision());
  }

  /** One page of the mailbox table after `afterKey`, at most `limit` (read on a read thread when the node has them). */
  async mailboxPage(server: string, afterKey: Buffer, limit: number): Promise<{ mailboxes: MailboxRecord[]; lastKey: Buffer }> {
    const page = await this.heavyRead('scanPage', { server, afterKeyHex: afterKey.toString('hex'), limit });
    return { mailboxes: page.value.mailboxes, lastKey: Buffer.from(page.value.lastKeyHex, 'hex') };
  }

  /** Mailboxes in sort-key order, page by page; optionally one server's or one subtree's (scan-rules). */
  async *scanMailboxes(filter: ScanFilter): AsyncGenerator<MailboxRecord[]> {
    const plan = planScan(filter);
    let afterKey: Buffer = Buffer.from(plan.startAfterHex, 'hex');
    for (;;) {
      const page = await this.mailboxPage(plan.server, afterKey, scanPageSize);
      afterKey = page.lastKey;
      const { selected, finished } = selectScanPage(plan, page.mailboxes, scanPageSize);
      if (selected.length > 0) yield selected;
      if (finished) return;
    }
  }

  // ------------------------------------------------------------ sync

  /** Starts a SyncServer session for `server`. */
  startSync(server: string, dryRun: boolean): SyncSession {
    return new SyncSession(this, server, dryRun);
  }

  // ------------------------------------------------------------ watch

  /** Subscribes `sink` to the changes `filter` selects, from `fromRevision` (0: a snapshot first). */
  watch(filter: WatchFilter, fromRevision: number, sink: WatchSink): WatchSubscription {
    return this.watchHub.subscribe(filter, fromRevision, sink);
  }

  // ------------------------------------------------------------ placement

  async putServer(server: ServerRecord): Promise<Revisioned<ServerRecord>> {
    const committed = await this.engine.commit(() => decidePutServer(server));
    return { value: committed.result, revision: committed.revision };
  }

  listServers(): Revisioned<ServerLoad[]> {
    const counts = new Map(this.store.placementCounts().map((count) => [count.server, count]));
    const value = this.store.servers().map((server) => ({
      server,
      users: counts.get(server.name)?.users ?? 0,
      mailboxes: counts.get(server.name)?.mailboxes ?? 0,
    }));
    return { value, revision: this.revision() };
  }

  async putBusiness(business: BusinessRecord): Promise<Revisioned<BusinessRecord>> {
    const committed = await this.engine.commit((store) => decidePutBusiness(store, business));
    return { value: committed.result, revision: committed.revision };
  }

  async setUserBusiness(user: string, business: string): Promise<number> {
    const committed = await this.engine.commit((store) => decideSetUserBusiness(store, user, business));
    return committed.revision;
  }

  resolveUser(user: string): Revisioned<ResolvedUser> {
    return { value: resolveUser(this.store, user), revision: this.revision() };
  }

  /**
   * Where mail (`lmtp`) or a login (`imap`) for `user` goes now; Unavailable
   * while the user is moved. Answers are remembered until a change touches the
   * user (RouteCache), so a recipient or a login costs no read when nothing changed.
   */
  routeUser(user: string, need: RouteNeed): UserRoute {
    if (this.routes === null) {
      const routes = new RouteCache(limits.routeCacheEntriesMax);
      this.engine.onApplied((events) => routes.invalidate(events));
      this.routes = routes;
    }
    return this.routes.route(user, need, () => routeUser(this.store, user, need));
  }

  /** Created on the first routeUser: only the node's own directory subscribes, not each scopedTo copy. */
  private routes: RouteCache | null = null;

  planRebalance(maxUsers: number): Revisioned<RebalancePlan> | Promise<Revisioned<RebalancePlan>> {
    if (maxUsers > limits.planUsersMax) {
      throw invalidArgument(`max_users ${maxUsers} is larger than the limit of ${limits.planUsersMax}`);
    }
    const bound = maxUsers === 0 ? limits.planUsersDefault : maxUsers;
    return this.heavyRead('plan', { maxUsers: bound });
  }

  async moveUser(input: MoveInput): Promise<Revisioned<MailboxRecord[]>> {
    const committed = await this.engine.commit((store) => decideMoveUser(store, input));
    return { value: committed.result, revision: committed.revision };
  }

  async markUserMoving(input: {
    user: string;
    fromServer: string;
    toServer: string;
    clear: boolean;
  }): Promise<Revisioned<MarkMovingResult>> {
    const committed = await this.engine.commit((store) => decideMarkMoving(store, input, this.clock.nowMs()));
    return { value: committed.result, revision: committed.revision };
  }

  // ------------------------------------------------------------ leases

  /** Grants or renews a lease (see lock-rules); a refusal is an answer, not an error. */
  async acquireLock(input: { name: string; holder: string; ttlMs: number }): Promise<Revisioned<LockAnswer>> {
    const committed = await this.engine.commit((store) => decideAcquireLock(store, input, this.clock.nowMs()));
    return { value: committed.result, revision: committed.revision };
  }

  async releaseLock(input: { name: string; holder: string }): Promise<Revisioned<boolean>> {
    const committed = await this.engine.commit((store) => decideReleaseLock(store, input));
    return { value: committed.result, revision: committed.revision };
  }

  // ------------------------------------------------------------ backup

  /**
   * A consistent copy of this node's database (SQLite's online backup) in a new
   * file beside it, and what it holds; the caller removes the file when done.
   */
  async backupCopy(): Promise<BackupFacts & { path: string }> {
    const path = `${this.store.path}.backup-${process.pid}-${cryptoRandomBytes(6).toString('hex')}`;
    try {
      return { ...(await this.store.backupTo(path)), path };
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
  }

  // ------------------------------------------------------------ status

  async status(): Promise<EngineStatus & { nodeId: string; mailboxes: number; oldestRetained: number; uptimeMs: number }> {
    const engine = await this.engine.status();
    return {
      ...engine,
      nodeId: this.nodeId,
      mailboxes: this.store.mailboxCount(),
      oldestRetained: this.store.oldestRetainedRevision(),
      uptimeMs: this.clock.nowMs() - this.startedAtMs,
    };
  }
}

function notFoundName(name: string): Error {
  return notFound(`no mailbox named ${quote(name)}`);
}

function notFoundUniqueid(uniqueid: string): Error {
  return notFound(`no mailbox with uniqueid ${uniqueid}`);
}

/** One SyncServer stream: batches in, one report out. */
export class SyncSession {
  private readonly listing: SyncListing;
  readonly report = new SyncReport();

  constructor(
    private readonly directory: Directory,
    readonly server: string,
    readonly dryRun: boolean,
  ) {
    this.listing = new SyncListing(server);
  }

  /** Classifies (and unless dry-run commits) one batch of the backend's list. */
  async addBatch(entries: readonly MailboxRecord[]): Promise<void> {
    const normalized = entries.map((entry) => normalizeSyncEntry(this.server, entry));
    this.listing.add(normalized);
    for (let start = 0; start < normalized.length; start += limits.syncCommitBatchMax) {
      const batch = normalized.slice(start, start + limits.syncCommitBatchMax);
      await this.commitBatch(batch);
    }
  }

  private async commitBatch(batch: readonly MailboxRecord[]): Promise<void> {
    const engine = this.directory.engine;
    if (this.dryRun) {
      const decision = decideSyncBatch(this.directory.store, this.server, batch);
      for (const entry of decision.result.classified) this.report.record(entry);
      for (const entry of decision.result.deferred) {
        this.report.record(decideSyncBatch(this.directory.store, this.server, [entry]).result.classified[0]!);
      }
      return;
    }
    const committed = await engine.commit((store) => decideSyncBatch(store, this.server, batch));
    this.report.revision = Math.max(this.report.revision, committed.revision);
    for (const entry of committed.result.classified) this.report.record(entry);
    for (const entry of committed.result.deferred) {
      const single = await engine.commit((store) => decideSyncBatch(store, this.server, [entry]));
      this.report.revision = Math.max(this.report.revision, single.revision);
      for (const classified of single.result.classified) this.report.record(classified);
    }
  }

  /** Removes (or reports) what the directory holds on the server but the backend did not list. */
  async finish(): Promise<SyncReport> {
    const unlisted: MailboxRecord[] = [];
    for await (const page of this.directory.scanMailboxes({ server: this.server, prefix: '', includeReserved: false })) {
      for (const mailbox of page) if (!this.listing.listed(mailbox)) unlisted.push(mailbox);
    }
    for (let start = 0; start < unlisted.length; start += limits.syncCommitBatchMax) {
      const batch = unlisted.slice(start, start + limits.syncCommitBatchMax);
      if (this.dryRun) {
        const decision = decideSyncRemovals(this.directory.store, this.server, batch, this.listing);
        for (const entry of decision.result) this.report.record(entry);
        continue;
      }
      const committed = await this.directory.engine.commit((store) =>
        decideSyncRemovals(store, this.server, batch, this.listing),
      );
      this.report.revision = Math.max(this.report.revision, committed.revision);
      for (const entry of committed.result) this.report.record(entry);
    }
    if (this.report.revision === 0) this.report.revision = this.directory.revision();
    return this.report;
  }
}
