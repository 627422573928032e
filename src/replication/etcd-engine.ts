/**
 * The etcd engine: etcd is the truth and orders every write; the local SQLite
 * store is a materialized view that only the watch (this module's follower)
 * writes, each etcd revision in one SQLite transaction with the rows.
 *
 * commit: run the decision on the local view at revision A, send one txn whose
 * guard proves A was current for every key involved (etcd-keyspace.ts), then
 * resolve once the watch applied the txn's revision. A refusal, or a decision
 * that changes nothing, is answered only after etcd confirms the view was
 * current (a read of the `log` key), so it is never stale. A failed guard waits for
 * the view to catch up and decides again (bounded); a txn whose reply was lost
 * is recognised by its request id. A txn never sent (its member refused the
 * connection, or has no leader) goes to the next member in the same call; one
 * that may have been sent is never blindly sent again. Never writes SQLite
 * outside the follower. etcd maintenance (tombstones, compaction,
 * defragmentation) runs from one node at a time: etcd-maintenance.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging.js';
import { deadlineExceeded, unavailable } from '../model/errors.js';
import { limits } from '../model/limits.js';
import type { Change, ChangeEvent } from '../model/records.js';
import type { Store } from '../store/store.js';
import { AppliedNotifier } from './applied-waiters.js';
import { EtcdClient, failuresOf, type EndpointFailure, type EtcdTls, type TxnResponse } from './etcd-client.js';
import { EtcdFollower } from './etcd-follower.js';
import { Keyspace, planTxn, type PlannedTxn } from './etcd-keyspace.js';
import { EtcdMaintenance } from './etcd-maintenance.js';
import { EtcdWriteBatcher } from './etcd-write-batcher.js';
import { HierarchyCache } from './hierarchy-cache.js';
import { silentTelemetry, type CommitOptions, type Committed, type Decision, type DecideFunction, type Engine, type EngineStatus, type EngineTelemetry } from './engine.js';

export interface EtcdEngineOptions {
  endpoints: string[];
  prefix: string;
  compactRetentionRevisions: number;
  /** etcd maintenance (etcd-maintenance.ts): this node's name, the schedule, the lease, and whether to defragment. */
  maintenance?: { nodeId: string; intervalSeconds: number; leaseSeconds: number; defragment: boolean };
  /** For https:// endpoints: the CA and the client certificate (EtcdTls). */
  tls?: EtcdTls;
}

