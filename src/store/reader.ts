/**
 * A read thread's store (src/server/read-worker.ts): the store's reads
 * (StoreQueries) on a read-only connection of its own, which WAL lets read
 * beside the writer, each read in one transaction that sees every commit made
 * before it began. Its caches (ACL rows, has-children) hold the state of one
 * revision, `cachesThrough`: the writer tells it what each commit forgets
 * (CacheListener, relayed by read-pool.ts) before that commit is visible; a
 * read whose snapshot is older bypasses them, a newer one empties them first.
 * It never writes, migrates or checkpoints.
 */
import Database from 'better-sqlite3';
import type { AclEntry } from '../model/acl.js';
import { AclReadCache } from './acl-read-cache.js';
import { ChildrenMemo } from './children-memo.js';
import { busyTimeoutMs, existingDatabasePathOf } from './connection.js';
import { StoreQueries, type AclRow } from './queries.js';

export class ReaderStore extends StoreQueries {
  private readonly aclReadCache = new AclReadCache();
  private readonly childrenMemo = new ChildrenMemo();
  /** The revision the caches hold the state of (-1: empty, good for the next snapshot). */
  private cachesThrough = -1;
  /** True while a read's snapshot is older than the caches: it reads SQLite and keeps nothing. */
  private bypassCaches = false;

  /** Opens `dataDir`'s database read-only; it must exist and be migrated (the node's Store opened it first). */
  constructor(dataDir: string, cacheMebibytes: number) {
    const db = new Database(existingDatabasePathOf(dataDir), { readonly: true, fileMustExist: true });
    db.pragma(`cache_size = -${cacheMebibytes * 1024}`);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    super(db);
  }

  /**
   * Runs `read` in one read transaction and gives it the revision its snapshot
   * holds; null (nothing read) when that is older than `atLeast`.
   */
  readSnapshot<T>(atLeast: number, read: (revision: number) => T): T | null {
    return this.db.transaction(() => {
      const revision = this.storedRevision();
      if (revision < atLeast) return null;
      this.bypassCaches = revision < this.cachesThrough;
      if (revision > this.cachesThrough) {
        this.clearCaches(); // forgets of commits up to this snapshot may not have come yet
        this.cachesThrough = revision;
      }
      return read(revision);
    })();
  }

  /** The writer forgot `uniqueid` (a put or delete of a commit to come, or come already). */
  forget(uniqueid: string, acl: readonly AclEntry[]): void {
    this.aclReadCache.forget(uniqueid, acl);
    this.childrenMemo.clear();
  }

  /** Every forget of the commits up to `revision` has been told. */
  applied(revision: number): void {
    this.cachesThrough = Math.max(this.cachesThrough, revision);
  }

  /** The writer rolled back to `revision`: what was told since may never be committed. */
  reset(revision: number): void {
    this.clearCaches();
    this.cachesThrough = revision;
  }

  override hasChildrenOfKey(key: Buffer): boolean {
    if (this.bypassCaches) return super.hasChildrenOfKey(key);
    return this.childrenMemo.hasChildren(key, () => super.hasChildrenOfKey(key));
  }

  protected override aclRows(identifier: string, limit: number): readonly AclRow[] {
    const cached = this.bypassCaches ? undefined : this.aclReadCache.get(identifier);
    if (cached !== undefined) return cached;
    const rows = super.aclRows(identifier, limit);
    if (rows.length < limit && !this.bypassCaches) this.aclReadCache.put(identifier, rows); // only a complete set is kept
    return rows;
  }

  private clearCaches(): void {
    this.aclReadCache.clear();
    this.childrenMemo.clear();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
