/**
 * Background WAL checkpoints for a serving node. SQLite's own auto-checkpoint
 * runs inside the COMMIT that crosses its threshold, on the event loop: it
 * copies up to a thousand pages into the database file and fsyncs it while
 * every caller waits. Here a worker thread with its own connection runs a
 * PASSIVE checkpoint (it never blocks the writer, nor waits for it) after every
 * thousand or so committed changes, one at a time; the writer keeps SQLite's
 * auto-checkpoint only as a backstop at a larger threshold, for a worker that
 * falls behind. The worker never writes a row; it only checkpoints.
 *
 * Restarting the WAL. SQLite writes the WAL from its start again only when a
 * checkpoint has copied every frame before the next write begins. Under steady
 * writes each checkpoint ends with the frames written while it ran still to
 * copy, so the WAL grew to the backstop (62 MiB), where the writer checkpoints
 * inside its COMMIT, on the event loop. So once the WAL is past
 * `walRestartFrames`, checkpoints run back to back, each copying what the last
 * one left (less each time), and when what is left is small (or after
 * `catchUpRoundsMax` of them, should the writes outpace them) the writes are held
 * for one more checkpoint: it copies everything, and the next write restarts
 * the WAL. Only a checkpoint that reaches the WAL's end fsyncs the database
 * file, and that fsync writes back every page copied since the last one (writes
 * were held 115-170 ms for it: the checkpointer timed during the CreateMailbox
 * bench at 2M); so while catching up the worker
 * writes the pages back itself (fdatasync) after each checkpoint, while the
 * writes go on, and the held checkpoint finds little left (11-19 ms). Reads are
 * never held. A hold is only an optimisation (writing during a PASSIVE
 * checkpoint is always safe) and ends after `writeHoldMsMax` whatever happens.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Changes committed between two background checkpoints (5-8 WAL pages each for a create): two fsyncs per 1,024 changes. */
export const checkpointEveryChanges = 1024;
/** WAL pages at which the writer checkpoints itself, should the worker fall behind (SQLite's default is 1000). */
export const walBackstopCheckpointPages = 16_000;
/** WAL pages at which the writer checkpoints without a worker (SQLite's default). */
export const walAutocheckpointPages = 1000;
/** WAL frames past which checkpoints work towards a restart of the WAL (16 MiB of 4 KiB pages). */
export const walRestartFrames = 4096;
/** Changes committed during a catch-up checkpoint below which the next one holds the writes. */
export const catchUpHoldChanges = 64;
/** Catch-up checkpoints in a row after which the writes are held even if more than catchUpHoldChanges came meanwhile. */
export const catchUpRoundsMax = 4;
/** Longest hold of the writes for a checkpoint; past it they go on and the restart waits. */
export const writeHoldMsMax = 500;

// CommonJS, evaluated in the worker: the driver path comes from the parent, so the worker
// resolves nothing itself (it runs the same from dist/ and from the TypeScript sources).
// Each message runs one PASSIVE checkpoint and is answered with the WAL's frames and the
// frames copied (-1, -1 when a writer's lock made it skip). 'catch-up' then writes the
// database file's pages back (fdatasync on the parent's descriptor, which it never closes:
// closing a descriptor of the file would drop SQLite's locks on it for the whole process).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
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
  let result = { log: -1, checkpointed: -1 };
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    result = { log: row.log, checkpointed: row.checkpointed };
    if (message === 'catch-up') fdatasyncSync(workerData.databaseFd);
  } catch (error) {
    if (!/SQLITE_BUSY|database is locked/.test(String(error))) throw error;
  }
  parentPort.postMessage(result);
});
`;

/** What the worker reports of one checkpoint: WAL frames and frames copied (-1 if skipped). */
interface CheckpointResult {
  log: number;
  checkpointed: number;
}

export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private changesSinceCheckpoint = 0;
  private running = false;
  private lastKind: 'checkpoint' | 'catch-up' = 'checkpoint';
  /** Catch-up checkpoints run since the WAL last restarted or the writes were last held. */
  private catchUpRounds = 0;
  /** Set while the writes are held for a checkpoint that should let the WAL restart. */
  private holdTimer: NodeJS.Timeout | null = null;
  private readonly released: Array<() => void> = [];
  /** Checkpoints run, and holds of the writes for a WAL restart (tests read them). */
  readonly counts = { checkpoints: 0, holds: 0 };

  /**
   * Starts checkpointing `databasePath`; `onFailure` is told if the worker dies (the writer must checkpoint again).
   * `databaseFd` is a descriptor of the database file that the caller closes after its own connection.
   */
  constructor(databasePath: string, databaseFd: number, synchronous: string, onFailure: (error: Error) => void) {
    const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: { driverPath, databasePath, databaseFd, synchronous },
    });
    this.worker.unref();
    this.worker.on('message', (result: CheckpointResult) => this.finished(result));
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('error', (error) => {
        this.releaseWrites();
        onFailure(error);
      });
      this.worker.once('exit', () => {
        this.releaseWrites();
        resolve();
      });
    });
  }

  /** Counts committed changes; asks for a checkpoint every checkpointEveryChanges, one at a time. */
  committed(changes: number): void {
    this.changesSinceCheckpoint += changes;
    if (this.running || this.changesSinceCheckpoint < checkpointEveryChanges) return;
    this.run();
  }

  /** Calls `callback` at once, or when the writes held for a restart-preparing checkpoint may go on. */
  whenReleased(callback: () => void): void {
    if (this.holdTimer === null) callback();
    else this.released.push(callback);
  }

  private run(kind: 'checkpoint' | 'catch-up' = 'checkpoint'): void {
    this.changesSinceCheckpoint = 0;
    this.running = true;
    this.lastKind = kind;
    this.worker.postMessage(kind);
  }

  private finished(result: CheckpointResult): void {
    this.running = false;
    this.counts.checkpoints += 1;
    if (this.holdTimer !== null) {
      this.releaseWrites(); // everything was copied: the next write restarts the WAL
      return;
    }
    if (result.log < walRestartFrames) {
      this.catchUpRounds = 0; // the WAL restarts on its own
      return;
    }
    // Catching up: copy what was written meanwhile and write the pages back, until what is
    // left after a write-back is little (or the writes outpace the catch-up); then hold the
    // writes for the last checkpoint.
    const caughtUp = this.changesSinceCheckpoint <= catchUpHoldChanges || this.catchUpRounds >= catchUpRoundsMax;
    if (this.lastKind !== 'catch-up' || !caughtUp) {
      this.catchUpRounds += 1;
      this.run('catch-up');
      return;
    }
    this.catchUpRounds = 0;
    this.counts.holds += 1;
    this.holdTimer = setTimeout(() => this.releaseWrites(), writeHoldMsMax);
    this.holdTimer.unref();
    this.run();
  }

  private releaseWrites(): void {
    if (this.holdTimer === null) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
    for (const callback of this.released.splice(0)) callback();
  }

  /** Stops the worker after its current checkpoint and waits for it to close its connection. */
  async stop(): Promise<void> {
    // Referenced again: a process whose only work left is this wait (a node that failed to start)
    // would otherwise see its event loop empty and exit 0 before the caller hears the failure.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
