/**
 * The mailboxes whose ACL names a group or `anyone`, kept decoded between
 * LISTs: every member of a business reads the same group and `anyone` rows on
 * every LIST, and those rows change rarely. Only the store fills and empties
 * it: `forget(uniqueid, acl)` runs for every mailbox put or deleted, before
 * the change is visible, and drops each identifier whose rows held that
 * mailbox or that its ACL names. Bounded in identifiers and in rows per
 * identifier (a bigger set is read from SQLite every time, never cached).
 */
import { indexedIdentifier, type AclEntry } from '../model/acl.js';
import type { MailboxRecord } from '../model/records.js';

/** Identifiers whose rows are kept at most (least recently used first out). */
export const aclReadCacheIdentifiersMax = 4096;
/** Rows one identifier may have and still be kept. */
export const aclReadCacheRowsMax = 2000;

export interface CachedAclRow {
  mailbox: MailboxRecord;
  key: Buffer;
}

export class AclReadCache {
  private readonly rowsByIdentifier = new Map<string, readonly CachedAclRow[]>();
  /** uniqueid -> identifiers whose cached rows hold it (may name identifiers since dropped). */
  private readonly identifiersByUniqueid = new Map<string, Set<string>>();

  get(identifier: string): readonly CachedAclRow[] | undefined {
    const rows = this.rowsByIdentifier.get(identifier);
    if (rows !== undefined) {
      this.rowsByIdentifier.delete(identifier); // most recently used goes last
      this.rowsByIdentifier.set(identifier, rows);
    }
    return rows;
  }

  /** Keeps `rows` as everything whose ACL names `identifier` (the caller read all of them). */
  put(identifier: string, rows: readonly CachedAclRow[]): void {
    if (rows.length > aclReadCacheRowsMax) return;
    if (this.rowsByIdentifier.size >= aclReadCacheIdentifiersMax) {
      const oldest = this.rowsByIdentifier.keys().next().value;
      if (oldest !== undefined) this.rowsByIdentifier.delete(oldest);
    }
    this.rowsByIdentifier.set(identifier, rows);
    for (const row of rows) {
      let identifiers = this.identifiersByUniqueid.get(row.mailbox.uniqueid);
      if (identifiers === undefined) {
        identifiers = new Set();
        this.identifiersByUniqueid.set(row.mailbox.uniqueid, identifiers);
      }
      identifiers.add(identifier);
    }
  }

  /** A mailbox is put or deleted: drop every identifier it was cached under or that its ACL names now. */
  forget(uniqueid: string, acl: readonly AclEntry[]): void {
    for (const entry of acl) this.rowsByIdentifier.delete(indexedIdentifier(entry.identifier));
    const identifiers = this.identifiersByUniqueid.get(uniqueid);
    if (identifiers === undefined) return;
    for (const identifier of identifiers) this.rowsByIdentifier.delete(identifier);
    this.identifiersByUniqueid.delete(uniqueid);
  }

  clear(): void {
    this.rowsByIdentifier.clear();
    this.identifiersByUniqueid.clear();
  }
}
