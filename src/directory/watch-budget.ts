/**
 * The memory budget all Watch subscribers of one node share. Each subscriber
 * reports what it holds: the unsent rest of a snapshot or catch-up page (its
 * own records, counted by an estimate of their size) and its queue of live
 * items (shared by every subscriber, so counted per reference). When the total
 * passes the budget, the subscribers blocked longest (their transports stopped
 * taking data first: the slowest) first let go of what the store can give
 * them again (the unsent rest of a snapshot page); only if that is not enough
 * are they cut off with the resumable status, slowest first, until it fits.
 * It never touches a subscriber that is not blocked: one that reads is never
 * the cost.
 */
import type { MailboxRecord } from '../model/records.js';
import type { WatchItem } from './watch.js';

/** Bytes one live item costs each subscriber that queues it: a reference and its array slot, not the shared item. */
export const liveItemReferenceBytes = 32;

/** Fixed cost of one record object in memory (the object, numbers, state strings). */
const recordBaseBytes = 320;

/** A cheap estimate of the memory one record pins (JS strings are UTF-16: two bytes a character). */
export function recordBytesEstimate(mailbox: MailboxRecord): number {
  let bytes = recordBaseBytes + 2 * (mailbox.name.length + mailbox.uniqueid.length + mailbox.server.length + mailbox.partition.length);
  for (const entry of mailbox.acl) bytes += 64 + 2 * (entry.identifier.length + entry.rights.length);
  bytes += 96 * mailbox.replicas.length;
  for (const name of mailbox.nameHistory) bytes += 48 + 2 * name.length;
  return bytes;
}

/** The estimate of one page item: a record's, or a little for a marker. */
export function pageItemBytes(item: WatchItem): number {
  if (item.encoded !== undefined) return 64 + item.encoded.byteLength;
  return item.mailbox === null ? 64 : recordBytesEstimate(item.mailbox);
}

/** What the budget asks of a subscriber it cuts off. */
export interface BudgetedSubscriber {
  /** Bytes it holds now. */
  heldBytes(): number;
  /** Lets go of what it can read again later (it goes on where it was); it holds fewer bytes after. */
  releaseRereadable(): void;
  /** Ends it with the resumable status, saying the node's watch memory is full. */
  cutOffForBudget(budgetBytes: number): void;
}

export class WatchBudget {
  private totalBytes = 0;
  /** Subscribers whose transport is blocked, in the order they blocked: the first is the slowest. */
  private readonly blocked = new Set<BudgetedSubscriber>();
  private shedding = false;

  constructor(readonly budgetBytes: number) {}

  /** Bytes all subscribers hold now. */
  heldBytes(): number {
    return this.totalBytes;
  }

  /** A subscriber holds `deltaBytes` more (or fewer, when negative); past the budget, the slowest go. */
  hold(deltaBytes: number): void {
    this.totalBytes += deltaBytes;
    if (deltaBytes > 0 && this.totalBytes > this.budgetBytes) this.shed();
  }

  /** The subscriber's transport stopped taking data. */
  block(subscriber: BudgetedSubscriber): void {
    this.blocked.delete(subscriber);
    this.blocked.add(subscriber);
  }

  /** The subscriber's transport takes data again, or the subscriber ended. */
  unblock(subscriber: BudgetedSubscriber): void {
    this.blocked.delete(subscriber);
  }

  /**
   * Blocked subscribers, slowest first, let go of what they can read again;
   * then those still holding bytes are cut off, slowest first, until the
   * total fits (or none is left).
   */
  private shed(): void {
    if (this.shedding) return; // a release or cut-off frees bytes, which calls hold() again
    this.shedding = true;
    try {
      for (const subscriber of this.blocked) {
        if (this.totalBytes <= this.budgetBytes) return;
        subscriber.releaseRereadable();
      }
      for (const subscriber of this.blocked) {
        if (this.totalBytes <= this.budgetBytes) return;
        if (subscriber.heldBytes() === 0) continue;
        this.blocked.delete(subscriber);
        subscriber.cutOffForBudget(this.budgetBytes);
      }
    } finally {
      this.shedding = false;
    }
  }
}
