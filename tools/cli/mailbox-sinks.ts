/**
 * Where `mbdir import` and the bench generator put mailboxes: straight into a
 * stopped node's data directory (an exclusive SQLite lock, large transactions
 * without the change log; an empty directory takes the unjournaled fast path of
 * src/store/bulk-load.ts), or through a running node's API (CreateMailbox with
 * a bounded number of calls in flight, two calls on one name or uniqueid never
 * at once). Both paths decide every mailbox by the directory's own create rule
 * (decideCreate: retries, replica pairs, reservations, conflicts), so a dump
 * gives the same directory, counts and conflict texts whichever way it goes.
 */
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { MailboxRecord } from '../../src/model/records.js';
import type { Change, ServerRecord } from '../../src/model/records.js';
import { DirectoryError } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import { createInputOf, decideCreateWith, type CreateReads } from '../../src/directory/mailbox-rules.js';
import { validateServer } from '../../src/directory/placement-rules.js';
import { mailboxToWire } from '../../src/api/wire.js';
import {
  DataDirLock,
  EmptyDirectoryLoad,
  isEmptyForBulkLoad,
  serverRecordMemoEntriesMax,
  Store,
  type InterleavedMailbox,
  type SynchronousMode,
} from '../../src/store/offline.js';
import type { ServerRegistry } from './import-servers.js';
import { hostname } from 'node:os';

/** Mailboxes written by one bulk transaction into a directory that holds mailboxes already. */
export const bulkBatchMailboxes = 20_000;
/** CreateMailbox calls in flight at once by default through the API. */
export const apiConcurrencyDefault = 32;

export interface SinkCounts {
  written: number;
  unchanged: number;
  conflicts: number;
  /** The first few conflicts, for the summary. */
  conflictExamples: string[];
}

export interface MailboxSink {
  readonly counts: SinkCounts;
  add(mailbox: MailboxRecord): Promise<void> | void;
  finish(): Promise<void>;
}

const conflictExamplesMax = 5;

function newCounts(): SinkCounts {
  return { written: 0, unchanged: 0, conflicts: 0, conflictExamples: [] };
}

function recordConflict(counts: SinkCounts, text: string): void {
  counts.conflicts += 1;
  if (counts.conflictExamples.length < conflictExamplesMax) counts.conflictExamples.push(text);
}

/** Says on stderr that opening `dataDir` upgrades its schema first (it may take minutes at millions of mailboxes). */
export function reportSchemaUpgrade(dataDir: string): (from: number, to: number) => void {
  return (from, to) => process.stderr.write(`upgrading the schema of ${dataDir} from version ${from} to ${to} (about a minute per 2M mailboxes)\n`);
}

/** An import gives every mailbox its server: the create rule never has to place one. */
function placementGiven(name: string): string {
  throw new Error(`import: ${name} reached the create rule without a server`);
}

/**
 * The create rule's view of a directory holding mailboxes while a batch is
 * pending: the batch's decided changes over the store's rows.
 */
class PendingView implements CreateReads {
  private readonly byName = new Map<string, MailboxRecord | null>();
  private readonly byUniqueid = new Map<string, MailboxRecord | null>();
  /** Servers read once: they are registered before the first mailbox and do not change during the load. */
  private readonly servers = new Map<string, ServerRecord | undefined>();

  constructor(private readonly store: Store) {}

  mailboxByName(name: string): MailboxRecord | undefined {
    const pending = this.byName.get(name);
    return pending === undefined ? this.store.mailboxByName(name) : (pending ?? undefined);
  }

  mailboxByUniqueid(uniqueid: string): MailboxRecord | undefined {
    const pending = this.byUniqueid.get(uniqueid);
    return pending === undefined ? this.store.mailboxByUniqueid(uniqueid) : (pending ?? undefined);
  }

  server(name: string): ServerRecord | undefined {
    if (this.servers.has(name)) return this.servers.get(name);
    const server = this.store.server(name);
    if (this.servers.size < serverRecordMemoEntriesMax) this.servers.set(name, server);
    return server;
  }

