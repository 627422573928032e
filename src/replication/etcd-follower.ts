/**
 * The follower of the etcd engine: the only writer of the local SQLite view.
 * It watches the prefix's `log` key (every write puts it, with all its changes)
 * from the store's own last applied revision + 1 (never trusting a client
 * library's resume), and applies each revision's `log` changes with that revision: the responses that arrive in one turn of the event
 * loop in one SQLite transaction, without fsync (the view is etcd's to rebuild: a
 * crash loses rows and applied revision together, and the watch replays them). It
 * re-opens the watch on the next endpoint after any break. When etcd answers that
 * the revision was compacted, it relists the prefix at one revision, streaming
 * (etcd-relist.ts), and watches again from there. Bounded: one stream, one relist at a
 * time, at most etcdApplyBatchEventsMax events waiting to be applied.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../logging.js';
import { limits } from '../model/limits.js';
import type { Change, ChangeEvent } from '../model/records.js';
import type { Store } from '../store/store.js';
import type { AppliedNotifier } from './applied-waiters.js';
import type { EtcdClient, WatchResponse } from './etcd-client.js';
import type { Keyspace, LogValue } from './etcd-keyspace.js';
import { Relist } from './etcd-relist.js';

export class EtcdFollower {
  private stream: ClientDuplexStream<unknown, WatchResponse> | undefined;
  /** The endpoint the open watch stream went to (requests may have moved on since). */
  private streamEndpoint = '';
  private retryTimer: NodeJS.Timeout | undefined;
  /** When the last `etcd watch broken` line was logged, and the breaks since left out. */
  private brokenLog = { atMs: 0, suppressed: 0 };
  private relisting = false;
  private closed = false;
  private latestSeen = 0;
  /** Events of a watch response etcd split into fragments, until its last fragment arrives. */
  private fragments: WatchResponse['events'] = [];
  /** Whole responses' events not applied yet: applied together once the event loop turns. */
  private pending: WatchResponse['events'] = [];
  private applyScheduled = false;

  constructor(
    private readonly store: Store,
    private readonly client: EtcdClient,
    private readonly keyspace: Keyspace,
    private readonly notifier: AppliedNotifier,
    private readonly logger: Logger,
  ) {}

  /** Relists when the view is empty, opens the watch, and waits (bounded) until caught up with etcd. */
  async start(): Promise<void> {
    this.store.skipCommitSyncs();
    let current = 0;
    try {
      // An empty view, or one a relist was filling when the node stopped: relisted before
      // serving (and before the checkpointer's connection, which an empty view's bulk load must not meet).
      if (this.store.revision() === 0 || this.store.relistInProgress() > 0) await this.relist();
      // The newest mbdir write of this prefix: every write puts the log key (etcd's head
      // revision may be a write to another prefix).
      const newest = await this.client.range({ key: Buffer.from(this.keyspace.logKey()) });
      current = newest.kvs[0]?.mod_revision ?? 0;
    } catch (error) {
      this.logger.warn({ err: error }, 'etcd unreachable at start; serving reads from the local copy');
    }
    // Checkpoints (and their fsyncs) in a worker, not inside the follower's commits.
    this.store.startBackgroundCheckpoints();
    // A relist cut short leaves rows of a newer state than the applied revision: relist again, never replay onto them.
    if (this.store.relistInProgress() > 0) this.relistThenWatch(this.store.relistInProgress());
    else this.openWatch();
    if (current > this.store.revision()) {
      await this.notifier.wait(current, this.store.revision(), limits.minRevisionWaitMsMax).catch(() => {
        this.logger.warn({ current, applied: this.store.revision() }, 'not caught up with etcd at start; serving anyway');
      });
    }
  }

  /** The newest etcd revision this follower has heard of. */
  seenRevision(): number {
    return this.latestSeen;
  }

  private openWatch(): void {
    if (this.closed || this.relisting) return;
    this.streamEndpoint = this.client.currentEndpoint();
    const stream = this.client.openWatch();
    this.stream = stream;
    this.fragments = [];
    stream.on('data', (response: WatchResponse) => this.onResponse(stream, response));
    stream.on('error', (error: Error) => this.restart(stream, error.message));
    stream.on('end', () => this.restart(stream, 'stream ended'));
    stream.write({
      create_request: {
        // The `log` key and the maintenance keys that sort after it up to `maintenance/swept`:
        // every write puts `log` with all of its changes, so it is all the view needs; the
        // hierarchy and uid values of the same txn would only cost etcd and this node their
        // encoding (a relist still reads the whole prefix). The swept marker must come too: a
        // write refused by its guard waits until the view has applied the marker's revision
        // (a revision without a log is applied empty, moving the view's revision).
        key: Buffer.from(this.keyspace.logKey()),
        range_end: Buffer.from(this.keyspace.maintenanceKey('swept') + '\0'),
        start_revision: this.store.revision() + 1,
        progress_notify: true,
        // Large responses (catching up over many revisions) come in fragments under etcd's request size.
        fragment: true,
      },
    });
  }

  /** Drops `stream` and opens a new watch on the next endpoint after a pause. */
  private restart(stream: ClientDuplexStream<unknown, WatchResponse>, reason: string): void {
    if (this.stream !== stream || this.closed) return;
    this.stream = undefined;
    stream.cancel();
    this.logBroken(reason);
    this.client.avoid(this.streamEndpoint);
    this.retryTimer = setTimeout(() => this.openWatch(), limits.etcdWatchRetryMs);
  }

  /** One line per etcdWatchBrokenLogIntervalMs while etcd stays away (4 re-opens a second otherwise flood the log). */
  private logBroken(reason: string): void {
    const now = Date.now();
    if (now - this.brokenLog.atMs < limits.etcdWatchBrokenLogIntervalMs) {
      this.brokenLog.suppressed += 1;
      return;
    }
    this.logger.warn(
      { reason, endpoint: this.streamEndpoint, suppressedSinceLast: this.brokenLog.suppressed },
      'etcd watch broken; resuming from the applied revision',
    );
    this.brokenLog = { atMs: now, suppressed: 0 };
  }

  private onResponse(stream: ClientDuplexStream<unknown, WatchResponse>, response: WatchResponse): void {
    if (this.stream !== stream) return;
    this.latestSeen = Math.max(this.latestSeen, response.header.revision);
    if (response.canceled) {
      if (response.compact_revision > 0) {
        this.stream = undefined;
        stream.cancel();
        this.relistThenWatch(response.compact_revision);
      } else {
        this.restart(stream, `watch cancelled: ${response.cancel_reason}`);
      }
      return;
    }
    if (response.fragment) {
      this.fragments.push(...response.events);
      return;
    }
    const events = this.fragments.length === 0 ? response.events : [...this.fragments, ...response.events];
    this.fragments = [];
    this.enqueue(events);
  }

  /**
   * Holds a response's events for the apply that the next turn of the event loop runs, so
   * responses arriving together share one transaction; a full queue is applied at once.
   */
  private enqueue(events: WatchResponse['events']): void {
    for (const event of events) this.pending.push(event);
    if (this.pending.length >= limits.etcdApplyBatchEventsMax) {
      this.applyPending();
      return;
    }
    if (this.applyScheduled) return;
    this.applyScheduled = true;
    setImmediate(() =>
      // A checkpoint that lets the WAL restart may hold the writes a moment (checkpointer.ts).
      this.store.whenWritesMayStart(() => {
        this.applyScheduled = false;
        this.applyPending();
      }),
    );
  }

  /** Applies the pending events in one transaction; on a failure, resumes the watch from the applied revision. */
  private applyPending(): void {
    const events = this.pending;
    this.pending = [];
    if (this.closed || events.length === 0) return;
    const commits = commitsOf(events, this.keyspace, this.store.revision());
    if (commits.length === 0) return;
    try {
      this.store.applyCommits(commits);
    } catch (error) {
      this.logger.error({ err: error, applied: this.store.revision() }, 'applying etcd changes failed; watching again from the applied revision');
      if (this.stream !== undefined) this.restart(this.stream, 'apply failed');
      return;
    }
    const applied: ChangeEvent[] = [];
    for (const commit of commits) {
      for (const change of commit.changes) applied.push({ revision: commit.revision, change });
    }
    this.store.committed(applied.length);
    this.notifier.applied(applied, this.store.revision());
  }

  private relistThenWatch(compactRevision: number): void {
    this.logger.warn({ compactRevision, applied: this.store.revision() }, 'etcd history compacted past this node; relisting');
    this.relist(true).then(
      () => this.openWatch(),
      (error: unknown) => {
        // The relist's reads already moved off endpoints that did not answer.
        this.logger.warn({ err: error }, 'relist failed; retrying');
        this.retryTimer = setTimeout(() => this.relistThenWatch(compactRevision), limits.etcdWatchRetryMs);
      },
    );
  }

  /**
   * Makes the view equal to the prefix at one revision, streaming (etcd-relist.ts). `logged`
   * when the node serves: Watch subscribers are told its changes.
   */
  async relist(logged = false): Promise<void> {
    this.relisting = true;
    try {
      await new Relist(this.store, this.client, this.keyspace, this.notifier, this.logger, { logged }).run();
    } finally {
      this.relisting = false;
    }
  }

  close(): void {
    this.closed = true;
    this.pending = [];
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.stream = undefined;
  }
}

/**
 * The commits in watch events, in revision order: each etcd revision newer than `applied`
 * with the changes of its `log` puts (a revision of this prefix without one changes nothing
 * but still moves the applied revision).
 */
export function commitsOf(
  events: WatchResponse['events'],
  keyspace: Keyspace,
  applied: number,
): Array<{ changes: Change[]; revision: number }> {
  const commits: Array<{ changes: Change[]; revision: number }> = [];
  let newest = applied;
  for (const event of events) {
    const revision = event.kv.mod_revision;
    if (revision <= newest && commits.at(-1)?.revision !== revision) continue;
    if (revision > newest) {
      commits.push({ changes: [], revision });
      newest = revision;
    }
    // A batch of writes at one revision puts one log per write (`log/<slot>`): all count.
    if (event.type === 'PUT' && keyspace.parse(event.kv.key)?.kind === 'log') {
      const commit = commits.at(-1);
      // The batch's own `log` put has no changes list (etcd-write-batcher.ts).
      const changes = (JSON.parse(event.kv.value.toString()) as Partial<LogValue>).changes ?? [];
      if (commit !== undefined) commit.changes = commit.changes.length === 0 ? changes : [...commit.changes, ...changes];
    }
  }
  return commits;
}
