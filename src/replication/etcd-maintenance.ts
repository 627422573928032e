/**
 * etcd maintenance, run by one node at a time: remove swept tombstones,
 * compact history, defragment member by member, and record the run under
 * `maintenance/last`. Every node holds one etcd lease, kept alive three times
 * a TTL; under it, it publishes its applied revision (`maintenance/node/<lease>`)
 * and competes for `maintenance/lock` (created only when absent). The holder
 * keeps the lock while it lives; when it dies its lease expires, the lock with
 * it, and the next node to try takes over. Bounded: one cycle at a time, at
 * most etcdSweepKeysMax tombstones a cycle. Never touches the local store.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from '../logging.js';
import { limits } from '../model/limits.js';
import type { Change } from '../model/records.js';
import type { EtcdClient, KeyValue, MemberDatabase, TxnRequest } from './etcd-client.js';
import type { Keyspace } from './etcd-keyspace.js';
import { isSweepableTombstone, planSweepTxns, tombstoneCandidates, type Tombstone } from './etcd-tombstones.js';

export interface MaintenanceOptions {
  nodeId: string;
  intervalSeconds: number;
  leaseSeconds: number;
  /** History kept when compacting; 0 leaves compaction (and so defragmentation) to etcd. */
  compactRetentionRevisions: number;
  defragment: boolean;
}

/** What the node needs from its local copy: its applied revision and its change log. */
export interface MaintenanceView {
  appliedRevision(): number;
  /** The oldest revision the change log can be read after. */
  oldestRetainedRevision(): number;
  changesSince(revision: number, limit: number): Array<{ revision: number; change: Change }>;
}

/** One maintenance run, as `maintenance/last` holds it and `mbdir status` shows it. */
export interface MaintenanceRun {
  node: string;
  atMs: number;
  durationMs: number;
  /** The revision history was compacted at (0: not compacted). */
  compactedRevision: number;
  sweptTombstones: number;
  /** Tombstones written up to this revision were looked for (the next sweep starts after it). */
  sweptUpToRevision: number;
  defragmentedMembers: number;
  /** The largest member database file before and after, and the part of it in use after. */
  dbSizeBytesBefore: number;
  dbSizeBytesAfter: number;
  dbSizeInUseBytesAfter: number;
}

/** Changes read per page when looking for tombstones in the change log. */
const changePageEvents = 10_000;
/** Keys read per page when scanning `uid/` and `hier/` for tombstones. */
const scanPageKeys = 1_000;

