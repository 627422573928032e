/**
 * Remembered answers of routeUser (a route, or the error it threw), so that
 * the socketmap and Dovecot, which ask once per recipient and per login, do
 * not read SQLite for a user whose records have not changed. Never stale: the
 * engine's applied-changes listener runs in the same synchronous step as every
 * write to the store (standalone commits, etcd watch events, relists), and it
 * forgets the users a change touches: a mailbox put or delete (its owner, and
 * before a rename the old name's owner), a user put or delete; any server
 * change, and any kind of change it does not know, forgets everything.
 * Bounded by `limits.routeCacheEntriesMax`: the oldest entry goes first.
 */
import { DirectoryError } from '../model/errors.js';
import { ownerOf } from '../model/names.js';
import type { ChangeEvent } from '../model/records.js';
import type { RouteNeed, UserRoute } from './placement-rules.js';

type Remembered = { route: UserRoute } | { error: DirectoryError };

export class RouteCache {
  /** Keyed by `need\nuser`; per user, the needs it was asked for (to forget them together). */
  private readonly entries = new Map<string, Remembered>();

  constructor(private readonly entriesMax: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The remembered answer, or computes it with `route` (throwing its error, remembered if typed). */
  route(user: string, need: RouteNeed, route: () => UserRoute): UserRoute {
    const key = `${need}\n${user}`;
    let remembered = this.entries.get(key);
    if (remembered === undefined) {
      try {
        remembered = { route: route() };
      } catch (error) {
        // An untyped error (SQLite failing) is not an answer about the user: not remembered.
        if (!(error instanceof DirectoryError)) throw error;
        remembered = { error };
      }
      if (this.entries.size >= this.entriesMax) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, remembered);
    }
    if ('error' in remembered) throw remembered.error;
    return remembered.route;
  }

  /** Forgets what `events` may have changed. */
  invalidate(events: readonly ChangeEvent[]): void {
    for (const { change } of events) {
      switch (change.kind) {
        case 'mailbox.put':
          this.forgetOwnerOf(change.mailbox.name);
          if (change.previous !== undefined) this.forgetOwnerOf(change.previous.name);
          break;
        case 'mailbox.delete':
          this.forgetOwnerOf(change.mailbox.name);
          break;
        case 'user.put':
          this.forget(change.user.user);
          break;
        case 'user.delete':
          this.forget(change.user);
          break;
        case 'business.put':
        case 'lock.put':
        case 'lock.delete':
          break;
        default:
          // server.put (an address or state changed) and anything new: forget everything.
          this.entries.clear();
      }
    }
  }

  private forgetOwnerOf(name: string): void {
    const owner = ownerOf(name);
    if (owner !== null) this.forget(owner);
  }

  private forget(user: string): void {
    this.entries.delete(`imap\n${user}`);
    this.entries.delete(`lmtp\n${user}`);
    this.entries.delete(`pop3\n${user}`);
  }
}
