/**
 * Background WAL checkpoints for a serving node. SQLite's own auto-checkpoint
 * runs inside the COMMIT that crosses its threshold, on the event loop: it
 * copies up to a thousand pages into the database file and fsyncs it while
 * every caller waits. Here a worker thread with its own connection runs a
 * PASSIVE checkpoint (it never blocks the writer, nor waits for it) after every
 * thousand or so committed changes, one at a time; the writer keeps SQLite's
 * auto-checkpoint only as a backstop at a larger threshold, for a worker that
 * falls behind. The worker never writes a row; it only checkpoints.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Changes committed between two background checkpoints (5-8 WAL pages each for a create): two fsyncs per 1,024 changes. */
export const checkpointEveryChanges = 1024;
/** WAL pages at which the writer checkpoints itself, should the worker fall behind (SQLite's default is 1000). */
export const walBackstopCheckpointPages = 16_000;
/** WAL pages at which the writer checkpoints without a worker (SQLite's default). */
export const walAutocheckpointPages = 1000;

// CommonJS, evaluated in the worker: the driver path comes from the parent, so the worker
// resolves nothing itself (it runs the same from dist/ and from the TypeScript sources).
// Each 'checkpoint' message runs one PASSIVE checkpoint and is answered when done.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.databasePath, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = 0');
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    if (!/SQLITE_BUSY|database is locked/.test(String(error))) throw error;
  }
  parentPort.postMessage('done');
});
`;

export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private changesSinceCheckpoint = 0;
  private running = false;

  /** Starts checkpointing `databasePath`; `onFailure` is told if the worker dies (the writer must checkpoint again). */
  constructor(databasePath: string, synchronous: string, onFailure: (error: Error) => void) {
    const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: { driverPath, databasePath, synchronous },
    });
    this.worker.unref();
    this.worker.on('message', () => {
      this.running = false;
    });
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('error', (error) => onFailure(error));
      this.worker.once('exit', () => resolve());
    });
  }

  /** Counts committed changes; asks for a checkpoint every checkpointEveryChanges, one at a time. */
  committed(changes: number): void {
    this.changesSinceCheckpoint += changes;
    if (this.running || this.changesSinceCheckpoint < checkpointEveryChanges) return;
    this.changesSinceCheckpoint = 0;
    this.running = true;
    this.worker.postMessage('checkpoint');
  }

  /** Stops the worker after its current checkpoint and waits for it to close its connection. */
  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await this.exited;
  }
}
