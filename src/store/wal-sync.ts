/**
 * Makes committed WAL frames durable off the event loop. Under
 * synchronous=FULL, SQLite would fsync the WAL inside every COMMIT, blocking
 * the event loop (and every read) for the disk's flush time, 0.2-10 ms on this
 * kind of machine. A serving store instead runs its connection at NORMAL (WAL
 * synced at checkpoints, database synced after them) and the engine calls
 * `sync` after a COMMIT and acknowledges the writes only when it reports back:
 * the same guarantee as FULL, with the flush in libuv's thread pool.
 * It owns one read-write descriptor on the WAL file; it never writes through it.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

export class WalSync {
  /** The WAL SQLite writes (opened at the first flush, when it surely exists) and its inode. */
  private opened: { fd: number; inode: number } | null = null;

  constructor(private readonly walPath: string) {}

  /**
   * Flushes everything written to the WAL so far (fdatasync covers the writes of
   * every descriptor of the file), then calls `done`; an error means the frames
   * may not be on disk.
   */
  sync(done: (error: Error | null) => void): void {
    let fd: number;
    try {
      fd = this.descriptor();
    } catch (error) {
      queueMicrotask(() => done(error as Error));
      return;
    }
    fdatasync(fd, (error) => done(error));
  }

  /**
   * The WAL's descriptor. SQLite keeps one WAL file while a connection is open; if
   * the path no longer names it (removed, replaced), flushing it would not make
   * the frames reachable on disk, so that is an error, never a reopen.
   */
  private descriptor(): number {
    if (this.opened === null) {
      const fd = openSync(this.walPath, 'r+');
      this.opened = { fd, inode: fstatSync(fd).ino };
    }
    if (statSync(this.walPath).ino !== this.opened.inode) {
      throw new Error(`${this.walPath} is no longer the write-ahead log this node writes`);
    }
    return this.opened.fd;
  }

  close(): void {
    if (this.opened !== null) closeSync(this.opened.fd);
    this.opened = null;
  }
}
