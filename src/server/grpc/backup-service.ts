/**
 * gRPC adapter for Cluster.Backup (admin only, roles.ts): asks the directory
 * for a consistent copy of the node's database, streams it in chunks of
 * limits.backupChunkBytes (waiting on the transport, so memory stays one
 * chunk), and removes the copy however the call ends. At most
 * limits.backupsConcurrentMax backups run at once; one more is refused.
 */
import type * as grpc from '@grpc/grpc-js';
import { open, rm } from 'node:fs/promises';
import type { Directory } from '../../directory/directory.js';
import { resourceExhausted, unavailable } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import { serverStream, writeWithBackpressure, type CallContext } from './calls.js';

type Request = Record<string, unknown>;
type Response = Record<string, unknown>;

export function clusterAdminService(context: CallContext): grpc.UntypedServiceImplementation {
  let running = 0;
  return {
    Backup: serverStream<Request, Response>(context, 'Backup', async (_request, call, directory) => {
      if (running >= limits.backupsConcurrentMax) {
        throw resourceExhausted(`this node already runs ${limits.backupsConcurrentMax} backup(s); try again when it is done`);
      }
      running += 1;
      try {
        await streamBackup(call, directory, context);
      } finally {
        running -= 1;
      }
    }),
  };
}

async function streamBackup(call: grpc.ServerWritableStream<Request, Response>, directory: Directory, context: CallContext): Promise<void> {
  const copy = await directory.backupCopy();
  try {
    context.logger.info({ revision: copy.revision, bytes: copy.bytes }, 'backup copied; streaming');
    await writeWithBackpressure(call, { revision: copy.revision, total_bytes: copy.bytes, schema_version: copy.schemaVersion });
    const file = await open(copy.path, 'r');
    try {
      const buffer = Buffer.alloc(limits.backupChunkBytes);
      for (;;) {
        if (call.cancelled) return;
        if (context.stopping.aborted) throw unavailable('the node is stopping; take the backup again from a running node');
        const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) return;
        await writeWithBackpressure(call, { data: Buffer.from(buffer.subarray(0, bytesRead)) });
      }
    } finally {
      await file.close();
    }
  } finally {
    await rm(copy.path, { force: true });
  }
}