export class EtcdMaintenance {
  private lease: number | undefined;
  private cycleTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly keyspace: Keyspace,
    private readonly view: MaintenanceView,
    private readonly options: MaintenanceOptions,
    private readonly logger: Logger,
  ) {}

  /** Joins (lease, published revision, a try at the lock) now, then runs a cycle every interval. */
  async start(): Promise<void> {
    await this.join().catch((error: unknown) => this.logger.warn({ err: error }, 'etcd maintenance: could not join yet'));
    this.cycleTimer = setInterval(() => void this.runCycle(), this.options.intervalSeconds * 1000);
    this.cycleTimer.unref();
    this.keepAliveTimer = setInterval(() => void this.keepAlive(), (this.options.leaseSeconds * 1000) / 3);
    this.keepAliveTimer.unref();
  }

  /** One cycle: join, and when this node holds the lock, maintain. Never throws; at most one at a time. */
  runCycle(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.cycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async cycle(): Promise<void> {
    try {
      if (!(await this.join())) return;
      const run = await this.maintain();
      this.logger.info(run, 'etcd maintenance done');
    } catch (error) {
      this.logger.warn({ err: error }, 'etcd maintenance failed; retrying next cycle');
    }
  }

  /** Ensures the lease, publishes the applied revision, tries the lock; true when this node holds it. */
  private async join(): Promise<boolean> {
    // An id below 2^53 that numbers hold exactly; a clash with another node's fails this cycle only.
    this.lease ??= await this.client.leaseGrant(this.options.leaseSeconds, randomInt(1, 2 ** 47));
    const lease = this.lease;
    const published = { requestId: 'maintenance', node: this.options.nodeId, applied: this.view.appliedRevision(), atMs: Date.now() };
    const lockKey = Buffer.from(this.keyspace.maintenanceKey('lock'));
    const holder = { requestId: 'maintenance', node: this.options.nodeId, lease, sinceMs: Date.now() };
    let response;
    try {
      response = await this.client.txn({
        compare: [{ result: 'EQUAL', target: 'CREATE', key: lockKey, create_revision: 0 }],
        success: [this.put(`node/${lease.toString(16)}`, published, lease), { request_put: { key: lockKey, value: json(holder), lease } }],
        failure: [this.put(`node/${lease.toString(16)}`, published, lease), { request_range: { key: lockKey } }],
      });
    } catch (error) {
      // The lease expired (this node was cut off longer than its TTL): grant a new one next time.
      if (/lease not found/i.test((error as Error).message)) this.lease = undefined;
      throw error;
    }
    if (response.succeeded) return true;
    return response.responses[1]?.response_range?.kvs[0]?.lease === lease;
  }

  private put(name: Parameters<Keyspace['maintenanceKey']>[0], value: unknown, lease?: number): TxnRequest['success'][number] {
    return { request_put: { key: Buffer.from(this.keyspace.maintenanceKey(name)), value: json(value), ...(lease === undefined ? {} : { lease }) } };
  }

  private async keepAlive(): Promise<void> {
    const lease = this.lease;
    if (lease === undefined || this.closed) return;
    try {
      if ((await this.client.leaseKeepAliveOnce(lease)) <= 0 && this.lease === lease) this.lease = undefined;
    } catch (error) {
      this.logger.warn({ err: error }, 'etcd maintenance: lease keep-alive failed');
    }
  }

  /** Sweep, compact, defragment, record. */
  private async maintain(): Promise<MaintenanceRun> {
    const atMs = Date.now();
    const before = await this.databases();
    const { sweptTombstones, sweptUpToRevision } = await this.sweep();
    const compactedRevision = await this.compact();
    const defragmentedMembers = await this.defragmentMembers();
    const after = await this.databases();
    const run: MaintenanceRun = {
      node: this.options.nodeId,
      atMs,
      durationMs: Date.now() - atMs,
      compactedRevision,
      sweptTombstones,
      sweptUpToRevision,
      defragmentedMembers,
      dbSizeBytesBefore: Math.max(0, ...before.map((member) => member.dbSizeBytes)),
      dbSizeBytesAfter: Math.max(0, ...after.map((member) => member.dbSizeBytes)),
      dbSizeInUseBytesAfter: Math.max(0, ...after.map((member) => member.dbSizeInUseBytes)),
    };
    await this.client.txn({ compare: [], success: [this.put('last', { requestId: 'maintenance', ...run })], failure: [] });
    return run;
  }

  /** The members that answer, with their database sizes. */
  private async databases(): Promise<MemberDatabase[]> {
    const answers = await Promise.all(this.client.endpoints.map((endpoint) => this.client.memberDatabase(endpoint).catch(() => undefined)));
    return answers.filter((answer): answer is MemberDatabase => answer !== undefined);
  }

  /**
   * Removes tombstones every live node has applied: first puts `maintenance/swept`, which
   * every write guards, so a write decided on an older view fails and catches up.
   */
  private async sweep(): Promise<{ sweptTombstones: number; sweptUpToRevision: number }> {
    const floor = await this.floor();
    const last = await this.client.range({ key: Buffer.from(this.keyspace.maintenanceKey('last')) });
    const { tombstones, upTo } = await this.tombstones(readNumber(last.kvs[0], 'sweptUpToRevision'), floor);
    if (tombstones.length === 0) return { sweptTombstones: 0, sweptUpToRevision: upTo };
    const marker = { requestId: 'maintenance', node: this.options.nodeId, floor: upTo, atMs: Date.now() };
    const marked = await this.client.txn({ compare: [], success: [this.put('swept', marker)], failure: [] });
    if (tombstones.some((tombstone) => tombstone.modRevision >= marked.header.revision)) {
      throw new Error('etcd maintenance: a tombstone is newer than the swept marker');
    }
    return { sweptTombstones: await this.removeTombstones(tombstones), sweptUpToRevision: upTo };
  }

  /**
   * Deletes tombstones in batches; a batch refused because one of its keys was written again
   * is retried key by key, so the others go now (the next sweep starts after them).
   */
  private async removeTombstones(tombstones: readonly Tombstone[]): Promise<number> {
    let removed = 0;
    const batches: Tombstone[][] = [];
    for (let start = 0; start < tombstones.length; start += limits.etcdSweepTxnKeysMax) {
      batches.push(tombstones.slice(start, start + limits.etcdSweepTxnKeysMax));
    }
    for (let start = 0; start < batches.length; start += limits.etcdSweepTxnsConcurrentMax) {
      const group = batches.slice(start, start + limits.etcdSweepTxnsConcurrentMax);
      const results = await Promise.all(group.map((batch) => this.client.txn(planSweepTxns(batch, batch.length)[0] as TxnRequest)));
      for (const [index, result] of results.entries()) {
        const batch = group[index] ?? [];
        if (result.succeeded) {
          removed += batch.length;
          continue;
        }
        for (const txn of planSweepTxns(batch, 1)) if ((await this.client.txn(txn)).succeeded) removed += 1;
      }
    }
    return removed;
  }

  /** The oldest applied revision any live node published (their keys die with their leases). */
  private async floor(): Promise<number> {
    const from = Buffer.from(this.keyspace.maintenanceKey('node/'));
    const nodes = await this.client.range({ key: from, range_end: prefixEnd(from) });
    let floor = this.view.appliedRevision();
    for (const kv of nodes.kvs) floor = Math.min(floor, readNumber(kv, 'applied'));
    return floor;
  }

  /**
   * Tombstones written after `after` and at most at `floor`: the candidates the local change
   * log names, or, when the log no longer reaches back that far, a scan of `uid/` and `hier/`.
   */
  private async tombstones(after: number, floor: number): Promise<{ tombstones: Tombstone[]; upTo: number }> {
    if (this.view.oldestRetainedRevision() > after) return { tombstones: await this.scanTombstones(floor), upTo: floor };
    const unique = new Set<string>();
    let upTo = floor;
    for (let from = after; from < floor; ) {
      const page = this.view.changesSince(from, changePageEvents).filter((event) => event.revision <= floor);
      for (const key of tombstoneCandidates(this.keyspace, page.map((event) => event.change))) unique.add(key);
      if (page.length < changePageEvents) break;
      // The page may end inside one revision's changes: read that revision again.
      const lastRevision = page.at(-1)?.revision ?? floor;
      from = lastRevision > (page[0]?.revision ?? floor) ? lastRevision - 1 : lastRevision;
      // Bounded: the rest waits for the next cycle, which starts after what was looked at.
      if (unique.size >= limits.etcdSweepKeysMax) {
        upTo = from;
        break;
      }
    }
    const keys = [...unique];
    const found: Tombstone[] = [];
    for (let start = 0; start < keys.length; start += limits.etcdTxnOpsMax) {
      const batch = keys.slice(start, start + limits.etcdTxnOpsMax).map((key) => ({ request_range: { key: Buffer.from(key) } }));
      const read = await this.client.readTxn({ compare: [], success: batch, failure: [] });
      for (const op of read.responses) collectTombstone(this.keyspace, op.response_range?.kvs[0], floor, found);
    }
    return { tombstones: found, upTo };
  }

  /** Reads every `uid/` and `hier/` key (paged, bounded) and keeps the tombstones at most at `floor`. */
  private async scanTombstones(floor: number): Promise<Tombstone[]> {
    const found: Tombstone[] = [];
    let read = 0;
    for (const kind of ['uid', 'hier'] as const) {
      const start = Buffer.from(this.keyspace.key(kind, ''));
      const end = prefixEnd(start);
      for (let from = start; read < limits.etcdSweepKeysMax; ) {
        const page = await this.client.range({ key: from, range_end: end, limit: scanPageKeys });
        read += page.kvs.length;
        for (const kv of page.kvs) collectTombstone(this.keyspace, kv, floor, found);
        const last = page.kvs.at(-1);
        if (!page.more || last === undefined) break;
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
    }
    return found;
  }

  /** Compacts history older than the retention, waiting until members removed it; returns the revision. */
  private async compact(): Promise<number> {
    if (this.options.compactRetentionRevisions === 0) return 0;
    const current = await this.client.range({ key: this.keyspace.root, range_end: this.keyspace.end, limit: 1, keys_only: true });
    const target = current.header.revision - this.options.compactRetentionRevisions;
    if (target <= 0) return 0;
    try {
      await this.client.compact(target, true);
    } catch (error) {
      // OUT_OF_RANGE: history is already compacted at or past this revision (etcd's own auto-compaction).
      if ((error as { code?: number }).code !== 11) throw error;
    }
    return target;
  }

  /** Defragments, one member after the other, each member whose file is mostly free; returns how many. */
  private async defragmentMembers(): Promise<number> {
    if (!this.options.defragment || this.options.compactRetentionRevisions === 0) return 0;
    let defragmented = 0;
    for (const member of await this.databases()) {
      const free = member.dbSizeBytes - member.dbSizeInUseBytes;
      if (free < member.dbSizeBytes * limits.etcdDefragmentFreeRatioMin) continue;
      // Still the holder? A node cut off longer than its lease must not defragment beside the next one.
      if (!(await this.join())) return defragmented;
      await this.client.defragment(member.endpoint);
      defragmented += 1;
    }
    return defragmented;
  }

  /** The last run recorded in etcd, by whichever node ran it. */
  async lastRun(): Promise<MaintenanceRun | undefined> {
    const last = await this.client.range({ key: Buffer.from(this.keyspace.maintenanceKey('last')) });
    const kv = last.kvs[0];
    if (kv === undefined) return undefined;
    try {
      return JSON.parse(kv.value.toString()) as MaintenanceRun;
    } catch {
      return undefined;
    }
  }

  /** Stops the timers and revokes the lease, so another node may take the lock at once. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.cycleTimer !== undefined) clearInterval(this.cycleTimer);
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    await this.running;
    if (this.lease !== undefined) await this.client.leaseRevoke(this.lease).catch(() => undefined);
    this.lease = undefined;
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The first key after every key starting with `prefix`. */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return end;
}

/** A whole-number field of a JSON value, or 0. */
function readNumber(kv: KeyValue | undefined, field: string): number {
  if (kv === undefined) return 0;
  try {
    const value = (JSON.parse(kv.value.toString()) as Record<string, unknown>)[field];
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : 0;
  } catch {
    return 0;
  }
}

function collectTombstone(keyspace: Keyspace, kv: KeyValue | undefined, floor: number, found: Tombstone[]): void {
  if (kv === undefined || kv.mod_revision > floor) return;
  const kind = keyspace.parse(kv.key)?.kind ?? '';
  if (isSweepableTombstone(kind, kv.value)) found.push({ key: kv.key, modRevision: kv.mod_revision });
}
