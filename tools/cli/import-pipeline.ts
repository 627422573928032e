/**
 * The fast import of a dump into an EMPTY data directory, on more than one
 * thread: this thread reads the file in 1 MiB chunks cut at line ends and
 * loads packed rows into SQLite, while worker threads (import-worker.ts) parse
 * and check the chunks, taking them in turn. Chunks are loaded in file order,
 * so the first of two entries for a name wins as it does line by line, and at
 * most `chunksInFlightPerWorker` chunks per worker are held (never the whole
 * file). A bad line stops the load after the lines before it, with the same
 * message (`FILE:LINE: why`) as the line-at-a-time import.
 */
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { dumpLineBytesMax } from '../../src/model/cyrus-dump.js';
import { invalidArgument } from '../../src/model/errors.js';
import type { ImportOptions, ParsedChunk } from './import-parse.js';
import type { DataDirSink } from './mailbox-sinks.js';

/** Parsing threads at most; fewer on a machine with fewer cores (one always). */
export const importParseWorkersMax = 2;
/** Chunks sent to a worker and not yet loaded, per worker: one being parsed, one waiting. */
const chunksInFlightPerWorker = 2;
/**
 * Young generation of a parsing thread (V8 keeps it at three semi-spaces): 64 MiB
 * semi-spaces instead of 16 let a chunk's short-lived strings die young, which
 * took a quarter or more off the thread's CPU per mailbox in measurements here.
 */
const parseWorkerYoungGenerationMb = 192;
/** Bytes read from the dump at a time. */
export const importChunkBytes = 1 << 20;
const newline = 0x0a;

/** What the load counts beside the sink's own counts. */
export interface LoadCounts {
  mailboxes: number;
  tombstones: number;
  generatedUniqueids: number;
  serversFromFlag: number;
}

/** Told after each chunk loaded: the dump's bytes done and the mailboxes read so far. */
export type LoadProgress = (bytesDone: number, mailboxes: number) => void;

interface Waiter {
  resolve: (chunk: ParsedChunk) => void;
  reject: (error: Error) => void;
}

/** The parsing threads, each answering its chunks in the order it got them. */
class ParseWorkers {
  private readonly workers: Worker[] = [];
  private readonly waiters: Waiter[][] = [];
  private next = 0;
  private closing = false;

  constructor(count: number, options: ImportOptions, script: URL) {
    for (let index = 0; index < count; index += 1) {
      const worker = new Worker(script, { workerData: { options }, resourceLimits: { maxYoungGenerationSizeMb: parseWorkerYoungGenerationMb } });
      const waiters: Waiter[] = [];
      worker.on('message', (chunk: ParsedChunk) => waiters.shift()?.resolve(chunk));
      // A thread's error comes before its last messages may have been read: the chunks it
      // answered still load, and what waits is failed once it has exited.
      let failure: string | null = null;
      worker.on('error', (error) => {
        failure ??= `import parsing thread failed: ${error.message}`;
      });
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(waiters, failure ?? `import parsing thread exited (code ${code}) before it answered`);
      });
      this.workers.push(worker);
      this.waiters.push(waiters);
    }
  }

  /** Parses a chunk of whole lines on the next worker in turn (the bytes are transferred, not copied). */
  parse(bytes: Uint8Array): Promise<ParsedChunk> {
    const index = this.next % this.workers.length;
    this.next += 1;
    const promise = new Promise<ParsedChunk>((resolve, reject) => this.waiters[index]?.push({ resolve, reject }));
    // Awaited in order later; a failure before then must not count as unhandled.
    promise.catch(() => undefined);
    this.workers[index]?.postMessage({ bytes }, [bytes.buffer as ArrayBuffer]);
    return promise;
  }

  private fail(waiters: Waiter[], message: string): void {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(message));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/**
 * A byte stream cut into chunks of whole lines (each ends with a newline but
 * the last), copied into buffers of their own so they can be transferred. A
 * line longer than `lineBytesMax` is refused once that much of it is held.
 */
export async function* wholeLineChunks(input: AsyncIterable<Buffer>, lineBytesMax: number): AsyncGenerator<Uint8Array> {
  let carry = Buffer.alloc(0);
  for await (const chunk of input) {
    const lastNewline = chunk.lastIndexOf(newline);
    if (lastNewline < 0) {
      carry = Buffer.concat([carry, chunk]);
    } else {
      const piece = new Uint8Array(carry.length + lastNewline + 1);
      piece.set(carry, 0);
      piece.set(chunk.subarray(0, lastNewline + 1), carry.length);
      carry = Buffer.from(chunk.subarray(lastNewline + 1));
      yield piece;
    }
    if (carry.length > lineBytesMax) throw invalidArgument(`dump line longer than ${lineBytesMax} bytes`);
  }
  if (carry.length > 0) yield new Uint8Array(carry);
}

/** The parsing thread's script, beside this module once compiled. */
export const importWorkerScript = new URL('./import-worker.js', import.meta.url);

/** Parsing threads for this machine: one per core left beside this thread, at least one, at most the maximum. */
export function parseWorkersFor(cores = availableParallelism()): number {
  return Math.max(1, Math.min(importParseWorkersMax, cores - 1));
}

/**
 * Loads a dump file into a sink that takes packed rows (an empty data
 * directory); adds to `counts` as it goes. Throws `FILE:LINE: why` on the
 * first bad line, after loading the lines before it.
 */
export async function loadPackedDump(
  path: string,
  sink: DataDirSink,
  options: ImportOptions,
  counts: LoadCounts,
  progress: LoadProgress,
  threads: { count: number; script: URL } = { count: parseWorkersFor(), script: importWorkerScript },
): Promise<void> {
  const workerCount = threads.count;
  const workers = new ParseWorkers(workerCount, options, threads.script);
  const pending: Array<{ chunk: Promise<ParsedChunk>; bytes: number }> = [];
  let lineBase = 0;
  let bytesDone = 0;
  const loadNext = async (): Promise<void> => {
    const next = pending.shift();
    if (next === undefined) return;
    const chunk = await next.chunk;
    if (chunk.packed !== '' || chunk.reservations.length > 0) sink.addPacked(chunk.packed, chunk.reservations);
    counts.mailboxes += chunk.mailboxes;
    counts.tombstones += chunk.tombstones;
    counts.generatedUniqueids += chunk.generatedUniqueids;
    counts.serversFromFlag += chunk.serversFromFlag;
    if (chunk.failure !== null) throw new Error(`${path}:${lineBase + chunk.failure.line}: ${chunk.failure.message}`);
    lineBase += chunk.lines;
    bytesDone += next.bytes;
    progress(bytesDone, counts.mailboxes);
  };
  const input = createReadStream(path, { highWaterMark: importChunkBytes });
  const reading = wholeLineChunks(input, dumpLineBytesMax);
  try {
    let readFailure: Error | null = null;
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await reading.next();
      } catch (error) {
        // The lines read before the one refused are loaded first, as line by line.
        readFailure = new Error(`${path}: ${(error as Error).message}`);
        break;
      }
      if (next.done === true) break;
      // Its length first: handing the chunk over detaches its bytes from this thread.
      const bytes = next.value.length;
      pending.push({ chunk: workers.parse(next.value), bytes });
      while (pending.length >= workerCount * chunksInFlightPerWorker) await loadNext();
    }
    while (pending.length > 0) await loadNext();
    if (readFailure !== null) throw readFailure;
  } finally {
    input.destroy();
    await workers.close();
  }
}
