/**
 * The rule for `backend:SERVER` principals: a backend may write only mailboxes
 * located on its own server. It wraps any decision: every mailbox the changes
 * touch must be on SERVER before (if it existed) and after, except that a
 * backend may add itself as a replica of another server's mailbox (a replica
 * pair) or take itself off one, and may hand its own mailbox over to another
 * server as a reservation (MUPDATE DEACTIVATE, the first step of a Cyrus XFER)
 * and take such a hand-off back (the ACTIVATE at itself a failed XFER sends).
 * A mailbox entering a hierarchy (created, or renamed into it) must
 * also enter one homed on SERVER, or one SERVER is a declared replica of: a
 * backend cannot plant a folder in another server's user (it would show in that
 * user's LIST and block their move); a folder an admin placed on SERVER inside
 * another server's hierarchy stays SERVER's to update. Renaming or moving a
 * mailbox off SERVER, and any change to servers, businesses or users, is
 * denied. Engines and rules stay unaware of principals.
 */
import { permissionDenied, quote } from '../model/errors.js';
import type { Change, MailboxRecord } from '../model/records.js';
import type { DecideFunction, Decision } from '../replication/engine.js';
import type { Store } from '../store/store.js';
import { hierarchyHomedElsewhere } from './mailbox-rules.js';

function onlyAddsReplica(before: MailboxRecord, after: MailboxRecord, server: string): boolean {
  const added = after.replicas.filter((replica) => !before.replicas.some((old) => old.server === replica.server));
  const kept = before.replicas.every((old) => after.replicas.some((replica) => replica.server === old.server));
  return (
    after.server === before.server &&
    after.name === before.name &&
    kept &&
    added.length === 1 &&
    added[0]?.server === server
  );
}

/** Throws unless `mailbox`, entering its hierarchy, enters one homed on (or replicated to) `server`. */
function checkEnteredHierarchy(store: Store, mailbox: MailboxRecord, server: string): void {
  const home = hierarchyHomedElsewhere(store, mailbox, server);
  if (home === undefined) return;
  throw permissionDenied(
    `backend:${server} may write only inside hierarchies on ${server}: ${quote(mailbox.name)} would be in the ` +
      `hierarchy of ${quote(home.name)}, on ${home.server} (an admin may place it there)`,
  );
}

/** The change only takes `server` off the mailbox's replicas (a replica's DELETE, or a sync that no longer lists it). */
function onlyRemovesReplica(before: MailboxRecord, after: MailboxRecord, server: string): boolean {
  const kept = before.replicas.filter((replica) => replica.server !== server);
  return (
    after.server === before.server &&
    after.name === before.name &&
    kept.length === before.replicas.length - 1 &&
    after.replicas.length === kept.length &&
    after.replicas.every((replica) => kept.some((old) => old.server === replica.server))
  );
}

/** A backend hands its active mailbox over (MUPDATE DEACTIVATE before an XFER): RESERVED elsewhere, same name, no ACL. */
function isHandOff(before: MailboxRecord | undefined, after: MailboxRecord, server: string): boolean {
  return before !== undefined && before.server === server && before.name === after.name && after.state === 'RESERVED' && after.acl.length === 0;
}

/**
 * A backend takes back a mailbox handed off and not yet activated (a failed
 * XFER's recovery ACTIVATEs it at its source): the record before is a hand-off
 * (RESERVED, no ACL, no expiry: only DEACTIVATE leaves that), the record after
 * the same name, on `server`. The hand-off does not name its source, so any
 * backend could take it back during the transfer, as under Cyrus's master.
 */
function isTakeBack(before: MailboxRecord, after: MailboxRecord, server: string): boolean {
  return (
    before.state === 'RESERVED' && before.reservedUntilMs === 0 && before.acl.length === 0 &&
    after.name === before.name && after.server === server
  );
}

function checkChange(store: Store, change: Change, server: string): void {
  const denied = (what: string): never => {
    throw permissionDenied(`backend:${server} may write only mailboxes located on ${server}: ${what}`);
  };
  switch (change.kind) {
    case 'mailbox.delete':
      if (change.mailbox.server !== server) denied(`${quote(change.mailbox.name)} is on ${change.mailbox.server}`);
      return;
    case 'mailbox.put': {
      const before = store.mailboxByUniqueid(change.mailbox.uniqueid);
      if (before !== undefined && before.server !== server) {
        if (onlyAddsReplica(before, change.mailbox, server) || onlyRemovesReplica(before, change.mailbox, server)) return;
        if (isTakeBack(before, change.mailbox, server)) return;
        denied(`${quote(before.name)} is on ${before.server}`);
      }
      if (change.mailbox.server !== server) {
        if (isHandOff(before, change.mailbox, server)) return;
        denied(`${quote(change.mailbox.name)} would be on ${change.mailbox.server}`);
      }
      if (before === undefined || before.name !== change.mailbox.name) checkEnteredHierarchy(store, change.mailbox, server);
      return;
    }
    default:
      denied(`a ${change.kind} change is not a mailbox write`);
  }
}

/** Wraps a decision so that it commits only if every change stays within `server`. */
export function scopeToServer<T>(decide: DecideFunction<T>, server: string): DecideFunction<T> {
  return (store: Store): Decision<T> => {
    const decision = decide(store);
    for (const change of decision.changes) checkChange(store, change, server);
    return decision;
  };
}