export class EtcdEngine implements Engine {
  readonly kind = 'etcd' as const;
  telemetry: EngineTelemetry = silentTelemetry;
  private readonly notifier = new AppliedNotifier();
  private readonly client: EtcdClient;
  private readonly keyspace: Keyspace;
  private readonly follower: EtcdFollower;
  private readonly maintenance: EtcdMaintenance;
  /** Encoded records of recently written hierarchies, kept exact by every apply (hierarchy-cache.ts). */
  private readonly hierarchies = new HierarchyCache();
  /** Sends the txns planned in one turn of the event loop as one etcd request. */
  private readonly batcher: EtcdWriteBatcher;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly options: EtcdEngineOptions,
    logger: Logger,
  ) {
    this.client = new EtcdClient(options.endpoints, options.tls);
    this.keyspace = new Keyspace(options.prefix);
    this.batcher = new EtcdWriteBatcher(this.client, this.keyspace);
    this.follower = new EtcdFollower(store, this.client, this.keyspace, this.notifier, logger);
    // Registered before any other listener: the cache follows every applied revision.
    this.notifier.onApplied((events, revision) => this.hierarchies.applied(events, revision));
    const maintenance = options.maintenance ?? {
      nodeId: '',
      intervalSeconds: limits.etcdMaintenanceIntervalSecondsDefault,
      leaseSeconds: limits.etcdMaintenanceLeaseSecondsDefault,
      defragment: true,
    };
    // compactRetentionRevisions 0: etcd compacts its own history (--auto-compaction-mode), as it
    // must when its auth is on and this node's user is not root: etcd lets only root compact.
    this.maintenance = new EtcdMaintenance(
      this.client,
      this.keyspace,
      {
        appliedRevision: () => store.revision(),
        oldestRetainedRevision: () => store.oldestRetainedRevision(),
        changesSince: (revision, limit) => store.changesSince(revision, limit),
      },
      { ...maintenance, compactRetentionRevisions: options.compactRetentionRevisions },
      logger,
    );
  }

  async start(): Promise<void> {
    await this.follower.start();
    await this.maintenance.start();
  }

  async commit<T>(decide: DecideFunction<T>, options: CommitOptions = {}): Promise<Committed<T>> {
    const requestId = options.requestId !== undefined && options.requestId !== '' ? options.requestId : randomUUID();
    // Endpoints that did not take this write, each at most once: the next attempt skips them.
    const failed = new Map<string, EndpointFailure>();
    let inDoubt: { keys: Buffer[]; result: T; changes: Change[] } | undefined;
    for (let attempt = 0; attempt < limits.etcdCommitAttemptsMax; attempt += 1) {
      if (this.closed) throw unavailable('this node is stopping');
      if (inDoubt !== undefined) return this.settleInDoubt(inDoubt, requestId, failed);
      const viewRevision = this.store.revision();
      let decision: Decision<T>;
      try {
        decision = decide(this.store);
      } catch (error) {
        // A refusal read the local copy: answer it only once etcd confirms the copy was current.
        if (await this.isViewCurrent(viewRevision, failed)) throw error;
        continue;
      }
      if (decision.changes.length === 0) {
        if (await this.isViewCurrent(viewRevision, failed)) return { result: decision.result, revision: viewRevision };
        continue;
      }
      const txn = planTxn(this.keyspace, this.store, decision.changes, requestId, viewRevision, this.hierarchies);
      let response: TxnResponse;
      try {
        response = await this.batcher.txn(txn, new Set(failed.keys()));
      } catch (error) {
        const failure = failuresOf(error)[0];
        if (failure === undefined) throw unavailable(`etcd refused the write: ${(error as Error).message}`);
        failed.set(failure.endpoint, failure);
        this.client.avoid(failure.endpoint);
        this.telemetry.etcdTxnRetried();
        if (!failure.neverSent) inDoubt = { keys: writtenKeys(txn), result: decision.result, changes: decision.changes };
        else if (failed.size >= this.options.endpoints.length) break;
        continue;
      }
      const revision = this.committedRevision(response, requestId);
      if (revision !== undefined) {
        stampRevision(decision.changes, revision);
        await this.waitApplied(revision);
        return { result: decision.result, revision };
      }
      // Another node wrote a key this decision read: catch up with those keys, then decide again.
      this.telemetry.etcdTxnConflicted();
      await this.waitApplied(newestGuardedRevision(response));
    }
    if (failed.size > 0) throw etcdFailed([...failed.values()], this.options.endpoints.length);
    throw unavailable(
      `the write lost ${limits.etcdCommitAttemptsMax} races in a row against concurrent writes to the same names; retry`,
    );
  }

  /**
   * The last attempt failed without an answer: it may have committed. Deciding again would
   * then see our own write (a delete would answer NotFound), so look for it by request id.
   */
  private async settleInDoubt<T>(
    inDoubt: { keys: Buffer[]; result: T; changes: Change[] },
    requestId: string,
    failed: Map<string, EndpointFailure>,
  ): Promise<Committed<T>> {
    let earlier: number | undefined;
    try {
      earlier = await this.findCommitted(inDoubt.keys, requestId);
    } catch (error) {
      const failures = failuresOf(error);
      if (failures.length === 0) throw error;
      for (const failure of failures) failed.set(failure.endpoint, failure);
      throw etcdFailed([...failed.values()], this.options.endpoints.length, 'whether this write committed is unknown; retry it');
    }
    if (earlier !== undefined) {
      stampRevision(inDoubt.changes, earlier);
      await this.waitApplied(earlier);
      return { result: inDoubt.result, revision: earlier };
    }
    // No proof either way (its keys may have been overwritten since): deciding again could
    // apply the write twice or refuse a write that happened. Say so; the caller retries.
    const reasons = [...failed.values()].map((failure) => `${failure.endpoint} ${failure.text}`).join('; ');
    throw unavailable(
      `etcd did not answer this write (${reasons}) and whether it committed cannot be told; retry it ` +
        '(a create with the same request id is recognised)',
    );
  }

  /** The revision our txn committed at: this reply's, or an earlier attempt's found by request id. */
  private committedRevision(response: TxnResponse, requestId: string): number | undefined {
    if (response.succeeded) return response.header.revision;
    const witness = response.responses[0]?.response_range?.kvs[0];
    if (witness === undefined) return undefined;
    try {
      const value = JSON.parse(witness.value.toString()) as { requestId?: string };
      return value.requestId === requestId ? witness.mod_revision : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * True when no mbdir write newer than `viewRevision` exists in etcd (a linearizable read of
   * the `log` key every write puts); otherwise waits until the copy has it and returns false.
   */
  private async isViewCurrent(viewRevision: number, failed: Map<string, EndpointFailure>): Promise<boolean> {
    let newest: number;
    try {
      const log = await this.client.range({ key: Buffer.from(this.keyspace.logKey()) });
      newest = log.kvs[0]?.mod_revision ?? 0;
    } catch (error) {
      const failures = failuresOf(error);
      if (failures.length === 0) throw error;
      for (const failure of failures) failed.set(failure.endpoint, failure);
      throw etcdFailed([...failed.values()], this.options.endpoints.length);
    }
    if (newest <= viewRevision) return true;
    await this.waitApplied(newest);
    return false;
  }

  /** The revision at which a txn with `requestId` wrote one of `keys`, if one did and it still shows. */
  private async findCommitted(keys: readonly Buffer[], requestId: string): Promise<number | undefined> {
    const response = await this.client.readTxn({
      compare: [],
      success: keys.map((key) => ({ request_range: { key } })),
      failure: [],
    });
    for (const op of response.responses) {
      const kv = op.response_range?.kvs[0];
      if (kv === undefined) continue;
      try {
        if ((JSON.parse(kv.value.toString()) as { requestId?: string }).requestId === requestId) return kv.mod_revision;
      } catch {
        continue;
      }
    }
    return undefined;
  }

  private waitApplied(revision: number): Promise<void> {
    return this.notifier.wait(revision, this.store.revision(), limits.minRevisionWaitMsMax).catch(() => {
      throw deadlineExceeded(
        `etcd committed revision ${revision} but this node has not applied it within ` +
          `${limits.minRevisionWaitMsMax} ms (applied ${this.store.revision()}); its watch of etcd is behind`,
      );
    });
  }

  appliedRevision(): number {
    return this.store.revision();
  }

  waitForRevision(revision: number, timeoutMs: number): Promise<void> {
    return this.notifier.wait(revision, this.store.revision(), timeoutMs);
  }

  onApplied(listener: (events: readonly ChangeEvent[], revision: number) => void): () => void {
    return this.notifier.onApplied(listener);
  }

  async status(): Promise<EngineStatus> {
    const endpoints = await this.client.statusAll();
    const clusterRevision = Math.max(this.follower.seenRevision(), ...endpoints.map((endpoint) => endpoint.revision));
    // Read only when a member answers: a status while etcd is gone must not wait on more timeouts.
    const reachable = endpoints.some((endpoint) => endpoint.healthy);
    const lastMaintenance = reachable ? await this.maintenance.lastRun().catch(() => undefined) : undefined;
    return {
      engine: 'etcd',
      appliedRevision: this.store.revision(),
      endpoints,
      clusterRevision,
      ...(lastMaintenance === undefined ? {} : { lastMaintenance }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.maintenance.close();
    this.follower.close();
    this.notifier.close();
    this.hierarchies.clear();
    this.client.close();
    await this.store.stopBackgroundCheckpoints();
  }
}

/** The newest mod_revision among the guarded keys a failed txn read back (never etcd's head, which may be another prefix's). */
function newestGuardedRevision(response: TxnResponse): number {
  let newest = 0;
  for (const op of response.responses.slice(1)) {
    for (const kv of op.response_range?.kvs ?? []) newest = Math.max(newest, kv.mod_revision);
  }
  return newest;
}

/** The keys a planned txn puts. */
function writtenKeys(txn: PlannedTxn): Buffer[] {
  return txn.success.flatMap((op) => ('request_put' in op ? [op.request_put.key] : []));
}

function stampRevision(changes: readonly Change[], revision: number): void {
  for (const change of changes) {
    if (change.kind === 'mailbox.put' || change.kind === 'mailbox.delete') change.mailbox.revision = revision;
  }
}

/**
 * What is true when etcd did not take a write: each endpoint and what it did, then whether
 * quorum is known lost (a majority refuses connections, or a member that answers has no
 * leader) or not known lost (members timed out or dropped the connection: slow, not gone).
 */
function etcdFailed(failures: readonly EndpointFailure[], endpointCount: number, outcome = 'writes are refused'): Error {
  const refused = failures.filter((failure) => failure.kind === 'refused').length;
  const leaderless = failures.filter((failure) => failure.kind === 'no-leader').length;
  let verdict: string;
  if (refused > endpointCount / 2) verdict = `etcd quorum is lost: ${refused} of ${endpointCount} members refuse connections`;
  else if (leaderless > 0) verdict = 'etcd quorum is lost or a leader election is under way: a member answers that it has no leader';
  else verdict = `etcd quorum is not known to be lost (${refused} of ${endpointCount} members refuse connections)`;
  const reasons = failures.map((failure) => `${failure.endpoint} ${failure.text}`).join('; ');
  return unavailable(`etcd did not take this request (${reasons}); ${verdict}; ${outcome} (reads still answer from this node)`);
}
