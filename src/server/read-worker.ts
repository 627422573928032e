/**
 * A read thread of a serving node (node:worker_threads): one read-only SQLite
 * connection (src/store/reader.ts) answering the heavy reads with the main
 * thread's rule code, each in one read transaction whose revision it reports;
 * LIST's answer, Watch snapshot and scan pages come encoded (grpc/list-answer.ts,
 * grpc/watch-page.ts, grpc/scan-page.ts). It never writes; the main thread tells it what each
 * commit forgets. It runs at the node's `--read-thread-nice`.
 */
import { existsSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { heavyReads } from '../directory/heavy-reads.js';
import type { ListInput } from '../directory/list-rules.js';
import { DirectoryError, unavailable } from '../model/errors.js';
import { limits } from '../model/limits.js';
import type { StoreQueries } from '../store/queries.js';
import type { FromReadThread, ToReadThread } from '../store/read-pool.js';
import { ReaderStore } from '../store/reader.js';
import { encodedListRead, listResponseBytes } from './grpc/list-answer.js';
import { encodedScanPage, encodedScanPageRead, type ScanPageInput } from './grpc/scan-page.js';
import { encodedWatchPage, encodedWatchPageRead, type WatchPageInput } from './grpc/watch-page.js';
import { listLegs, wallMs } from './list-legs.js';
import { encodedLookupRead, lookupResponseBytes } from './grpc/lookup-answer.js';

type Read = (store: StoreQueries, input: never, revision: number) => unknown;

/** Every read a thread runs: the directory's heavy reads, and LIST, lookup batches, Watch snapshot and scan pages answered as gRPC bytes. */
const reads: Record<string, Read> = {
  ...heavyReads,
  [encodedListRead]: (store: StoreQueries, input: ListInput, revision: number) => {
    if (listLegs === null) return listResponseBytes({ value: heavyReads.list(store, input), revision });
    const takenMs = wallMs();
    const value = heavyReads.list(store, input);
    const readMs = wallMs();
    const bytes = listResponseBytes({ value, revision });
    listLegs.call([takenMs, readMs, wallMs()]);
    return bytes;
  },
  [encodedLookupRead]: (store: StoreQueries, names: string[], revision: number) =>
    lookupResponseBytes(names, { value: store.mailboxesByNames(names), revision }),
  [encodedWatchPageRead]: (store: StoreQueries, input: WatchPageInput) => encodedWatchPage(store, input),
  [encodedScanPageRead]: (store: StoreQueries, input: ScanPageInput) => encodedScanPage(store, input),
};

interface ThreadData {
  dataDir: string;
  cacheMebibytes: number;
  nice: number;
}

/**
 * Lowers this thread's CPU priority to `nice` (Linux: a thread is a task of its
 * own, named by /proc/thread-self), so the main thread's lookups take a core
 * first. Where there is no such file it leaves the priority as it is.
 */
function lowerThreadPriority(nice: number): void {
  if (nice === 0 || !existsSync('/proc/thread-self')) return;
  const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  setPriority(threadId, nice);
}

const port = parentPort;
if (port === null) throw new Error('read-worker.ts runs as a worker thread only');
const data = workerData as ThreadData;
lowerThreadPriority(data.nice);
const store = new ReaderStore(data.dataDir, data.cacheMebibytes);

function answer(message: Extract<ToReadThread, { type: 'read' }>, attempt: number): void {
  const { id, kind, input, atLeast } = message;
  try {
    const read = Object.hasOwn(reads, kind) ? reads[kind] : undefined;
    if (read === undefined) throw new Error(`read thread: unknown read ${JSON.stringify(kind)}`);
    const result = store.readSnapshot(atLeast, (revision) => ({ value: read(store, input as never, revision), revision }));
    if (result === null) {
      if (attempt >= limits.readSnapshotRetriesMax) {
        throw unavailable(`read thread: its snapshot stayed older than revision ${atLeast} for ${attempt} ms; retry`);
      }
      setTimeout(() => answer(message, attempt + 1), 1);
      return;
    }
    port?.postMessage({ type: 'answer', id, value: result.value, revision: result.revision } satisfies FromReadThread);
  } catch (error) {
    const errorKind = error instanceof DirectoryError ? error.kind : null;
    port?.postMessage({ type: 'failed', id, errorKind, message: (error as Error).message } satisfies FromReadThread);
  }
}

port.on('message', (message: ToReadThread) => {
  switch (message.type) {
    case 'read':
      answer(message, 0);
      return;
    case 'invalidate':
      for (const forget of message.forgets) store.forget(forget.uniqueid, forget.acl);
      store.applied(message.revision);
      return;
    case 'reset':
      store.reset(message.revision);
      return;
    case 'stop':
      listLegs?.write();
      store.close();
      port.close();
      return;
  }
});
port.postMessage({ type: 'ready' } satisfies FromReadThread);
