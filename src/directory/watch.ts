/**
 * Watch: mailbox changes in revision order for proxies' caches. A subscription
 * starts with a snapshot (from 0, or from a revision no longer retained) or the
 * retained changes after its revision, then follows live commits, queued from
 * the moment it subscribes. One engine listener fans each commit out in the same
 * tick, filtered once per distinct filter into items all subscribers share (the
 * adapter encodes each once); no timer or promise per subscriber. One that falls
 * `watchBufferEventsMax` behind is cut off, told where to resume; when all
 * subscribers together hold more than `watchHeldBytesMax` (watch-budget.ts),
 * the slowest let go of the snapshot pages they hold (read again later), and
 * if that is not enough are cut off. A record that leaves a filter (rename,
 * move) arrives as a DELETE under its old name.
 */
import { failedPrecondition, invalidArgument, resourceExhausted } from '../model/errors.js';
import { validateLabel } from '../model/labels.js';
import { limits } from '../model/limits.js';
import { isInSubtree, sortKey, validateName } from '../model/names.js';
import type { ChangeEvent, MailboxRecord } from '../model/records.js';
import type { Engine } from '../replication/engine.js';
import type { Store } from '../store/store.js';
import { serversOf } from './mailbox-rules.js';
import { liveItemReferenceBytes, pageItemBytes, WatchBudget, type BudgetedSubscriber } from './watch-budget.js';

export type WatchEventType = 'SNAPSHOT' | 'SNAPSHOT_END' | 'PUT' | 'DELETE' | 'PROGRESS';

export interface WatchItem {
  type: WatchEventType;
  /** The record (null for markers, and for a snapshot item read elsewhere, which carries `encoded`). */
  mailbox: MailboxRecord | null;
  revision: number;
  /** The item's message as the sink sends it, when a read thread read and encoded it. */
  encoded?: Uint8Array;
}

/** A snapshot page to read elsewhere (a read thread): after `afterKey`, at most `limit` records. */
export interface SnapshotPageRequest {
  server: string;
  afterKey: Buffer;
  limit: number;
  filter: WatchFilter;
  /** The snapshot's revision: records changed after it come live instead. */
  until: number;
}

/**
 * Items of a page a subscriber sends in order, by index: an array's, or a
 * read thread's encoded page, which holds no object per item (watch-page.ts).
 */
export interface PageItems {
  readonly length: number;
  /** Item `index` (0 <= index < length). */
  item(index: number): WatchItem;
  /** What item `index` costs while held, as the budget counts it. */
  heldBytes(index: number): number;
}

/** An array's items as a page. */
export function arrayPage(items: readonly WatchItem[]): PageItems {
  return { length: items.length, item: (index) => items[index] as WatchItem, heldBytes: (index) => pageItemBytes(items[index] as WatchItem) };
}

const emptyPage = arrayPage([]);

/** A page and one more item after it (SNAPSHOT_END, PROGRESS). */
function withLast(page: PageItems, last: WatchItem): PageItems {
  return {
    length: page.length + 1,
    item: (index) => (index < page.length ? page.item(index) : last),
    heldBytes: (index) => (index < page.length ? page.heldBytes(index) : pageItemBytes(last)),
  };
}

/** Bytes items `from` to the end of a page cost while held. */
function heldBytesFrom(page: PageItems, from: number): number {
  let bytes = 0;
  for (let index = from; index < page.length; index += 1) bytes += page.heldBytes(index);
  return bytes;
}

/** A snapshot page read elsewhere: its items in order, the records it read (before filtering) and where it stopped. */
export interface SnapshotPage {
  items: readonly WatchItem[] | PageItems;
  records: number;
  lastKey: Buffer;
  /** The record key of SNAPSHOT item `index` (asked only when the page is let go); absent: the key of the item's record. */
  keyOf?: (index: number) => Buffer;
}

/** Where the snapshot page being sent was read from, so its unsent rest can be let go and read again. */
interface SnapshotPageOrigin {
  afterKey: Buffer;
  until: number;
  keyOf: (index: number) => Buffer;
}