  /** Records decided changes (a create changes no name of a uniqueid: it puts and deletes). */
  record(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.kind !== 'mailbox.put' && change.kind !== 'mailbox.delete') continue;
      const kept = change.kind === 'mailbox.put' ? change.mailbox : null;
      this.byName.set(change.mailbox.name, kept);
      this.byUniqueid.set(change.mailbox.uniqueid, kept);
    }
  }

  clear(): void {
    this.byName.clear();
    this.byUniqueid.clear();
  }
}

/** Writes into a data directory nobody else has open. */
export class DataDirSink implements MailboxSink, ServerRegistry {
  readonly counts = newCounts();
  readonly store: Store;
  /** Unchecked mailboxes (the bench generator's), or the checked load's decided changes, not written yet. */
  private pending: MailboxRecord[] = [];
  private pendingChanges: Change[] = [];
  private readonly view: PendingView;
  private readonly revision: number;
  /** The directory held no mailbox when opened: the first mailbox starts the fast load. */
  private readonly empty: boolean;
  private readonly lock: DataDirLock;
  private fastLoad: EmptyDirectoryLoad | null = null;

  /**
   * `checked: false` skips the create rule in a directory that holds mailboxes
   * (the bench generator writes into an empty one, where a taken name or
   * uniqueid still goes to the rule).
   */
  constructor(
    dataDir: string,
    private readonly synchronous: SynchronousMode,
    private readonly checked = true,
  ) {
    // The lock `mbdir serve` takes: a node cannot start on the directory while it loads, nor it on a serving node's.
    this.lock = DataDirLock.acquire(dataDir, `pid ${process.pid} on host ${hostname()}, a bulk load (mbdir import --data-dir)`);
    try {
      this.store = new Store({ dataDir, synchronous, onSchemaUpgrade: reportSchemaUpgrade(dataDir) });
    } catch (error) {
      this.lock.release();
      throw error;
    }
    try {
      this.store.enterBulkMode();
    } catch (error) {
      this.store.close();
      this.lock.release();
      throw error;
    }
    this.revision = this.store.revision() + 1;
    this.empty = isEmptyForBulkLoad(this.store);
    this.view = new PendingView(this.store);
  }

  async registeredServers(): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set(this.store.servers().map((server) => server.name)));
  }

  /** Registers servers before the first mailbox, in the load's own revision. */
  async registerServers(servers: readonly ServerRecord[]): Promise<void> {
    this.applyOthers(servers.map((server) => ({ kind: 'server.put' as const, server: validateServer(server) })));
    return Promise.resolve();
  }

  /** Servers, businesses and users of a bulk load, at the load's revision (before the first mailbox). */
  applyOthers(changes: readonly Change[]): void {
    if (this.fastLoad !== null) throw new Error('DataDirSink.applyOthers: call it before the first mailbox');
    this.store.bulkApply(changes, this.revision);
  }

  add(mailbox: MailboxRecord): void {
    if (this.empty) {
      const load = this.beginFastLoad();
      if (mailbox.state === 'ACTIVE' && load.put(mailbox)) this.counts.written += 1;
      else this.decide(load, mailbox, (changes) => load.apply(changes));
      return;
    }
    if (this.checked) {
      this.decide(this.view, mailbox, (changes) => this.queueChanges(changes));
      return;
    }
    this.pending.push(mailbox);
    if (this.pending.length >= bulkBatchMailboxes) this.flush();
  }

  /** True when the directory held no mailbox: it takes packed rows (`addPacked`), the fast load's input. */
  get takesPackedRows(): boolean {
    return this.empty;
  }

  /**
   * Loads packed rows (src/store/packed-rows.ts) into the empty directory, and
   * `reservations` among them; what the fast path cannot write goes to the create rule.
   */
  addPacked(packed: string, reservations: readonly InterleavedMailbox[] = []): void {
    if (!this.empty) throw new Error('DataDirSink.addPacked: the directory held mailboxes when opened');
    const load = this.beginFastLoad();
    // `decide` counts what it decides as putPacked runs: add the fast path's count after.
    const written = load.putPacked(packed, (mailbox) => this.decide(load, mailbox, (changes) => load.apply(changes)), reservations);
    this.counts.written += written;
  }

  private beginFastLoad(): EmptyDirectoryLoad {
    this.fastLoad ??= EmptyDirectoryLoad.begin(this.store, this.revision, this.synchronous);
    return this.fastLoad;
  }

  /**
   * Decides one mailbox by the directory's create rule against `reads`, hands
   * the changes to `write`, and counts the outcome as the API path counts
   * CreateMailbox's answers (a Conflict is counted; any other error stops the import).
   */
  private decide(reads: CreateReads, mailbox: MailboxRecord, write: (changes: readonly Change[]) => void): void {
    let decision: ReturnType<typeof decideCreateWith>;
    try {
      decision = decideCreateWith(reads, createInputOf(mailbox), Date.now(), limits.reservationTtlMs, placementGiven);
    } catch (error) {
      if (!(error instanceof DirectoryError) || error.kind !== 'Conflict') throw error;
      recordConflict(this.counts, `${mailbox.name}: ${error.message}`);
      return;
    }
    write(decision.changes);
    if (decision.result.outcome === 'ALREADY_PRESENT') this.counts.unchanged += 1;
    else this.counts.written += 1;
  }

  private queueChanges(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    this.view.record(changes);
    this.pendingChanges.push(...changes);
    if (this.pendingChanges.length >= bulkBatchMailboxes) this.flush();
  }

  private flush(): void {
    if (this.pendingChanges.length > 0) {
      this.store.bulkApply(this.pendingChanges, this.revision);
      this.pendingChanges = [];
      this.view.clear();
    }
    if (this.pending.length === 0) return;
    this.store.bulkPutMailboxes(this.pending, this.revision);
    this.counts.written += this.pending.length;
    this.pending = [];
  }

  /** Writes what is pending, makes the load durable (the fast load's indexes, fsync, WAL) and closes the store. */
  async finish(): Promise<void> {
    if (!this.store.isOpen()) return;
    await this.fastLoad?.finish();
    this.flush();
    if (this.store.revision() < this.revision) this.store.bulkApply([], this.revision);
    this.store.checkpointWholeLog();
    this.store.close();
    this.lock.release();
  }
}

