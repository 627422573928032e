/**
 * Watch snapshot pages as the wire carries them, read and encoded on a read
 * thread (src/server/read-worker.ts): the main thread then only hands each
 * WatchEvent's bytes to its stream, instead of reading, decoding and encoding
 * a page between two lookups. The page holds at most the limit asked for
 * (watch.ts's watchReadBatch); its records are selected by the same rule as a
 * page read on the main thread (snapshotItemsOf). Pure: no socket, no call.
 */
import { services } from '../../api/proto.js';
import { mailboxToWire } from '../../api/wire.js';
import { snapshotItemsOf, type SnapshotPage, type SnapshotPageRequest, type WatchFilter, type WatchItem } from '../../directory/watch.js';
import type { StoreQueries } from '../../store/queries.js';

/** The heavy read a read thread answers with a page of encoded WatchEvent messages (read-worker.ts). */
export const encodedWatchPageRead = 'watch-snapshot-page.grpc';

/** What a thread is asked: the request, with the key as hex (a thread message carries no Buffer). */
export interface WatchPageInput {
  server: string;
  afterKeyHex: string;
  limit: number;
  filter: WatchFilter;
  until: number;
}

/** What it answers: the page's messages back to back, each one's length and revision. */
export interface EncodedWatchPage {
  bytes: Uint8Array;
  lengths: number[];
  revisions: number[];
  /** Records the page read before filtering: fewer than the limit ends the snapshot. */
  records: number;
  lastKeyHex: string;
}

const serializeWatchEvent = (services.Mailboxes.service['Watch'] as { responseSerialize(value: object): Buffer }).responseSerialize;

/** The WatchEvent message of an item, as the Watch stream sends it. */
export function watchEventMessage(item: WatchItem): Buffer {
  return serializeWatchEvent({ type: item.type, mailbox: item.mailbox === null ? null : mailboxToWire(item.mailbox), revision: item.revision });
}

export function watchPageInput(request: SnapshotPageRequest): WatchPageInput {
  return { server: request.server, afterKeyHex: request.afterKey.toString('hex'), limit: request.limit, filter: request.filter, until: request.until };
}

/** Reads and encodes one snapshot page (on a read thread). */
export function encodedWatchPage(store: StoreQueries, input: WatchPageInput): EncodedWatchPage {
  const page = store.scanPage(input.server, Buffer.from(input.afterKeyHex, 'hex'), input.limit);
  const items = snapshotItemsOf(input.filter, page.mailboxes, input.until);
  const messages = items.map(watchEventMessage);
  return {
    bytes: Buffer.concat(messages),
    lengths: messages.map((message) => message.length),
    revisions: items.map((item) => item.revision),
    records: page.mailboxes.length,
    lastKeyHex: page.lastKey.toString('hex'),
  };
}

/** The page a thread answered, as the subscription takes it: SNAPSHOT items carrying their bytes. */
export function snapshotPageOf(answer: unknown): SnapshotPage {
  const page = answer as EncodedWatchPage;
  if (!(page.bytes instanceof Uint8Array) || page.lengths.length !== page.revisions.length) {
    throw new Error('a read thread answered a Watch page with something other than encoded events');
  }
  const items: WatchItem[] = [];
  let offset = 0;
  page.lengths.forEach((length, index) => {
    items.push({ type: 'SNAPSHOT', mailbox: null, revision: page.revisions[index] ?? 0, encoded: page.bytes.subarray(offset, offset + length) });
    offset += length;
  });
  return { items, records: page.records, lastKey: Buffer.from(page.lastKeyHex, 'hex') };
}
