/**
 * One MUPDATE UPDATE follower (a Cyrus frontend or a partial-UPDATE backend):
 * the dump of MAILBOX and RESERVE lines in sort-key order from the directory's watch
 * snapshot, `OK "streaming starts"`, then live changes. Live changes are
 * coalesced by name, as Cyrus's pending list is: the queue holds names, and
 * each name's current state is sent when the socket takes it, so a slow
 * follower costs at most `pendingNamesMax` names, never a growing backlog;
 * past that it is cut off. No protocol parsing and no rule here.
 */
import type { WatchItem, WatchSink } from '../../directory/watch.js';
import { resourceExhausted } from '../../model/errors.js';
import type { MailboxRecord } from '../../model/records.js';
import type { ResponseWriter } from './writer.js';

export interface FollowerOutput {
  /** Writes text; false when the socket holds enough and the follower should wait for `resume`. */
  write(text: string): boolean;
  /** The follower ended on its own (cut off, or its watch failed): answer and close. */
  end(error: Error): void;
}

export class UpdateFollower implements WatchSink {
  private live = false;
  private readonly pending = new Set<string>();
  private blocked = false;
  private ended = false;
  private readonly liveWaiters: Array<() => void> = [];

  constructor(
    private readonly tag: string,
    private readonly writer: ResponseWriter,
    private readonly output: FollowerOutput,
    private readonly currentState: (name: string) => MailboxRecord | undefined,
    private readonly pendingNamesMax: number,
  ) {}

  /** Watch: one item. The dump is written as it comes (false pauses the watch); live items queue names. */
  send(item: WatchItem): boolean {
    if (this.ended) return true;
    if (!this.live) return this.sendDumpItem(item);
    if ((item.type === 'PUT' || item.type === 'DELETE') && item.mailbox !== null) {
      this.pending.add(item.mailbox.name);
      if (this.pending.size > this.pendingNamesMax) {
        this.end(resourceExhausted(`UPDATE follower fell more than ${this.pendingNamesMax} changed names behind`));
        return true;
      }
      if (!this.blocked) this.flush(false);
    }
    return true;
  }

  end(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.pending.clear();
    this.output.end(error);
  }

  /** Resolves once the dump is out and `OK "streaming starts"` written. */
  whenLive(): Promise<void> {
    if (this.live) return Promise.resolve();
    return new Promise((resolve) => this.liveWaiters.push(resolve));
  }

  /** Names queued and not yet sent. */
  pendingNames(): number {
    return this.pending.size;
  }

  /** The socket drained: go on with the queued names. */
  resume(): void {
    this.blocked = false;
    if (this.live) this.flush(false);
  }

  /**
   * Sends queued names' current state until the socket is full, or all of them
   * when `all` (NOOP: the follower must be current before `Noop done`; bounded
   * by pendingNamesMax).
   */
  flush(all: boolean): void {
    for (const name of this.pending) {
      if (this.ended || (this.blocked && !all)) return;
      this.pending.delete(name);
      const mailbox = this.currentState(name);
      const line = mailbox === undefined ? this.writer.deleted(this.tag, name) : this.writer.mailbox(this.tag, mailbox);
      if (!this.output.write(line)) this.blocked = true;
    }
  }

  private sendDumpItem(item: WatchItem): boolean {
    if (item.type === 'SNAPSHOT' && item.mailbox !== null) {
      const accepted = this.output.write(this.writer.mailbox(this.tag, item.mailbox));
      this.blocked = !accepted;
      return accepted;
    }
    if (item.type === 'SNAPSHOT_END') {
      this.live = true;
      const accepted = this.output.write(this.writer.ok(this.tag, 'streaming starts'));
      this.blocked = !accepted;
      for (const resolve of this.liveWaiters.splice(0)) resolve();
      return true;
    }
    // A live change before the snapshot ends cannot come (the watch sends the snapshot first); queue it anyway.
    if (item.mailbox !== null) this.pending.add(item.mailbox.name);
    return true;
  }
}
