/**
 * Where `mbdir import` and the bench generator put mailboxes: straight into a
 * stopped node's data directory (an exclusive SQLite lock, large transactions
 * without the change log; an empty directory takes the unjournaled fast path of
 * src/store/bulk-load.ts), or through a running node's API (CreateMailbox with
 * a bounded number of calls in flight). Both count what they did; neither ever
 * replaces a mailbox held under another uniqueid (that is counted as a conflict).
 */
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { MailboxRecord } from '../../src/model/records.js';
import type { Change, ServerRecord } from '../../src/model/records.js';
import { validateServer } from '../../src/directory/placement-rules.js';
import { mailboxToWire } from '../../src/api/wire.js';
import { EmptyDirectoryLoad, isEmptyForBulkLoad } from '../../src/store/bulk-load.js';
import { Store, type SynchronousMode } from '../../src/store/store.js';
import type { ServerRegistry } from './import-servers.js';
import { DataDirLock } from '../../src/store/data-dir-lock.js';
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

/** Writes into a data directory nobody else has open. */
export class DataDirSink implements MailboxSink, ServerRegistry {
  readonly counts = newCounts();
  readonly store: Store;
  private pending: MailboxRecord[] = [];
  private readonly pendingNames = new Set<string>();
  private readonly pendingIds = new Set<string>();
  private readonly revision: number;
  /** The directory held no mailbox when opened: the first mailbox starts the fast load. */
  private readonly empty: boolean;
  private readonly lock: DataDirLock;
  private fastLoad: EmptyDirectoryLoad | null = null;

  /**
   * `checked: false` skips the conflict lookups of a directory that holds
   * mailboxes (the bench generator writes into an empty one, where a conflict
   * is caught by the insert itself).
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
      this.fastLoad ??= EmptyDirectoryLoad.begin(this.store, this.revision, this.synchronous);
      if (this.fastLoad.put(mailbox)) this.counts.written += 1;
      else recordConflict(this.counts, this.fastLoad.describeRefused(mailbox.name, mailbox.uniqueid));
      return;
    }
    if (this.checked && !this.admit(mailbox)) return;
    this.pending.push(mailbox);
    if (this.pending.length >= bulkBatchMailboxes) this.flush();
  }

  /** True when the directory held no mailbox: it takes packed rows (`addPacked`), the fast load's input. */
  get takesPackedRows(): boolean {
    return this.empty;
  }

  /** Loads packed rows (src/store/packed-rows.ts) into the empty directory, counting what was written and refused. */
  addPacked(packed: string): void {
    if (!this.empty) throw new Error('DataDirSink.addPacked: the directory held mailboxes when opened');
    this.fastLoad ??= EmptyDirectoryLoad.begin(this.store, this.revision, this.synchronous);
    this.counts.written += this.fastLoad.putPacked(packed, (description) => recordConflict(this.counts, description));
  }

  private admit(mailbox: MailboxRecord): boolean {
    if (this.pendingNames.has(mailbox.name) || this.pendingIds.has(mailbox.uniqueid)) {
      recordConflict(this.counts, `${mailbox.name} (${mailbox.uniqueid}): appears twice in the input`);
      return false;
    }
    const byName = this.store.mailboxByName(mailbox.name);
    if (byName !== undefined && byName.uniqueid !== mailbox.uniqueid) {
      recordConflict(this.counts, `${mailbox.name}: held by uniqueid ${byName.uniqueid}`);
      return false;
    }
    const byId = byName ?? this.store.mailboxByUniqueid(mailbox.uniqueid);
    if (byId !== undefined && byId.name !== mailbox.name) {
      recordConflict(this.counts, `${mailbox.name}: uniqueid ${mailbox.uniqueid} is registered as ${byId.name}`);
      return false;
    }
    this.pendingNames.add(mailbox.name);
    this.pendingIds.add(mailbox.uniqueid);
    return true;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.store.bulkPutMailboxes(this.pending, this.revision);
    this.counts.written += this.pending.length;
    this.pending = [];
    this.pendingNames.clear();
    this.pendingIds.clear();
  }

  /** Writes what is pending, makes the load durable (the fast load's indexes, fsync, WAL) and closes the store. */
  async finish(): Promise<void> {
    if (!this.store.db.open) return;
    await this.fastLoad?.finish();
    this.flush();
    if (this.store.revision() < this.revision) this.store.bulkApply([], this.revision);
    this.store.db.pragma('wal_checkpoint(TRUNCATE)');
    this.store.close();
    this.lock.release();
  }
}

/** Creates mailboxes through a running node, `concurrency` calls at a time. */
export class ApiSink implements MailboxSink, ServerRegistry {
  readonly counts = newCounts();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = undefined;

  constructor(
    private readonly client: MbdirClient,
    private readonly concurrency = apiConcurrencyDefault,
  ) {}

  async add(mailbox: MailboxRecord): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const call = this.create(mailbox).finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
    if (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
  }

  async registeredServers(): Promise<ReadonlySet<string>> {
    const answer = await this.client.place('ListServers', {});
    const loads = (answer['servers'] ?? []) as Array<{ server?: { name?: string } }>;
    return new Set(loads.map((load) => String(load.server?.name ?? '')));
  }

  async registerServers(servers: readonly ServerRecord[]): Promise<void> {
    for (const server of servers) {
      await this.client.place('PutServer', { name: server.name, state: server.state, weight: server.weight });
    }
  }

  private async create(mailbox: MailboxRecord): Promise<void> {
    try {
      const answer = await this.client.mailbox('CreateMailbox', { mailbox: mailboxToWire(mailbox) });
      if (answer['outcome'] === 'CREATED' || answer['outcome'] === 'REPLICA_ADDED') this.counts.written += 1;
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
