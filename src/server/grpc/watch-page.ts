/**
 * Watch snapshot pages as the wire carries them, read and encoded on a read
 * thread (src/server/read-worker.ts): the main thread then only hands each
 * WatchEvent's bytes to its stream, instead of reading, decoding and encoding
 * a page between two lookups. The page holds at most the limit asked for
 * (watch.ts's watchReadBatch); its records are selected by the same rule as a
 * page read on the main thread (snapshotItemsOf). It stays three flat buffers
 * (messages, their ends, their revisions) while a subscriber holds it: an
 * object per item would cost three times the bytes it carries, for each of up
 * to watchSubscribersMax stalled subscribers. Pure: no socket, no call.
 */
import { services } from '../../api/proto.js';
import { decodeWatchEvent } from '../../api/fast-decode.js';
import { mailboxToWire } from '../../api/wire.js';
import { snapshotItemsOf, type PageItems, type SnapshotPage, type SnapshotPageRequest, type WatchFilter, type WatchItem } from '../../directory/watch.js';
import { sortKey } from '../../model/names.js';
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

/** What it answers: the page's messages back to back, where each one ends and its revision (typed arrays: no object per item). */
export interface EncodedWatchPage {
  bytes: Uint8Array;
  ends: Uint32Array;
  revisions: Float64Array;
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
  const ends = new Uint32Array(messages.length);
  let end = 0;
  for (const [index, message] of messages.entries()) {
    end += message.length;
    ends[index] = end;
  }
  // Its own ArrayBuffer, exactly the page's size: a thread message copies a view's whole buffer.
  const bytes = new Uint8Array(end);
  for (const [index, message] of messages.entries()) bytes.set(message, (ends[index] ?? 0) - message.length);
  return {
    bytes,
    ends,
    revisions: Float64Array.from(items, (item) => item.revision),
    records: page.mailboxes.length,
    lastKeyHex: page.lastKey.toString('hex'),
  };
}

/** Bytes one held item costs beside its message: its end and its revision. */
const itemSlotBytes = Uint32Array.BYTES_PER_ELEMENT + Float64Array.BYTES_PER_ELEMENT;

/** A thread's page as the items a subscription sends: each SNAPSHOT item made when it is sent, over the page's bytes. */
class EncodedPageItems implements PageItems {
  readonly length: number;

  constructor(private readonly page: EncodedWatchPage) {
    this.length = page.ends.length;
  }

  private startOf(index: number): number {
    return index === 0 ? 0 : (this.page.ends[index - 1] ?? 0);
  }

  item(index: number): WatchItem {
    const encoded = this.page.bytes.subarray(this.startOf(index), this.page.ends[index]);
    return { type: 'SNAPSHOT', mailbox: null, revision: this.page.revisions[index] ?? 0, encoded };
  }

  heldBytes(index: number): number {
    return (this.page.ends[index] ?? 0) - this.startOf(index) + itemSlotBytes;
  }

  /** The record key of item `index`, from its message (asked only when a page is let go). */
  keyOf(index: number): Buffer {
    const bytes = Buffer.from(this.page.bytes.buffer, this.page.bytes.byteOffset, this.page.bytes.byteLength);
    const mailbox = decodeWatchEvent(bytes, this.startOf(index), this.page.ends[index])['mailbox'] as { name: string } | null;
    if (mailbox === null) throw new Error('watch: a snapshot message without its mailbox has no key');
    return sortKey(mailbox.name);
  }
}

/** The page a thread answered, as the subscription takes it: SNAPSHOT items carrying their bytes. */
export function snapshotPageOf(answer: unknown): SnapshotPage {
  const page = answer as EncodedWatchPage;
  if (!(page.bytes instanceof Uint8Array) || !(page.ends instanceof Uint32Array) || !(page.revisions instanceof Float64Array) || page.ends.length !== page.revisions.length) {
    throw new Error('a read thread answered a Watch page with something other than encoded events');
  }
  const items = new EncodedPageItems(page);
  return { items, records: page.records, lastKey: Buffer.from(page.lastKeyHex, 'hex'), keyOf: (index) => items.keyOf(index) };
}
