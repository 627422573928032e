/**
 * LookupMailboxes and LookupStream answers as the wire carries them. A batch
 * the directory sends to a read thread (Directory.lookupMailboxesOnThread:
 * 16 names or more, on a node with two read threads or more) is read and
 * encoded there (src/server/read-worker.ts): its SQLite reads and its encoding
 * are most of its cost, so the main thread only decodes the request and sends
 * the bytes, and the batches of many callers spread over the read threads'
 * cores. Pure: the same code serves both threads.
 */
import type { Revisioned } from '../../directory/directory.js';
import { encodeLookupResponse } from '../../api/fast-encode.js';
import { mailboxToWire } from '../../api/wire.js';
import type { MailboxRecord } from '../../model/records.js';

/** The read a read thread answers with LookupMailboxesResponse bytes (read-worker.ts). */
export const encodedLookupRead = 'lookup.grpc';

type Plain = Record<string, unknown>;

/** One name's LookupResult. */
export function lookupResult(name: string, mailbox: MailboxRecord | undefined): Plain {
  return { name, found: mailbox !== undefined, mailbox: mailbox === undefined ? null : mailboxToWire(mailbox) };
}

/** The LookupMailboxesResponse (and LookupStreamResponse, the same fields) of a batch's records, in the names' order. */
export function lookupResponse(names: readonly string[], found: Revisioned<ReadonlyArray<MailboxRecord | undefined>>): Plain {
  return { results: names.map((name, index) => lookupResult(name, found.value[index])), revision: found.revision };
}

/** The same message, encoded: LookupMailboxesResponse and LookupStreamResponse share their fields, so their bytes too. */
export function lookupResponseBytes(names: readonly string[], found: Revisioned<ReadonlyArray<MailboxRecord | undefined>>): Buffer {
  return encodeLookupResponse(lookupResponse(names, found));
}
