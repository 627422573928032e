/**
 * A read thread of a serving node (node:worker_threads): one read-only SQLite
 * connection on the node's data directory, answering the directory's heavy
 * reads (src/directory/heavy-reads.ts) with the same rule code as the main
 * thread, each in one read transaction whose revision it reports, and LIST's
 * gRPC answer already encoded (grpc/list-answer.ts). It never writes. Its caches (ACL rows, has-children) hold the state
 * of one revision, `cachesThrough`: the main thread tells it what each commit
 * forgot, and a read whose snapshot is older than that revision bypasses them.
 * A read that needs a revision its snapshot does not hold yet re-reads, bounded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DirectoryError, unavailable } from '../model/errors.js';
import { limits } from '../model/limits.js';
import type { FromReadThread, ToReadThread } from '../store/read-pool.js';

type Read = (store: Store, input: never, revision: number) => unknown;

/** Every read a thread runs: the directory's heavy reads, and LIST answered as gRPC bytes. */
const reads: Record<string, Read> = {
  ...heavyReads,
  [encodedListRead]: (store: Store, input: ListInput, revision: number) => listResponseBytes({ value: heavyReads.list(store, input), revision }),
};
import { Store } from '../store/store.js';
import { heavyReads } from '../directory/heavy-reads.js';
import type { ListInput } from '../directory/list-rules.js';
import { encodedListRead, listResponseBytes } from './grpc/list-answer.js';

interface ThreadData {
  dataDir: string;
  cacheMebibytes: number;
}

const port = parentPort;
if (port === null) throw new Error('read-worker.ts runs as a worker thread only');
const data = workerData as ThreadData;
const store = new Store({ dataDir: data.dataDir, synchronous: 'NORMAL', readOnly: true, cacheMebibytes: data.cacheMebibytes });
/** The revision the caches hold the state of (-1: empty, valid at the next snapshot). */
let cachesThrough = -1;

function cacheModeAt(revision: number): 'use' | 'bypass' | 'clear' {
  if (revision === cachesThrough) return 'use';
  if (revision < cachesThrough) return 'bypass';
  cachesThrough = revision; // forgets of commits up to this snapshot may not have come yet: start empty
  return 'clear';
}

/** Runs one read, or null when the snapshot is older than `atLeast`. */
function readOnce(read: Read, input: unknown, atLeast: number): { value: unknown; revision: number } | null {
  return store.readSnapshot((revision) => {
    if (revision < atLeast) return null;
    store.useCaches(cacheModeAt(revision));
    return { value: read(store, input as never, revision), revision };
  });
}

function answer(message: Extract<ToReadThread, { type: 'read' }>, attempt: number): void {
  const { id, kind, input, atLeast } = message;
  try {
    const read = Object.hasOwn(reads, kind) ? reads[kind] : undefined;
    if (read === undefined) throw new Error(`read thread: unknown read ${JSON.stringify(kind)}`);
    const result = readOnce(read, input, atLeast);
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
      for (const forget of message.forgets) store.forgetCached(forget.uniqueid, forget.acl);
      cachesThrough = Math.max(cachesThrough, message.revision);
      return;
    case 'reset':
      store.useCaches('clear');
      cachesThrough = message.revision;
      return;
    case 'stop':
      store.close();
      port.close();
      return;
  }
});
port.postMessage({ type: 'ready' } satisfies FromReadThread);