/** The record key of a SNAPSHOT item read on this thread (a read thread's page says its keys). */
function recordKeyOf(item: WatchItem | undefined): Buffer {
  if (item?.mailbox === null || item?.mailbox === undefined) throw new Error('watch: a snapshot item without its record has no key');
  return sortKey(item.mailbox.name);
}

export interface WatchFilter {
  servers: string[];
  prefixes: string[];
  /** The snapshot carries RESERVED records too (MUPDATE UPDATE's dump: MAILBOX and RESERVE lines); else active ones only. */
  reserved?: boolean;
}

/**
 * Records read per step (one page turn) of a snapshot or catch-up: a turn of
 * 250 costs the main thread about 1.5 ms on the 2M directory (read 0.9, encode
 * 0.5), the most a lookup waits behind it; 500 took twice that.
 */
export const watchReadBatch = 250;

/** Slots run that the page-turn queue keeps before dropping them (one splice per this many turns). */
const pageTurnsCompactSlots = 1024;

/**
 * Snapshot and catch-up pages, the first included, are read one per
 * event-loop turn across all subscribers, in the order they asked: a page
 * costs milliseconds (read, decode, encode, write), and twenty subscribers each
 * reading theirs in the same turn held every lookup behind all twenty (twenty
 * Watch calls arriving together did so with their first pages). The queue
 * holds each subscriber once at most (subscribersMax bounds it).
 */
export class PageTurns {
  /** Turns to run from `head` on; a slot run is emptied at once: a turn holds its page until it runs, not after. */
  private readonly waiting: Array<(() => void) | undefined> = [];
  private head = 0;
  private scheduled = false;

  /** Runs `turn` in a later event-loop turn of its own. */
  schedule(turn: () => void): void {
    this.waiting.push(turn);
    this.wake();
  }

  /** Turns waiting, and slots the queue keeps (run ones before `head` included). */
  size(): { waiting: number; slots: number } {
    return { waiting: this.waiting.length - this.head, slots: this.waiting.length };
  }

  private wake(): void {
    if (this.scheduled || this.head === this.waiting.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const turn = this.waiting[this.head];
      this.waiting[this.head] = undefined;
      this.head += 1;
      // A queue that never empties (subscribers always asking) drops the slots run, in one step now and then.
      if (this.head === this.waiting.length || this.head >= pageTurnsCompactSlots) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      turn?.();
      this.wake();
    });
  }
}

/** One queue for the process: the event loop the pages compete for is the process's. */
const pageTurns = new PageTurns();

export function validateWatchFilter(filter: WatchFilter): void {
  const entries = filter.servers.length + filter.prefixes.length;
  if (entries > limits.watchFilterEntriesMax) {
    throw invalidArgument(`watch filter has ${entries} entries, more than the limit of ${limits.watchFilterEntriesMax}`);
  }
  for (const server of filter.servers) validateLabel(server, 'watch server');
  for (const prefix of filter.prefixes) validateName(prefix, 'watch prefix');
}

function matches(filter: WatchFilter, name: string, servers: readonly string[]): boolean {
  const serverOk = filter.servers.length === 0 || servers.some((server) => filter.servers.includes(server));
  const prefixOk = filter.prefixes.length === 0 || filter.prefixes.some((prefix) => isInSubtree(name, prefix));
  return serverOk && prefixOk;
}

/**
 * The SNAPSHOT items of a page of records: the active ones the filter selects
 * (reserved ones too when it asks),
 * in the page's order, as of the snapshot's revision `until`. A record changed
 * after it is left out: the subscriber gets that change live, after
 * SNAPSHOT_END (pages are read after subscribing, not at its revision).
 */
export function snapshotItemsOf(filter: WatchFilter, mailboxes: readonly MailboxRecord[], until: number): WatchItem[] {
  const items: WatchItem[] = [];
  for (const mailbox of mailboxes) {
    if ((mailbox.state === 'ACTIVE' || filter.reserved === true) && mailbox.revision <= until && matches(filter, mailbox.name, serversOf(mailbox))) {
      items.push({ type: 'SNAPSHOT', mailbox, revision: mailbox.revision });
    }
  }
  return items;
}

/** What a filter sees of one change: the record itself, the record leaving the filter, or nothing. */
type Selection = 'record' | 'departed' | null;

