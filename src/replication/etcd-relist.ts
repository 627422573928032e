/**
 * The relist of the etcd engine: makes the local view equal to the prefix at one
 * etcd revision, streaming. It ranges only the kinds a view holds (`server/`,
 * `business/`, `user/`, `lock/`, then `hier/`; never `uid/`, `log` or
 * `maintenance/`), a page of etcdRelistPageKeysMax keys at a time with the next
 * page in flight while one is applied, each page in its own transaction. etcd
 * 3.4 walks every key of a range's [key, range_end) to answer even a limited
 * range, so each request's range_end is cut to a window of about
 * etcdRelistWindowPagesMax pages (relist-windows.ts). Memory is two pages. An
 * empty view before the node serves is bulk loaded (bulk-load.ts: no journal,
 * indexes built once at the end); otherwise hierarchies are diffed against the
 * local records. The applied revision moves only when the whole relist is in;
 * until then the store marks it in progress, and a node restarted on it relists
 * again before serving (an unfinished bulk load is discarded first).
 */
import type { Logger } from '../logging.js';
import { limits } from '../model/limits.js';
import { hierarchyOf } from '../model/names.js';
import type { Change, MailboxRecord } from '../model/records.js';
import type { EmptyDirectoryLoad } from '../store/bulk-load.js';
import type { Store } from '../store/store.js';
import type { AppliedNotifier } from './applied-waiters.js';
import type { EtcdClient, KeyValue, RangeResponse } from './etcd-client.js';
import { hierarchyMailboxes, type HierarchyValue, type Keyspace, type RecordValue } from './etcd-keyspace.js';
import { firstWindow, nextWindow, type RangeWindow } from './relist-windows.js';

/** The kinds of keys a view is made of, in the order a relist applies them (servers before the mailboxes placed on them). */
const relistedKinds = ['server', 'business', 'user', 'lock', 'hier'] as const;
type RelistedKind = (typeof relistedKinds)[number];
/** Local mailboxes read per page when looking for those of hierarchies etcd no longer holds. */
const relistLocalPageMailboxes = 1000;
/** Logged changes read back per notification of Watch subscribers after a relist. */
const relistNotifyChanges = 1000;

interface RelistPage {
  kind: RelistedKind;
  revision: number;
  kvs: KeyValue[];
}

/** How a relist writes: `logged` when the node serves Watch subscribers who must be told its changes. */
export interface RelistMode {
  logged: boolean;
}

/** Reads the relisted kinds at one revision, page by page, one request ahead of the caller. */
async function* relistPages(client: EtcdClient, keyspace: Keyspace): AsyncGenerator<RelistPage> {
  let revision = 0;
  for (const kind of relistedKinds) {
    const start = Buffer.from(keyspace.key(kind, ''));
    const end = Buffer.from(start);
    end[end.length - 1] = (end[end.length - 1] ?? 0) + 1; // after every `<kind>/...` key
    let window = firstWindow(start, end, start.length);
    let pending = window === undefined ? undefined : rangeOf(client, window, revision);
    while (pending !== undefined && window !== undefined) {
      const response = await pending;
      if (revision === 0) revision = response.header.revision;
      window = nextWindow(window, end, response, limits.etcdRelistPageKeysMax);
      pending = window === undefined ? undefined : rangeOf(client, window, revision);
      // A read that fails while the caller applies is its next await's error, not an unhandled one.
      pending?.catch(() => undefined);
      if (response.kvs.length > 0) yield { kind, revision, kvs: response.kvs };
    }
  }
}

function rangeOf(client: EtcdClient, window: RangeWindow, revision: number): Promise<RangeResponse> {
  return client.range({ key: window.from, range_end: window.end, limit: limits.etcdRelistPageKeysMax, ...(revision > 0 ? { revision } : {}) });
}

/** The change a record key's value asks for (a put, or a tombstone's delete). */
function recordChange(value: RecordValue): Change | undefined {
  if ('server' in value) return { kind: 'server.put', server: value.server };
  if ('business' in value) return { kind: 'business.put', business: value.business };
  if ('user' in value) return { kind: 'user.put', user: value.user };
  if ('lock' in value) return { kind: 'lock.put', lock: value.lock };
  if ('deletedLock' in value) return { kind: 'lock.delete', name: value.deletedLock };
  if ('deletedUser' in value) return { kind: 'user.delete', user: value.deletedUser };
  return undefined;
}

/** The records of a hierarchy value, revision 0 read as the key's own mod_revision. */
function hierarchyRecords(kv: KeyValue): MailboxRecord[] {
  const mailboxes = (JSON.parse(kv.value.toString()) as HierarchyValue).mailboxes;
  for (const mailbox of mailboxes) if (mailbox.revision === 0) mailbox.revision = kv.mod_revision;
  return mailboxes;
}

export class Relist {
  private seq = 0;
  private revision = 0;
  private changeCount = 0;
  /** True while the local view holds no mailbox: every hierarchy is only put, nothing is compared. */
  private readonly fromEmpty: boolean;
  /** The bulk load of an empty view before the node serves (bulk-load.ts), once the first hierarchy arrives. */
  private load: EmptyDirectoryLoad | undefined;
  /** Hierarchies etcd holds (a temporary table, so memory stays bounded); undefined when starting empty. */
  private seen: ReturnType<Store['relistScratch']> | undefined;
  /** The last hierarchy looked up in `seen`, and the answer (a hierarchy's mailboxes come together). */
  private lastSeen: { hierarchy: string; seen: boolean } = { hierarchy: '', seen: true };

