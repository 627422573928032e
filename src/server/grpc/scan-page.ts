/**
 * ScanMailboxes pages as the wire carries them, read, selected (scan-rules)
 * and encoded on a read thread (src/server/read-worker.ts): the main thread
 * then only hands each Mailbox message's bytes to the stream, instead of
 * taking 250 records across threads and encoding each between two lookups.
 * The loop over pages is here; what a page selects and when the scan ends is
 * the directory's rule. Pure but for the directory's read-thread hook.
 */
import { services } from '../../api/proto.js';
import { mailboxToWire } from '../../api/wire.js';
import type { Directory } from '../../directory/directory.js';
import { scanPageSize, selectScanPage, type ScanPlan } from '../../directory/scan-rules.js';
import { unavailable } from '../../model/errors.js';
import type { StoreQueries } from '../../store/queries.js';

/** The heavy read a read thread answers with a page of encoded Mailbox messages (read-worker.ts). */
export const encodedScanPageRead = 'scan-page.grpc';

/** What a thread is asked: the scan, and where its page starts. */
export interface ScanPageInput {
  plan: ScanPlan;
  afterKeyHex: string;
}

/** What it answers: the selected records' messages back to back, each one's length, and where the next page starts. */
export interface EncodedScanPage {
  bytes: Uint8Array;
  lengths: number[];
  lastKeyHex: string;
  finished: boolean;
}

const serializeMailbox = (services.Mailboxes.service['ScanMailboxes'] as { responseSerialize(value: object): Buffer }).responseSerialize;

/** Reads, selects and encodes one page (on a read thread). */
export function encodedScanPage(store: StoreQueries, input: ScanPageInput): EncodedScanPage {
  const page = store.scanPage(input.plan.server, Buffer.from(input.afterKeyHex, 'hex'), scanPageSize);
  const { selected, finished } = selectScanPage(input.plan, page.mailboxes, scanPageSize);
  const messages = selected.map((mailbox) => serializeMailbox(mailboxToWire(mailbox)));
  return { bytes: Buffer.concat(messages), lengths: messages.map((message) => message.length), lastKeyHex: page.lastKey.toString('hex'), finished };
}

/** A page a thread answered, as the messages the stream writes (views over the page's bytes). */
function messagesOf(answer: unknown): Buffer[] {
  const page = answer as EncodedScanPage;
  if (!(page.bytes instanceof Uint8Array) || !Array.isArray(page.lengths)) {
    throw new Error('a read thread answered a scan page with something other than encoded mailboxes');
  }
  const messages: Buffer[] = [];
  let offset = 0;
  for (const length of page.lengths) {
    messages.push(Buffer.from(page.bytes.buffer, page.bytes.byteOffset + offset, length));
    offset += length;
  }
  return messages;
}

/**
 * The scan's pages as encoded messages, each page read on a read thread at the
 * node's applied revision or newer; null when the node has no read threads
 * (the caller scans on the main thread, Directory.scanMailboxes).
 */
export function encodedScanPages(directory: Directory, plan: ScanPlan): AsyncGenerator<Buffer[]> | null {
  const read = (afterKeyHex: string): Promise<EncodedScanPage> | null => {
    const reading = directory.readOnThread(encodedScanPageRead, { plan, afterKeyHex } satisfies ScanPageInput);
    if (reading === null) return null;
    const page = reading.then((answer) => answer.value as EncodedScanPage);
    page.catch(() => undefined); // a page read ahead for a scan left early fails unwatched; awaited, it still throws
    return page;
  };
  const first = read(plan.startAfterHex);
  if (first === null) return null;
  return (async function* pages(): AsyncGenerator<Buffer[]> {
    let reading = first;
    for (;;) {
      const page = await reading;
      const messages = messagesOf(page);
      if (!page.finished) {
        // The next page is read while this one is sent: one page ahead at most.
        const next = read(page.lastKeyHex);
        if (next === null) throw unavailable('the node stopped its read threads during a scan; retry');
        reading = next;
      }
      if (messages.length > 0) yield messages;
      if (page.finished) return;
    }
  })();
}
