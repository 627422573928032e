/**
 * gRPC adapter for mbdir.v1.Mailboxes: parses each request from the wire,
 * calls the directory, and shapes the answer. No rule lives here: anything
 * about what a mailbox may be or become is in src/directory.
 */
import * as grpc from '@grpc/grpc-js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Directory } from '../../directory/directory.js';
import type { SnapshotPage, SnapshotPageRequest, WatchFilter, WatchItem } from '../../directory/watch.js';
import { encodedWatchPageRead, snapshotPageOf, watchEventMessage, watchPageInput } from './watch-page.js';
import { encodedScanPages } from './scan-page.js';
import { planScan } from '../../directory/scan-rules.js';
import { invalidArgument, unavailable } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import type { MailboxRecord } from '../../model/records.js';
import { answerInOrder, bidiStream, clientStream, readAfterRevision, serverStream, timeLeftMs, unary, writeWithBackpressure, type CallContext } from './calls.js';
import { logWrite } from './write-log.js';
import { encodedListRead, listResponse } from './list-answer.js';
import { encodedLookupRead, lookupResponse } from './lookup-answer.js';
import type { ListInput } from '../../directory/list-rules.js';
import { listLegs, wallMs } from '../list-legs.js';
import {
  aclFromWire,
  mailboxFromWire,
  mailboxToWire,
  wireArray,
  wireBool,
  wireNumber,
  wireString,
  type WireMailbox,
} from '../../api/wire.js';

type Request = Record<string, unknown>;
type Response = Record<string, unknown>;

/** A lookup batch's answer: read and encoded on a read thread when the directory sends it there (lookupMailboxesOnThread), else here. */
function lookupAnswer(directory: Directory, names: readonly string[]): Response | Promise<Response> {
  const encoded = directory.lookupMailboxesOnThread(encodedLookupRead, names);
  if (encoded !== null) return encoded.then((answer) => encodedBytes(answer.value) as unknown as Response);
  return lookupResponse(names, directory.lookupMailboxes(names));
}

/** The names of one LookupStream message: its `name`, or its `names` batch (not both). */
function lookupStreamNames(request: Request): string[] {
  const name = wireString(request['name'], 'name');
  const names = wireArray(request['names'], 'names', limits.lookupNamesMax, (item, index) => wireString(item, `names[${index}]`));
  if (name !== '' && names.length > 0) throw invalidArgument('a LookupStream message carries name or names, not both');
  if (name === '' && names.length === 0) throw invalidArgument('a LookupStream message needs name or names');
  return name === '' ? names : [name];
}