/** Creates mailboxes through a running node, `concurrency` calls at a time. */
export class ApiSink implements MailboxSink, ServerRegistry {
  readonly counts = newCounts();
  private readonly inFlight = new Set<Promise<void>>();
  /** The call in flight on each name and uniqueid: a later line on either waits for it, so lines are decided in file order. */
  private readonly inFlightByKey = new Map<string, Promise<void>>();
  private failure: unknown = undefined;

  constructor(
    private readonly client: MbdirClient,
    private readonly concurrency = apiConcurrencyDefault,
  ) {}

  async add(mailbox: MailboxRecord): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const keys = [`n:${mailbox.name}`, `u:${mailbox.uniqueid}`];
    const earlier = keys.flatMap((key) => this.inFlightByKey.get(key) ?? []);
    // `create` never rejects: it counts, or keeps the failure for `finish`.
    const call = (earlier.length === 0 ? this.create(mailbox) : Promise.all(earlier).then(() => this.create(mailbox))).finally(() => {
      this.inFlight.delete(call);
      for (const key of keys) if (this.inFlightByKey.get(key) === call) this.inFlightByKey.delete(key);
    });
    this.inFlight.add(call);
    for (const key of keys) this.inFlightByKey.set(key, call);
    if (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
  }

  async registeredServers(): Promise<ReadonlySet<string>> {
    const answer = await this.client.listServers({});
    return new Set(answer.servers.map((load) => load.server?.name ?? ''));
  }

  async registerServers(servers: readonly ServerRecord[]): Promise<void> {
    for (const server of servers) {
      await this.client.putServer({ name: server.name, state: server.state, weight: server.weight });
    }
  }

  private async create(mailbox: MailboxRecord): Promise<void> {
    try {
      const answer = await this.client.createMailbox({ mailbox: mailboxToWire(mailbox), reserve_only: mailbox.state === 'RESERVED' });
      if (answer.outcome === 'CREATED' || answer.outcome === 'REPLICA_ADDED') this.counts.written += 1;
      else this.counts.unchanged += 1;
    } catch (error) {
      if (error instanceof ClientError && error.codeName === 'ALREADY_EXISTS') {
        recordConflict(this.counts, `${mailbox.name}: ${error.details}`);
        return;
      }
      this.failure ??= error;
    }
  }

  async finish(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
  }
}