  constructor(
    private readonly store: Store,
    private readonly client: EtcdClient,
    private readonly keyspace: Keyspace,
    private readonly notifier: AppliedNotifier,
    private readonly logger: Logger,
    private readonly mode: RelistMode,
  ) {
    this.fromEmpty = store.mailboxCount() === 0;
  }

  /** Runs the relist to its end; returns the revision relisted (0: the view was already as new). */
  async run(): Promise<number> {
    const started = Date.now();
    if (!this.fromEmpty) this.seen = this.store.relistScratch();
    try {
      for await (const page of relistPages(this.client, this.keyspace)) {
        if (this.revision === 0) {
          if (page.revision <= this.store.revision()) return 0;
          this.revision = page.revision;
        }
        this.applyPage(page);
      }
      if (this.revision === 0) return 0; // an empty prefix: nothing to relist
      if (!this.fromEmpty) this.deleteUnseenHierarchies();
      await this.load?.finish();
      this.store.finishRelist(this.revision, this.mode.logged);
    } catch (error) {
      // Indexes and journal back, the relist still marked in progress: the caller relists again.
      await this.load?.finish({ complete: false });
      throw error;
    } finally {
      this.load = undefined;
      this.seen?.drop();
    }
    this.logger.info({ revision: this.revision, changes: this.changeCount, ms: Date.now() - started }, 'relisted etcd into the local copy');
    this.notifyApplied();
    return this.revision;
  }

  private applyPage(page: RelistPage): void {
    const changes: Change[] = [];
    if (page.kind !== 'hier') {
      for (const kv of page.kvs) {
        const change = recordChange(JSON.parse(kv.value.toString()) as RecordValue);
        if (change !== undefined) changes.push(change);
      }
    } else if (this.fromEmpty && !this.mode.logged) {
      this.bulkLoad(page.kvs);
    } else if (this.fromEmpty) {
      for (const kv of page.kvs) for (const mailbox of hierarchyRecords(kv)) changes.push({ kind: 'mailbox.put', mailbox });
    } else {
      const hierarchies = page.kvs.map((kv) => this.keyspace.parse(kv.key)?.id ?? '');
      this.seen?.add(hierarchies);
      page.kvs.forEach((kv, index) => this.diffHierarchy(hierarchies[index] ?? '', hierarchyRecords(kv), changes));
    }
    this.write(changes);
  }

  /** Inserts a page of hierarchies through the empty view's bulk load, each record with its own revision. */
  private bulkLoad(kvs: readonly KeyValue[]): void {
    if (this.load === undefined) {
      this.load = this.store.beginRelistLoad(this.revision);
      this.logger.info({ revision: this.revision }, 'relist: bulk loading the empty local copy');
    }
    let loaded = 0;
    for (const kv of kvs) {
      for (const mailbox of hierarchyRecords(kv)) {
        if (!this.load.put(mailbox, mailbox.revision)) {
          throw new Error(`relist: etcd holds ${mailbox.name} (${mailbox.uniqueid}) twice, by name or uniqueid, at revision ${this.revision}`);
        }
        loaded += 1;
      }
    }
    this.changeCount += loaded;
  }

  /**
   * The changes that turn the local records of `hierarchy` into etcd's: a changed or gone
   * record is deleted, then every new or changed one put (names only move within a
   * hierarchy, so the deletes free every name the puts take).
   */
  private diffHierarchy(hierarchy: string, remote: MailboxRecord[], changes: Change[]): void {
    const wanted = new Map(remote.map((mailbox) => [mailbox.uniqueid, mailbox]));
    for (const local of hierarchyMailboxes(this.store, hierarchy)) {
      const record = wanted.get(local.uniqueid);
      if (record !== undefined && record.revision === local.revision && record.name === local.name) wanted.delete(local.uniqueid);
      else changes.push({ kind: 'mailbox.delete', mailbox: local });
    }
    for (const mailbox of wanted.values()) changes.push({ kind: 'mailbox.put', mailbox });
  }

  /** Deletes the local mailboxes of hierarchies etcd no longer holds (a swept tombstone), page by page. */
  private deleteUnseenHierarchies(): void {
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const page = this.store.scanPage('', after, relistLocalPageMailboxes);
      const gone = page.mailboxes.filter((mailbox) => !this.hierarchySeen(hierarchyOf(mailbox.name)));
      this.write(gone.map((mailbox) => ({ kind: 'mailbox.delete', mailbox })));
      if (page.mailboxes.length < relistLocalPageMailboxes) return;
      after = page.lastKey;
    }
  }

  private hierarchySeen(hierarchy: string): boolean {
    if (this.lastSeen.hierarchy !== hierarchy) this.lastSeen = { hierarchy, seen: this.seen?.has(hierarchy) === true };
    return this.lastSeen.seen;
  }

  private write(changes: Change[]): void {
    if (changes.length === 0) return;
    this.store.applyRelistPart(changes, this.revision, this.mode.logged ? this.seq : null);
    this.store.committed(changes.length);
    this.seq += changes.length;
    this.changeCount += changes.length;
  }

  /** Tells waiters the revision is in, and Watch subscribers (logged mode) its changes, a bounded page at a time. */
  private notifyApplied(): void {
    if (!this.mode.logged) {
      this.notifier.applied([], this.revision);
      return;
    }
    let afterSeq = -1;
    for (;;) {
      const changes = this.store.changesAt(this.revision, afterSeq, relistNotifyChanges);
      if (changes.length === 0 && afterSeq >= 0) return;
      this.notifier.applied(changes.map((change) => ({ revision: this.revision, change })), this.revision);
      if (changes.length < relistNotifyChanges) return;
      afterSeq += changes.length;
    }
  }
}