/** Bytes a read thread sent (a Uint8Array once across threads) as a Buffer over the same memory. */
function encodedBytes(value: unknown): Buffer {
  if (!(value instanceof Uint8Array)) throw new Error('a read thread answered an encoded read with something other than bytes');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Live items are one object shared by every subscriber of a commit: encoded once, kept while the item lives. */
const encodedWatchEvents = new WeakMap<WatchItem, Buffer>();

/** The WatchEvent message of an item as bytes, which the server's Watch definition sends as they are. */
function encodeWatchEvent(item: WatchItem): Buffer {
  // Read and encoded on a read thread (watch-page.ts): sent as they came.
  if (item.encoded !== undefined) return Buffer.from(item.encoded.buffer, item.encoded.byteOffset, item.encoded.byteLength);
  // A snapshot item goes to one subscriber only: nothing to share.
  if (item.type === 'SNAPSHOT') return watchEventMessage(item);
  let encoded = encodedWatchEvents.get(item);
  if (encoded === undefined) {
    encoded = watchEventMessage(item);
    encodedWatchEvents.set(item, encoded);
  }
  return encoded;
}

/** A Watch snapshot page read and encoded on a read thread, or null when the node has none (read on the main thread). */
function snapshotPageOnThread(directory: Directory, request: SnapshotPageRequest): Promise<SnapshotPage> | null {
  const reading = directory.readOnThread(encodedWatchPageRead, watchPageInput(request));
  return reading === null ? null : reading.then((answer) => snapshotPageOf(answer.value));
}

/** Scan messages one event-loop turn writes at most: a turn stays well under a millisecond, so lookups pass between. */
const scanWritesPerTurn = 64;

/** Records of main-thread scan pages as the messages the stream writes. */
async function* wirePages(pages: AsyncIterable<MailboxRecord[]>): AsyncGenerator<WireMailbox[]> {
  for await (const page of pages) yield page.map(mailboxToWire);
}

function watchFilterFromWire(request: Request): WatchFilter {
  return {
    servers: wireArray(request['servers'], 'servers', limits.watchFilterEntriesMax, (server, index) =>
      wireString(server, `servers[${index}]`),
    ),
    prefixes: wireArray(request['prefixes'], 'prefixes', limits.watchFilterEntriesMax, (prefix, index) =>
      wireString(prefix, `prefixes[${index}]`),
    ),
  };
}

export function mailboxesService(context: CallContext): grpc.UntypedServiceImplementation {
  const readAt = async (request: Request, call: { getDeadline(): grpc.Deadline }, directory: Directory): Promise<void> =>
    directory.readAt(wireNumber(request['min_revision'], 'min_revision'), timeLeftMs(call));

  return {
    CreateMailbox: unary<Request, Response>(context, 'CreateMailbox', async (request, _call, directory) => {
      if (request['mailbox'] === null || request['mailbox'] === undefined) throw invalidArgument('mailbox is required');
      const mailbox = mailboxFromWire(request['mailbox']);
      const created = await directory.createMailbox({
        ...mailbox,
        reserveOnly: wireBool(request['reserve_only']),
        requestId: wireString(request['request_id'], 'request_id'),
      });
      return { mailbox: mailboxToWire(created.mailbox), outcome: created.outcome, revision: created.revision };
    }),

    ActivateMailbox: unary<Request, Response>(context, 'ActivateMailbox', async (request, _call, directory) => {
      const acl = aclFromWire(request['acl']);
      const activated = await directory.activateMailbox({
        name: wireString(request['name'], 'name'),
        uniqueid: wireString(request['uniqueid'], 'uniqueid'),
        acl: acl.length === 0 ? null : acl,
      });
      return { mailbox: mailboxToWire(activated.value), revision: activated.revision };
    }),

    GetMailbox: unary<Request, Response>(context, 'GetMailbox', (request, call, directory) =>
      readAfterRevision(request, call, directory, () => {
        const key = request['key'] === 'uniqueid'
          ? { uniqueid: wireString(request['uniqueid'], 'uniqueid') }
          : { name: wireString(request['name'], 'name') };
        const found = directory.getMailbox(key);
        return { mailbox: mailboxToWire(found.value), revision: found.revision };
      }),
    ),

    LookupMailboxes: unary<Request, Response>(context, 'LookupMailboxes', (request, call, directory) =>
      readAfterRevision(request, call, directory, () => {
        const names = wireArray(request['names'], 'names', limits.lookupNamesMax, (name, index) =>
          wireString(name, `names[${index}]`),
        );
        return lookupAnswer(directory, names);
      }),
    ),

    LookupStream: bidiStream<Request, Response>(context, 'LookupStream', (call, directory) =>
      answerInOrder(call, (request) => {
        const names = lookupStreamNames(request);
        return readAfterRevision(request, call, directory, () => lookupAnswer(directory, names));
      }, context.stopping),
    ),

    RenameMailbox: unary<Request, Response>(context, 'RenameMailbox', async (request, _call, directory) => {
      const renamed = await directory.renameMailbox(
        wireString(request['name'], 'name'),
        wireString(request['new_name'], 'new_name'),
      );
      return { mailboxes: renamed.value.map(mailboxToWire), revision: renamed.revision };
    }),

    DeleteMailbox: unary<Request, Response>(context, 'DeleteMailbox', async (request, _call, directory) => {
      const deleted = await directory.deleteMailbox(wireString(request['name'], 'name'));
      return { mailbox: mailboxToWire(deleted.value), revision: deleted.revision };
    }),

    SetAcl: unary<Request, Response>(context, 'SetAcl', async (request, _call, directory) => {
      const updated = await directory.setAcl(
        wireString(request['name'], 'name'),
        wireString(request['identifier'], 'identifier'),
        wireString(request['rights'], 'rights'),
      );
      return { mailbox: mailboxToWire(updated.value), revision: updated.revision };
    }),

    ListMailboxes: unary<Request, Response>(context, 'ListMailboxes', async (request, call, directory) => {
      const enteredMs = listLegs === null ? 0 : wallMs();
      await readAt(request, call, directory);
      const input: ListInput = {
        user: wireString(request['user'], 'user'),
        groups: wireArray(request['groups'], 'groups', limits.listGroupsMax, (group, index) => wireString(group, `groups[${index}]`)),
        reference: wireString(request['reference'], 'reference'),
        pattern: wireString(request['pattern'], 'pattern'),
        pageSize: wireNumber(request['page_size'], 'page_size'),
        pageToken: wireString(request['page_token'], 'page_token'),
      };
      // On a read thread the answer comes encoded, and is sent as it is (passEncodedResponses).
      const postingMs = listLegs === null ? 0 : wallMs();
      const encoded = directory.readOnThread(encodedListRead, input);
      if (encoded !== null) {
        const bytes = encodedBytes((await encoded).value);
        listLegs?.call([enteredMs, postingMs, wallMs()]);
        return bytes as unknown as Response;
      }
      return listResponse(await directory.listMailboxes(input));
    }),

    ScanMailboxes: serverStream<Request, WireMailbox | Buffer>(context, 'ScanMailboxes', async (request, call, directory) => {
      await readAt(request, call, directory);
      const filter = {
        server: wireString(request['server'], 'server'),
        prefix: wireString(request['prefix'], 'prefix'),
        includeReserved: wireBool(request['include_reserved']),
      };
      // On a read thread each page comes encoded, its messages sent as they are (passEncodedResponses).
      const pages: AsyncIterable<Array<WireMailbox | Buffer>> = encodedScanPages(directory, planScan(filter)) ?? wirePages(directory.scanMailboxes(filter));
      for await (const page of pages) {
        for (let start = 0; start < page.length; start += scanWritesPerTurn) {
          for (const message of page.slice(start, start + scanWritesPerTurn)) {
            if (call.cancelled) return;
            await writeWithBackpressure(call, message);
          }
          await nextTurn(); // a scan the client keeps up with never waits to drain: let other calls in between
        }
      }
    }),

    SyncServer: clientStream<Request, Response>(context, 'SyncServer', async (call, directory, principal) => {
      let session: ReturnType<Directory['startSync']> | null = null;
      // Leaving a plain `for await` early (a refused batch) destroys the call, and the
      // reset can overtake the status: the client then sees INTERNAL instead of the error.
      for await (const request of call.iterator({ destroyOnReturn: false }) as AsyncIterable<Request>) {
        if (session === null) {
          session = directory.startSync(wireString(request['server'], 'server'), wireBool(request['dry_run']));
        }
        const batch = wireArray(request['mailboxes'], 'mailboxes', limits.syncBatchMailboxesMax, (entry, index) =>
          mailboxFromWire(entry, `mailboxes[${index}]`),
        );
        await session.addBatch(batch);
      }
      // A cancelled stream also ends the loop: only a half-close says the list is whole,
      // and finishing an incomplete list would remove every mailbox it did not reach.
      if (call.cancelled || !call.readableEnded) throw unavailable('SyncServer stream was cancelled before its end; nothing removed');
      if (session === null) throw invalidArgument('SyncServer stream was empty: the first message must name the server');
      const report = await session.finish();
      if (!session.dryRun) logWrite(context.logger, principal, 'SyncServer', session.server, report.revision);
      const mailboxes = (kind: 'added' | 'removed' | 'updated'): WireMailbox[] =>
        report.lists[kind].map((entry) => mailboxToWire(entry.mailbox));
      return {
        added: mailboxes('added'),
        removed: mailboxes('removed'),
        updated: mailboxes('updated'),
        conflicting: report.lists.conflicting.map((entry) => ({
          mailbox: mailboxToWire(entry.mailbox),
          holder: entry.holder === undefined ? null : mailboxToWire(entry.holder),
          reason: entry.reason ?? '',
        })),
        unchanged: report.counts.unchanged,
        applied: !session.dryRun,
        revision: report.revision,
        added_count: report.counts.added,
        removed_count: report.counts.removed,
        conflicting_count: report.counts.conflicting,
        updated_count: report.counts.updated,
        truncated: report.truncated,
      };
    }),

    // The directory pushes items as commits land; the stream only asks it to hold them while the transport drains.
    Watch: serverStream<Request, Buffer>(context, 'Watch', (request, call, directory) =>
      new Promise<void>((resolve, reject) => {
        const subscription = directory.watch(watchFilterFromWire(request), wireNumber(request['from_revision'], 'from_revision'), {
          send: (item) => call.write(encodeWatchEvent(item)),
          readSnapshotPage: (page) => snapshotPageOnThread(directory, page),
          end: reject,
        });
        const stop = (): void => {
          subscription.close();
          resolve();
        };
        call.on('cancelled', stop);
        call.on('close', stop);
        call.on('drain', () => subscription.drained());
        if (call.cancelled) stop();
        // Headers now, not with the first event: the client knows it is subscribed, and a commit's fan-out sends data only.
        else call.sendMetadata(new grpc.Metadata());
      }),
    ),
  };
}
