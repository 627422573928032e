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
  private fd: number | null = null;

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
   * The WAL's descriptor, reopened if SQLite replaced the file (it deletes it when
   * its last connection closes, so a serving store keeps the same one).
   */
  private descriptor(): number {
    const onDisk = statSync(this.walPath).ino;
    if (this.fd !== null && fstatSync(this.fd).ino === onDisk) return this.fd;
    this.close();
    this.fd = openSync(this.walPath, 'r+');
    return this.fd;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