function selectionOf(filter: WatchFilter, event: ChangeEvent): Selection {
  const change = event.change;
  if (change.kind === 'mailbox.delete') {
    return matches(filter, change.mailbox.name, serversOf(change.mailbox)) ? 'record' : null;
  }
  if (change.kind !== 'mailbox.put') return null;
  if (matches(filter, change.mailbox.name, serversOf(change.mailbox))) return 'record';
  const previous = change.previous;
  return previous !== undefined && matches(filter, previous.name, previous.servers) ? 'departed' : null;
}

/** The item of a selected change: a PUT or DELETE of the record, or a DELETE under the name it left. */
function itemOf(event: ChangeEvent, selection: 'record' | 'departed'): WatchItem {
  const change = event.change;
  if (change.kind !== 'mailbox.put' && change.kind !== 'mailbox.delete') {
    throw new Error(`watch: change ${change.kind} has no mailbox item`);
  }
  if (selection === 'record') {
    return { type: change.kind === 'mailbox.put' ? 'PUT' : 'DELETE', mailbox: change.mailbox, revision: event.revision };
  }
  const name = change.kind === 'mailbox.put' ? (change.previous?.name ?? change.mailbox.name) : change.mailbox.name;
  return { type: 'DELETE', mailbox: { ...change.mailbox, name }, revision: event.revision };
}

/** Turns one committed change into what a filtered subscriber must see, if anything. */
export function watchItemFor(filter: WatchFilter, event: ChangeEvent): WatchItem | null {
  const selection = selectionOf(filter, event);
  return selection === null ? null : itemOf(event, selection);
}

/**
 * The items of one commit, each made at most once and shared by every filter
 * that selects it: subscribers of different filters get the same objects.
 */
class CommitItems {
  private readonly records: Array<WatchItem | undefined> = [];
  private readonly departures: Array<WatchItem | undefined> = [];

  constructor(private readonly events: readonly ChangeEvent[]) {}

  selectedBy(filter: WatchFilter): WatchItem[] {
    const items: WatchItem[] = [];
    this.events.forEach((event, index) => {
      const selection = selectionOf(filter, event);
      if (selection === null) return;
      const made = selection === 'record' ? this.records : this.departures;
      const item = made[index] ?? itemOf(event, selection);
      made[index] = item;
      items.push(item);
    });
    return items;
  }
}

/** Changes of one revision at most: a rename of the largest subtree, and its user record. */
const revisionChangesMax = 2 * limits.renameSubtreeMailboxesMax + 16;

/**
 * Cuts a full batch of change-log events at a revision boundary, so catch-up
 * never marks a revision done after reading only part of it (a rename or sync
 * batch is one revision of many changes). A single revision larger than the
 * batch is read whole.
 */
function wholeRevisions(store: Store, events: ChangeEvent[]): ChangeEvent[] {
  const last = events.at(-1);
  if (last === undefined || events.length < watchReadBatch) return events;
  const complete = events.filter((event) => event.revision < last.revision);
  if (complete.length > 0) return complete;
  return store.changesSince(last.revision - 1, revisionChangesMax).filter((event) => event.revision === last.revision);
}


type Phase =
  | { kind: 'snapshot'; afterKey: Buffer; until: number }
  | { kind: 'catchup'; after: number; until: number }
  | { kind: 'live' };

/** Where a subscription sends its items: the adapter's stream. */
export interface WatchSink {
  /** Sends one item; false asks for no more until the subscription is told `drained()`. */
  send(item: WatchItem): boolean;
  /**
   * Reads a snapshot page elsewhere (a read thread, items encoded there), or
   * null: the subscription reads it on this thread. Pages are asked one at a time, in key order.
   */
  readSnapshotPage?(request: SnapshotPageRequest): Promise<SnapshotPage> | null;
  /** The subscription ended on its own: cut off, or its catch-up failed. Called at most once. */
  end(error: Error): void;
}

/** Where a subscription starts, read in the same synchronous step as it joins the hub. */
interface Start {
  currentRevision: number;
  oldestRetainedRevision: number;
  fromRevision: number;
}

