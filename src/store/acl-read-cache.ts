/**
 * The mailboxes whose ACL names a group or `anyone`, kept decoded between
 * LISTs: every member of a business reads the same group and `anyone` rows on
 * every LIST, and those rows change rarely. Only the store fills and empties
 * it: `forget(uniqueid, acl)` runs for every mailbox put or deleted, before
 * the change is visible, and drops each identifier whose rows held that
 * mailbox or that its ACL names. Bounded in identifiers, in rows per
 * identifier (a bigger set is read from SQLite every time, never cached) and in
 * rows in all; the reverse map (uniqueid -> identifiers) holds only the rows
 * kept, so it is bounded by them (least recently used identifier out first).
 */
import { indexedIdentifier, type AclEntry } from '../model/acl.js';
import type { MailboxRecord } from '../model/records.js';

/** Identifiers whose rows are kept at most (least recently used first out). */
export const aclReadCacheIdentifiersMax = 4096;
/** Rows one identifier may have and still be kept. */
export const aclReadCacheRowsMax = 2000;
/** Rows kept in all, over every identifier (each a decoded record: about a kilobyte). */
export const aclReadCacheRowsTotalMax = 100_000;

export interface CachedAclRow {
  mailbox: MailboxRecord;
  key: Buffer;
}

export interface AclReadCacheBounds {
  identifiersMax: number;
  rowsMax: number;
  rowsTotalMax: number;
}

const defaultBounds: AclReadCacheBounds = {
  identifiersMax: aclReadCacheIdentifiersMax,
  rowsMax: aclReadCacheRowsMax,
  rowsTotalMax: aclReadCacheRowsTotalMax,
};

export class AclReadCache {
  private readonly rowsByIdentifier = new Map<string, readonly CachedAclRow[]>();
  /** uniqueid -> identifiers whose kept rows hold it (emptied with them). */
  private readonly identifiersByUniqueid = new Map<string, Set<string>>();
  private rowsHeld = 0;

  constructor(private readonly bounds: AclReadCacheBounds = defaultBounds) {}

  /** Identifiers kept, rows kept in all, and uniqueids in the reverse map. */
  get sizes(): { identifiers: number; rows: number; uniqueids: number } {
    return { identifiers: this.rowsByIdentifier.size, rows: this.rowsHeld, uniqueids: this.identifiersByUniqueid.size };
  }

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
    if (rows.length > this.bounds.rowsMax || rows.length > this.bounds.rowsTotalMax) return;
    this.drop(identifier);
    while (
      this.rowsByIdentifier.size > 0 &&
      (this.rowsByIdentifier.size >= this.bounds.identifiersMax || this.rowsHeld + rows.length > this.bounds.rowsTotalMax)
    ) {
      const oldest = this.rowsByIdentifier.keys().next().value as string;
      this.drop(oldest);
    }
    this.rowsByIdentifier.set(identifier, rows);
    this.rowsHeld += rows.length;
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
    for (const entry of acl) this.drop(indexedIdentifier(entry.identifier));
    const identifiers = this.identifiersByUniqueid.get(uniqueid);
    if (identifiers === undefined) return;
    for (const identifier of [...identifiers]) this.drop(identifier);
  }

  clear(): void {
    this.rowsByIdentifier.clear();
    this.identifiersByUniqueid.clear();
    this.rowsHeld = 0;
  }

  /** Drops an identifier's rows and their entries in the reverse map. */
  private drop(identifier: string): void {
    const rows = this.rowsByIdentifier.get(identifier);
    if (rows === undefined) return;
    this.rowsByIdentifier.delete(identifier);
    this.rowsHeld -= rows.length;
    for (const row of rows) {
      const identifiers = this.identifiersByUniqueid.get(row.mailbox.uniqueid);
      identifiers?.delete(identifier);
      if (identifiers?.size === 0) this.identifiersByUniqueid.delete(row.mailbox.uniqueid);
    }
  }
}
