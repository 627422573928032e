/**
 * Watch: a stream of mailbox changes in revision order for proxies' caches.
 *
 * A subscription starts with a snapshot (from revision 0, or from a revision
 * the change log no longer holds), or with the retained changes after the
 * requested revision, then follows live commits. Live events are queued from
 * the moment of subscribing, so nothing falls between catch-up and live. Each
 * subscriber's queue is bounded: one that falls `watchBufferEventsMax` behind
 * is cut off with ResourceExhausted and resumes from the revision it reached.
 * Records renamed or moved out of a filter arrive as a DELETE of the old record.
 */
import { invalidArgument, resourceExhausted } from '../model/errors.js';
import { validateLabel } from '../model/labels.js';
import { limits } from '../model/limits.js';
import { isInSubtree, validateName } from '../model/names.js';
import type { ChangeEvent, MailboxRecord } from '../model/records.js';
import type { Engine } from '../replication/engine.js';
import type { Store } from '../store/store.js';
import { serversOf } from './mailbox-rules.js';

export type WatchEventType = 'SNAPSHOT' | 'SNAPSHOT_END' | 'PUT' | 'DELETE' | 'PROGRESS';

export interface WatchItem {
  type: WatchEventType;
  mailbox: MailboxRecord | null;
  revision: number;
}

export interface WatchFilter {
  servers: string[];
  prefixes: string[];
}

/** Records read per step of a snapshot or catch-up. */
const watchReadBatch = 500;

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

/** Turns one committed change into what a filtered subscriber must see, if anything. */
export function watchItemFor(filter: WatchFilter, event: ChangeEvent): WatchItem | null {
  const change = event.change;
  if (change.kind === 'mailbox.delete') {
    return matches(filter, change.mailbox.name, serversOf(change.mailbox))
      ? { type: 'DELETE', mailbox: change.mailbox, revision: event.revision }
      : null;
  }
  if (change.kind !== 'mailbox.put') return null;
  if (matches(filter, change.mailbox.name, serversOf(change.mailbox))) {
    return { type: 'PUT', mailbox: change.mailbox, revision: event.revision };
  }
  const previous = change.previous;
  if (previous !== undefined && matches(filter, previous.name, previous.servers)) {
    const gone: MailboxRecord = { ...change.mailbox, name: previous.name };
    return { type: 'DELETE', mailbox: gone, revision: event.revision };
  }
  return null;
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

/** One subscriber: pull items with `next()`; `close()` when the client goes. */
export class WatchSubscription {
  private readonly live: WatchItem[] = [];
  private phase: Phase;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private lastRevision: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    engine: Engine,
    private readonly filter: WatchFilter,
    fromRevision: number,
    private readonly onClose: () => void,
    private readonly bufferEventsMax: number = limits.watchBufferEventsMax,
  ) {
    const current = engine.appliedRevision();
    const retained = store.oldestRetainedRevision();
    if (fromRevision === 0 || fromRevision < retained) {
      this.phase = { kind: 'snapshot', afterKey: Buffer.alloc(0), until: current };
      this.lastRevision = current;
    } else if (fromRevision < current) {
      this.phase = { kind: 'catchup', after: fromRevision, until: current };
      this.lastRevision = fromRevision;
    } else {
      this.phase = { kind: 'live' };
      this.lastRevision = fromRevision;
    }
    const floor = Math.max(current, fromRevision);
    // Subscribing and reading `current` happen in one synchronous step: no commit falls between.
    this.unsubscribe = engine.onApplied((events) => this.enqueue(events, floor));
  }

  private enqueue(events: readonly ChangeEvent[], floor: number): void {
    if (this.closed || this.failure !== null) return;
    for (const event of events) {
      if (event.revision <= floor) continue;
      const item = watchItemFor(this.filter, event);
      if (item !== null) this.live.push(item);
    }
    if (this.live.length > this.bufferEventsMax) {
      this.failure = resourceExhausted(
        `watch subscriber fell more than ${this.bufferEventsMax} events behind; ` +
          `resume with from_revision ${this.lastRevision}`,
      );
      this.live.length = 0;
    }
    this.wake?.();
  }

  /** The next items, waiting for live ones when none are ready; null once closed. */
  async next(): Promise<WatchItem[] | null> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.closed) return null;
      const items = this.readReady();
      if (items.length > 0) {
        this.lastRevision = Math.max(this.lastRevision, items.at(-1)?.revision ?? 0);
        return items;
      }
      if (this.phase.kind !== 'live') continue; // a page with no match: read on
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
  }

  private readReady(): WatchItem[] {
    const phase = this.phase;
    if (phase.kind === 'snapshot') return this.readSnapshot(phase);
    if (phase.kind === 'catchup') return this.readCatchup(phase);
    return this.live.splice(0, watchReadBatch);
  }

  private readSnapshot(phase: Extract<Phase, { kind: 'snapshot' }>): WatchItem[] {
    const server = this.filter.servers.length === 1 ? (this.filter.servers[0] ?? '') : '';
    const page = this.store.scanPage(server, phase.afterKey, watchReadBatch);
    phase.afterKey = page.lastKey;
    const items: WatchItem[] = [];
    for (const mailbox of page.mailboxes) {
      if (mailbox.state === 'ACTIVE' && matches(this.filter, mailbox.name, serversOf(mailbox))) {
        items.push({ type: 'SNAPSHOT', mailbox, revision: mailbox.revision });
      }
    }
    if (page.mailboxes.length < watchReadBatch) {
      items.push({ type: 'SNAPSHOT_END', mailbox: null, revision: phase.until });
      this.phase = { kind: 'live' };
    }
    return items;
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

  /** Ends the subscription; a pending `next()` resolves with null. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.onClose();
    this.wake?.();
  }
}

/** Bounds of one node's watchers; the defaults are the limits, tests may shrink them. */
export interface WatchBounds {
  subscribersMax: number;
  bufferEventsMax: number;
}

export const defaultWatchBounds: WatchBounds = {
  subscribersMax: limits.watchSubscribersMax,
  bufferEventsMax: limits.watchBufferEventsMax,
};

/** Creates subscriptions and bounds their number. */
export class WatchHub {
  private subscribers = 0;

  constructor(
    private readonly store: Store,
    private readonly engine: Engine,
    private readonly bounds: WatchBounds = defaultWatchBounds,
  ) {}

  subscribe(filter: WatchFilter, fromRevision: number): WatchSubscription {
    validateWatchFilter(filter);
    if (this.subscribers >= this.bounds.subscribersMax) {
      throw resourceExhausted(`this node already serves ${this.bounds.subscribersMax} watch subscribers`);
    }
    this.subscribers += 1;
    const release = (): void => {
      this.subscribers -= 1;
    };
    return new WatchSubscription(this.store, this.engine, filter, fromRevision, release, this.bounds.bufferEventsMax);
  }

  subscriberCount(): number {
    return this.subscribers;
  }
}