function phaseOf(start: Start): Phase {
  const { currentRevision, fromRevision } = start;
  if (fromRevision === 0 || fromRevision < start.oldestRetainedRevision) {
    return { kind: 'snapshot', afterKey: Buffer.alloc(0), until: currentRevision };
  }
  if (fromRevision < currentRevision) return { kind: 'catchup', after: fromRevision, until: currentRevision };
  return { kind: 'live' };
}

/**
 * One subscriber. Items go out in order: the rest of the page read last
 * (snapshot or catch-up), further pages, then live items queued since
 * subscribing. While the phase is live and nothing is queued, pushed items go
 * straight to the sink.
 */
export class WatchSubscription implements BudgetedSubscriber {
  private phase: Phase;
  /** Bytes this subscriber holds (unsent page items, queued live references), as the budget counts them. */
  private held = 0;
  private readonly floor: number;
  private page: PageItems = emptyPage;
  private pageHead = 0;
  /** Set while `page` is a snapshot page: its unsent rest may be let go (releaseRereadable). */
  private pageOrigin: SnapshotPageOrigin | null = null;
  private readonly live: WatchItem[] = [];
  private liveHead = 0;
  private blocked = false;
  private closed = false;
  private inSnapshot: boolean;
  private pageScheduled = false;
  /** A snapshot page is being read elsewhere (readSnapshotPage); none more is asked until it is taken. */
  private pageReading = false;
  /** The revision of the last change item sent (live items of one commit are sent together or queued together). */
  private sentRevision = 0;

  constructor(
    private readonly store: Store,
    private readonly filter: WatchFilter,
    start: Start,
    private readonly sink: WatchSink,
    private readonly bufferEventsMax: number,
    private readonly budget: WatchBudget,
    private readonly onClose: () => void,
    private readonly onCutOff: (reason: CutOffReason) => void = () => undefined,
  ) {
    this.phase = phaseOf(start);
    this.inSnapshot = this.phase.kind === 'snapshot';
    this.floor = Math.max(start.currentRevision, start.fromRevision);
  }

  /** Hub: the items of one commit this subscriber's filter selects, in order. Never throws. */
  push(items: readonly WatchItem[]): void {
    if (this.closed) return;
    try {
      for (const item of items) {
        if (this.closed) return; // cut off by the budget while queueing
        if (item.revision <= this.floor) continue;
        if (this.idle()) {
          this.send(item);
        } else {
          this.live.push(item);
          this.hold(liveItemReferenceBytes);
        }
      }
      if (this.live.length - this.liveHead > this.bufferEventsMax) this.cutOff();
    } catch (error) {
      this.fail(error);
    }
  }

  /** The transport takes items again after `send` returned false. */
  drained(): void {
    this.blocked = false;
    this.budget.unblock(this);
    this.flush(false);
  }

