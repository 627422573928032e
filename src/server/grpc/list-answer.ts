/**
 * The ListMailboxes answer as the wire carries it: the message object, and its
 * bytes from the hand-written encoder. A read thread (src/server/read-worker.ts)
 * encodes a LIST's answer itself, so the main thread neither copies thousands
 * of records across threads nor encodes them: it sends the bytes as they are.
 * Pure: no socket, no gRPC call; the same code serves both threads.
 */
import type { Revisioned } from '../../directory/directory.js';
import type { ListResult } from '../../directory/list-rules.js';
import { encodeListResponse } from '../../api/fast-encode.js';
import { mailboxToWire } from '../../api/wire.js';

/** The heavy read a read thread answers with ListMailboxesResponse bytes (read-worker.ts). */
export const encodedListRead = 'list.grpc';

/** The ListMailboxesResponse message of a LIST's answer. */
export function listResponse(listed: Revisioned<ListResult>): Record<string, unknown> {
  return {
    mailboxes: listed.value.mailboxes.map((entry) => ({
      mailbox: mailboxToWire(entry.mailbox),
      my_rights: entry.myRights,
      has_children: entry.hasChildren,
    })),
    next_page_token: listed.value.nextPageToken,
    revision: listed.revision,
  };
}

/** The same message, encoded. */
export function listResponseBytes(listed: Revisioned<ListResult>): Buffer {
  return encodeListResponse(listResponse(listed));
}