  /** Ends the subscription (the client went); the sink hears nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.page = emptyPage;
    this.pageOrigin = null;
    this.live.length = 0;
    this.budget.unblock(this);
    this.hold(-this.held);
    this.onClose();
  }

  /**
   * Sends what is ready until the sink asks to wait. Reads one page of snapshot
   * or catch-up now when `readNow` (on its page turn), otherwise asks for a
   * page turn, which all subscribers share.
   */
  flush(readNow = false): void {
    let pagesRead = 0;
    try {
      while (!this.closed && !this.blocked) {
        if (this.pageHead < this.page.length) {
          const item = this.page.item(this.pageHead);
          this.hold(-this.page.heldBytes(this.pageHead));
          this.pageHead += 1;
          this.send(item);
        } else if (this.phase.kind !== 'live') {
          if (this.pageReading) return; // a page read elsewhere comes on a page turn of its own
          if (pagesRead > 0 || !readNow) return this.flushNextTurn(); // a long snapshot yields to other work between pages
          if (this.phase.kind === 'snapshot' && this.readSnapshotElsewhere(this.phase)) return;
          this.readPage(this.phase);
          pagesRead += 1;
        } else if (this.liveHead < this.live.length) {
          this.hold(-liveItemReferenceBytes);
          this.send(this.live[this.liveHead++] as WatchItem);
        } else {
          this.live.length = 0;
          this.liveHead = 0;
          return;
        }
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private flushNextTurn(): void {
    if (this.pageScheduled) return;
    this.pageScheduled = true;
    pageTurns.schedule(() => {
      this.pageScheduled = false;
      this.flush(true);
    });
  }

  private idle(): boolean {
    return !this.blocked && this.phase.kind === 'live' && this.pageHead === this.page.length && this.liveHead === this.live.length;
  }

  private send(item: WatchItem): void {
    if (item.type === 'SNAPSHOT_END') this.inSnapshot = false;
    if (item.type !== 'SNAPSHOT') this.sentRevision = item.revision;
    if (!this.sink.send(item)) {
      this.blocked = true;
      this.budget.block(this);
    }
  }

  private readPage(phase: Exclude<Phase, { kind: 'live' }>): void {
    if (phase.kind === 'snapshot') {
      const origin: SnapshotPageOrigin = { afterKey: phase.afterKey, until: phase.until, keyOf: (index) => recordKeyOf(this.page.item(index)) };
      this.takeItems(this.readSnapshot(phase), origin);
    } else {
      this.takeItems(arrayPage(this.readCatchup(phase)), null);
    }
  }

  private takeItems(items: PageItems, origin: SnapshotPageOrigin | null): void {
    this.page = items;
    this.pageHead = 0;
    this.pageOrigin = origin;
    this.hold(heldBytesFrom(items, 0));
  }

  /**
   * Budget: lets go of the unsent rest of a snapshot page, which the store
   * still has: the snapshot goes on from the last record sent, read again
   * once the transport drains (pages are read after subscribing, at the
   * snapshot's revision, either way). Nothing else is re-readable.
   */
  releaseRereadable(): void {
    const origin = this.pageOrigin;
    if (this.closed || origin === null || this.pageHead >= this.page.length) return;
    const afterKey = this.pageHead === 0 ? origin.afterKey : origin.keyOf(this.pageHead - 1);
    const released = heldBytesFrom(this.page, this.pageHead);
    this.phase = { kind: 'snapshot', afterKey, until: origin.until };
    this.page = emptyPage;
    this.pageHead = 0;
    this.pageOrigin = null;
    this.hold(-released);
  }

  private hold(deltaBytes: number): void {
    this.held += deltaBytes;
    this.budget.hold(deltaBytes);
  }

  /** Budget: bytes this subscriber holds now. */
  heldBytes(): number {
    return this.held;
  }

  /** Budget: all subscribers hold too much and this one is the slowest. */
  cutOffForBudget(budgetBytes: number): void {
    if (!this.closed) this.onCutOff('budget');
    this.fail(
      resourceExhausted(
        `watch subscribers on this node hold more than ${budgetBytes} bytes of unsent changes and this one was the slowest; ` +
          `resume with from_revision ${this.resumeRevision()}`,
      ),
    );
  }

  /**
   * Where a client cut off now resumes without a gap: before the first item it
   * did not get, or 0 while its snapshot is incomplete (a snapshot does not resume).
   */
  private resumeRevision(): number {
    if (this.inSnapshot) return 0;
    const next = this.pageHead < this.page.length ? this.page.item(this.pageHead) : this.phase.kind === 'catchup' ? undefined : this.live[this.liveHead];
    if (next === undefined) return this.phase.kind === 'catchup' ? this.phase.after : Math.max(this.floor, this.sentRevision);
    return next.type === 'PROGRESS' ? next.revision : next.revision - 1;
  }

  private cutOff(): void {
    if (!this.closed) this.onCutOff('buffer');
    this.fail(resumableEnd(`watch subscriber fell more than ${this.bufferEventsMax} events behind`, this.resumeRevision()));
  }

  /**
   * Ends the subscription with the cut-off's resumable status (the node is
   * stopping): what was already sent stays sent, the rest is not, and the
   * client resumes from the revision named, on this node or another.
   */
  endResumable(reason: string): void {
    if (this.closed) return;
    this.fail(resumableEnd(reason, this.resumeRevision()));
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.close();
    this.sink.end(error instanceof Error ? error : new Error(String(error)));
  }

  /** The server a snapshot reads by index: the filter's one server, or '' (all). */
  private snapshotServer(): string {
    return this.filter.servers.length === 1 ? (this.filter.servers[0] ?? '') : '';
  }

  private readSnapshot(phase: Extract<Phase, { kind: 'snapshot' }>): PageItems {
    const page = this.store.scanPage(this.snapshotServer(), phase.afterKey, watchReadBatch);
    return this.endOfPage(phase, arrayPage(snapshotItemsOf(this.filter, page.mailboxes, phase.until)), page.mailboxes.length, page.lastKey);
  }

  /** Moves the snapshot past a page; a short page ends it (SNAPSHOT_END at the revision it was taken for). */
  private endOfPage(phase: Extract<Phase, { kind: 'snapshot' }>, items: PageItems, records: number, lastKey: Buffer): PageItems {
    phase.afterKey = lastKey;
    if (records >= watchReadBatch) return items;
    this.phase = { kind: 'live' };
    return withLast(items, { type: 'SNAPSHOT_END', mailbox: null, revision: phase.until });
  }

  /**
   * Asks the sink to read the next snapshot page elsewhere; false when it
   * reads none (then it is read here). The page is taken on a page turn of
   * its own, as a page read here would be.
   */
  private readSnapshotElsewhere(phase: Extract<Phase, { kind: 'snapshot' }>): boolean {
    const reading = this.sink.readSnapshotPage?.({ server: this.snapshotServer(), afterKey: phase.afterKey, limit: watchReadBatch, filter: this.filter, until: phase.until }) ?? null;
    if (reading === null) return false;
    this.pageReading = true;
    reading.then(
      (page) => pageTurns.schedule(() => this.takePage(phase, page)),
      (error: unknown) => this.fail(error),
    );
    return true;
  }

  private takePage(phase: Extract<Phase, { kind: 'snapshot' }>, page: SnapshotPage): void {
    if (this.closed) return;
    this.pageReading = false;
    const items = Array.isArray(page.items) ? arrayPage(page.items as readonly WatchItem[]) : (page.items as PageItems);
    const keyOf = page.keyOf ?? ((index: number) => recordKeyOf(items.item(index)));
    const origin: SnapshotPageOrigin = { afterKey: phase.afterKey, until: phase.until, keyOf };
    this.takeItems(this.endOfPage(phase, items, page.records, page.lastKey), origin);
    this.flush(false);
  }

  private readCatchup(phase: Extract<Phase, { kind: 'catchup' }>): WatchItem[] {
    const events = wholeRevisions(this.store, this.store.changesSince(phase.after, watchReadBatch)).filter(
      (event) => event.revision <= phase.until,
    );
    const first = events[0];
    if (first !== undefined && first.revision > phase.after + 1 && phase.after > 0) {
      throw resourceExhausted(`revision ${phase.after + 1} is no longer retained; watch from 0 for a snapshot`);
    }
    const items: WatchItem[] = [];
    for (const event of events) {
      const item = watchItemFor(this.filter, event);
      if (item !== null) items.push(item);
      phase.after = event.revision;
    }
    if (events.length === 0 || phase.after >= phase.until) {
      items.push({ type: 'PROGRESS', mailbox: null, revision: phase.until });
      this.phase = { kind: 'live' };
    }
    return items;
  }
}

/**
 * The one status a client resumes a Watch from, for a cut-off and a stopping
 * node alike: RESOURCE_EXHAUSTED naming `from_revision N`, where N is the last
 * revision the subscriber has whole (0: its snapshot was incomplete).
 */
export function resumableEnd(reason: string, fromRevision: number): Error {
  return resourceExhausted(`${reason}; resume with from_revision ${fromRevision}`);
}

/** Bounds of one node's watchers; the defaults are the limits, tests may shrink them. */
export interface WatchBounds {
  subscribersMax: number;
  bufferEventsMax: number;
  /** Bytes all subscribers together may hold (watch-budget.ts). */
  heldBytesMax: number;
}

export const defaultWatchBounds: WatchBounds = {
  subscribersMax: limits.watchSubscribersMax,
  bufferEventsMax: limits.watchBufferEventsMax,
  heldBytesMax: limits.watchHeldBytesMax,
};

/** Subscribers that share one filter, so each commit is filtered once for all of them. */
interface WatchGroup {
  filter: WatchFilter;
  subscribers: Set<WatchSubscription>;
}

/** The same filter however its entries are ordered. */
function filterKey(filter: WatchFilter): string {
  return JSON.stringify([[...filter.servers].sort(), [...filter.prefixes].sort()]);
}

/** Creates subscriptions, bounds their number, and fans every commit out to them. */
/** Why a subscriber was cut off: its own event queue was full, or all subscribers held too much. */
export type CutOffReason = 'buffer' | 'budget';

export class WatchHub {
  /** Told of each subscriber cut off (metrics); set by the node. */
  onCutOff: (reason: CutOffReason) => void = () => undefined;
  private readonly groups = new Map<string, WatchGroup>();
  private subscribers = 0;
  /** Set by endAll: the node is stopping, so a new subscription is refused, told where to resume. */
  private endedReason: string | null = null;
  private stopListening: (() => void) | null = null;
  private readonly budget: WatchBudget;

  constructor(
    private readonly store: Store,
    private readonly engine: Engine,
    private readonly bounds: WatchBounds = defaultWatchBounds,
  ) {
    this.budget = new WatchBudget(bounds.heldBytesMax);
  }

  /** Starts a subscription that sends to `sink`; its snapshot or catch-up starts on a later page turn, live items as they commit. */
  subscribe(filter: WatchFilter, fromRevision: number, sink: WatchSink): WatchSubscription {
    validateWatchFilter(filter);
    if (this.endedReason !== null) throw resumableEnd(this.endedReason, fromRevision);
    // Standalone, one node holds the only history: a client ahead of it saw revisions this
    // directory no longer has (restored from a backup, or writes lost in a crash under
    // synchronous=NORMAL), which new writes will reuse. An etcd node may merely lag: it waits.
    if (this.engine.kind === 'standalone' && fromRevision > this.engine.appliedRevision()) {
      throw failedPrecondition(
        `from_revision ${fromRevision} is ahead of this directory's revision ${this.engine.appliedRevision()} ` +
          '(restored from a backup?): the revisions after it will be reused; watch from 0 for a snapshot',
      );
    }
    if (this.subscribers >= this.bounds.subscribersMax) {
      throw resourceExhausted(`this node already serves ${this.bounds.subscribersMax} watch subscribers`);
    }
    const key = filterKey(filter);
    const group = this.groups.get(key) ?? { filter, subscribers: new Set<WatchSubscription>() };
    this.groups.set(key, group);
    this.stopListening ??= this.engine.onApplied((events) => this.fanOut(events));
    // Joining the group and reading the current revision happen in one synchronous step: no commit falls between.
    const start: Start = {
      currentRevision: this.engine.appliedRevision(),
      oldestRetainedRevision: this.store.oldestRetainedRevision(),
      fromRevision,
    };
    const subscription: WatchSubscription = new WatchSubscription(
      this.store,
      group.filter,
      start,
      sink,
      this.bounds.bufferEventsMax,
      this.budget,
      () => this.release(key, subscription),
      (reason) => this.onCutOff(reason),
    );
    group.subscribers.add(subscription);
    this.subscribers += 1;
    subscription.flush();
    return subscription;
  }

  subscriberCount(): number {
    return this.subscribers;
  }

  /** Bytes all subscribers hold now, as the budget counts them. */
  heldBytes(): number {
    return this.budget.heldBytes();
  }

  /** Ends every subscription with the resumable status and refuses new ones (a stopping node). */
  endAll(reason: string): void {
    this.endedReason = reason;
    const all = [...this.groups.values()].flatMap((group) => [...group.subscribers]);
    for (const subscription of all) subscription.endResumable(reason);
  }

  private release(key: string, subscription: WatchSubscription): void {
    const group = this.groups.get(key);
    if (group === undefined || !group.subscribers.delete(subscription)) return;
    this.subscribers -= 1;
    if (group.subscribers.size === 0) this.groups.delete(key);
    if (this.subscribers === 0) {
      this.stopListening?.();
      this.stopListening = null;
    }
  }

  /** One commit to every subscriber, in this tick: filtered once per group, items shared. */
  private fanOut(events: readonly ChangeEvent[]): void {
    const commit = new CommitItems(events);
    for (const group of this.groups.values()) {
      const items = commit.selectedBy(group.filter);
      if (items.length === 0) continue;
      for (const subscription of group.subscribers) subscription.push(items);
    }
  }
}
