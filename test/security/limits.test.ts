/**
 * Every input limit of src/model/limits.ts through the real server: the
 * request at the limit succeeds, the one just past it gets the error. Watch
 * bounds run on a second node whose bounds are lowered through the test-only
 * environment variables, so a slow subscriber's cut-off and resumption are
 * cheap to exercise. The Limits table of docs/operations.md must name every limit.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { limits } from '../../src/model/limits.js';
import { SyncListing } from '../../src/directory/sync-rules.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { recordWatch, type WatchRecording } from '../helpers/integration.js';
import { field, mailboxesPath, padTo, RawClient, wireType } from '../helpers/raw-grpc.js';
import { repoRoot, startServer, type ServerProcess } from '../helpers/server-process.js';
import type { CreateMailboxRequest, CreateMailboxResponse__Output, ListMailboxesRequest, ListMailboxesResponse__Output, Mailbox } from '../../src/client/messages.js';
import type { WatchEvent__Output } from '../../src/client/messages.js';

let server: ServerProcess;
let client: MbdirClient;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'OK',
    (error: unknown) => (error instanceof ClientError ? error.codeName : String(error)),
  );
}

/** The error's code and text ("OK" when the call succeeds): a failure shows what the server said. */
async function messageOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'OK',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

const create = (mailbox: Mailbox, extra: Omit<CreateMailboxRequest, 'mailbox'> = {}): Promise<CreateMailboxResponse__Output> =>
  client.createMailbox({ mailbox: { server: 'b1', ...mailbox }, ...extra });
const list = (request: ListMailboxesRequest): Promise<ListMailboxesResponse__Output> => client.listMailboxes({ user: 'amy', ...request });
const letters = (count: number, letter = 'a'): string => letter.repeat(count);
const acl = (count: number): Message[] => Array.from({ length: count }, (_unused, index) => ({ identifier: `id${index}`, rights: 'lr' }));

beforeAll(async () => {
  server = await startServer();
  client = server.client();
  await client.putServer({ name: 'b1', imap_address: '127.0.0.1:143' });
  // Writes name registered servers only: the replica servers of the replicasMax case and the syncing b2.
  for (let index = 0; index <= limits.replicasMax; index += 1) await client.putServer({ name: `r${index}` });
  await client.putServer({ name: 'b2' });
  await create({ name: 'user.amy', uniqueid: 'amy' });
});

afterAll(async () => {
  await server?.stop();
});

/** [limit, call at the limit, call one past it, the status code past it]. */
const cases: Array<[keyof typeof limits, () => Promise<unknown>, () => Promise<unknown>, string]> = [
  ['nameBytesMax', () => create({ name: `user.${letters(limits.nameBytesMax - 5)}` }), () => create({ name: `user.${letters(limits.nameBytesMax - 4, 'b')}` }), 'INVALID_ARGUMENT'],
  ['uniqueidLengthMax', () => create({ name: 'user.u1', uniqueid: letters(limits.uniqueidLengthMax, 'u') }), () => create({ name: 'user.u2', uniqueid: letters(limits.uniqueidLengthMax + 1, 'v') }), 'INVALID_ARGUMENT'],
  ['aclEntriesMax', () => create({ name: 'user.acl1', acl: acl(limits.aclEntriesMax) }), () => create({ name: 'user.acl2', acl: acl(limits.aclEntriesMax + 1) }), 'INVALID_ARGUMENT'],
  ['identifierBytesMax', () => client.setAcl({ name: 'user.amy', identifier: letters(limits.identifierBytesMax, 'i'), rights: 'lr' }), () => client.setAcl({ name: 'user.amy', identifier: letters(limits.identifierBytesMax + 1, 'j'), rights: 'lr' }), 'INVALID_ARGUMENT'],
  ['rightsLengthMax', () => client.setAcl({ name: 'user.amy', identifier: 'bob', rights: letters(limits.rightsLengthMax, 'l') }), () => client.setAcl({ name: 'user.amy', identifier: 'bob', rights: letters(limits.rightsLengthMax + 1, 'l') }), 'INVALID_ARGUMENT'],
  ['userIdBytesMax', () => list({ user: letters(limits.userIdBytesMax), pattern: '*' }), () => list({ user: letters(limits.userIdBytesMax + 1), pattern: '*' }), 'INVALID_ARGUMENT'],
  ['listGroupsMax', () => list({ groups: Array.from({ length: limits.listGroupsMax }, (_u, index) => `group:g${index}`), pattern: '*' }), () => list({ groups: Array.from({ length: limits.listGroupsMax + 1 }, (_u, index) => `group:g${index}`), pattern: '*' }), 'INVALID_ARGUMENT'],
  ['patternBytesMax', () => list({ reference: 'user.', pattern: letters(limits.patternBytesMax - 5) }), () => list({ reference: 'user.', pattern: letters(limits.patternBytesMax - 4) }), 'INVALID_ARGUMENT'],
  ['patternWildcardsMax', () => list({ pattern: '*a'.repeat(limits.patternWildcardsMax) }), () => list({ pattern: '*a'.repeat(limits.patternWildcardsMax + 1) }), 'INVALID_ARGUMENT'],
  ['pageSizeMax', () => list({ pattern: '*', page_size: limits.pageSizeMax }), () => list({ pattern: '*', page_size: limits.pageSizeMax + 1 }), 'INVALID_ARGUMENT'],
  ['pageTokenBytesMax', () => list({ pattern: '*', page_token: letters(limits.pageTokenBytesMax, 'A') }), () => list({ pattern: '*', page_token: letters(limits.pageTokenBytesMax + 1, 'A') }), 'INVALID_ARGUMENT'],
  ['lookupNamesMax', () => client.lookupMailboxes({ names: Array.from({ length: limits.lookupNamesMax }, (_u, index) => `user.n${index}`) }), () => client.lookupMailboxes({ names: Array.from({ length: limits.lookupNamesMax + 1 }, (_u, index) => `user.n${index}`) }), 'INVALID_ARGUMENT'],
  ['labelBytesMax', () => client.putServer({ name: letters(limits.labelBytesMax, 's') }), () => client.putServer({ name: letters(limits.labelBytesMax + 1, 's') }), 'INVALID_ARGUMENT'],
  ['mbtypeLengthMax', () => create({ name: 'user.mb1', mbtype: letters(limits.mbtypeLengthMax, 'e') }), () => create({ name: 'user.mb2', mbtype: letters(limits.mbtypeLengthMax + 1, 'e') }), 'INVALID_ARGUMENT'],
  ['partitionBytesMax', () => create({ name: 'user.p1', partition: letters(limits.partitionBytesMax, 'p') }), () => create({ name: 'user.p2', partition: letters(limits.partitionBytesMax + 1, 'p') }), 'INVALID_ARGUMENT'],
  ['requestIdBytesMax', () => create({ name: 'user.r1' }, { request_id: letters(limits.requestIdBytesMax, 'r') }), () => create({ name: 'user.r2' }, { request_id: letters(limits.requestIdBytesMax + 1, 'r') }), 'INVALID_ARGUMENT'],
  ['replicasMax', () => create({ name: 'user.rep1', replicas: Array.from({ length: limits.replicasMax }, (_u, index) => ({ server: `r${index}` })) }), () => create({ name: 'user.rep2', replicas: Array.from({ length: limits.replicasMax + 1 }, (_u, index) => ({ server: `r${index}` })) }), 'INVALID_ARGUMENT'],
  ['planUsersMax', () => client.planRebalance({ max_users: limits.planUsersMax }), () => client.planRebalance({ max_users: limits.planUsersMax + 1 }), 'INVALID_ARGUMENT'],
];

describe('each limit: success at the limit, the error one past it', () => {
  it.each(cases)('%s', async (_limit, atLimit, pastLimit, code) => {
    expect(await codeOf(atLimit())).toBe('OK');
    expect(await codeOf(pastLimit())).toBe(code);
  });

  it('watchFilterEntriesMax: a Watch filter of the limit starts, one more is refused', async () => {
    const servers = (count: number): string[] => Array.from({ length: count }, (_u, index) => `w${index}`);
    for await (const event of client.watch({ servers: servers(limits.watchFilterEntriesMax) })) {
      expect(event['type']).toBe('SNAPSHOT_END');
      break;
    }
    const refused = (async () => {
      for await (const _event of client.watch({ servers: servers(limits.watchFilterEntriesMax + 1) })) return 'OK';
      return 'OK';
    })();
    expect(await codeOf(refused)).toBe('INVALID_ARGUMENT');
  });

  it('grpcMessageBytesMax: a message of exactly 4 MiB is read, one byte more is refused', async () => {
    const raw = new RawClient(server.endpoint);
    const request = field(1, wireType.lengthDelimited, 'user.amy');
    const atLimit = await raw.unary(mailboxesPath('GetMailbox'), padTo(request, limits.grpcMessageBytesMax));
    expect(atLimit.code).toBe(grpc.status.OK);
    const pastLimit = await raw.unary(mailboxesPath('GetMailbox'), padTo(request, limits.grpcMessageBytesMax + 1));
    expect(pastLimit.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    raw.close();
  });

  it('grpcConcurrentStreamsMax: the node advertises 1000 streams per connection and serves 1000 at once; the next waits for a free one', async () => {
    const session = http2.connect(`http://${server.endpoint}`);
    const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    expect(settings.maxConcurrentStreams).toBe(limits.grpcConcurrentStreamsMax);
    session.close();
    // One client, one connection of its own: 1000 open Watch streams, each answered. (Cancelling
    // 1000 streams at once looks like an HTTP/2 rapid reset, after which Node's server may close
    // that connection: no other test shares it.)
    // (grpc-js shares connections between clients of one target unless told not to.)
    const own = new MbdirClient({ endpoint: server.endpoint, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    const aborts = Array.from({ length: limits.grpcConcurrentStreamsMax + 1 }, () => new AbortController());
    // A filter no mailbox matches: each stream's first event is SNAPSHOT_END.
    const iterators = aborts.map((abort) => own.watch({ prefixes: ['user.none'] }, abort.signal)[Symbol.asyncIterator]());
    try {
      const firsts = iterators.map((iterator) => iterator.next());
      const answered = await Promise.all(firsts.slice(0, limits.grpcConcurrentStreamsMax));
      for (const first of answered) expect(first.value?.['type']).toBe('SNAPSHOT_END');
      // The 1001st is queued by HTTP/2, not refused: it is answered once a stream closes.
      aborts[0]!.abort();
      await iterators[0]!.return?.(undefined);
      expect((await firsts[limits.grpcConcurrentStreamsMax]!).value?.['type']).toBe('SNAPSHOT_END');
    } finally {
      for (const abort of aborts) abort.abort();
      await Promise.all(iterators.map((iterator) => iterator.return?.(undefined)));
      own.close();
    }
  });

  it('syncBatchMailboxesMax and renameSubtreeMailboxesMax: 10,000 per message; a subtree of 10,001 is renamed in parts', async () => {
    const entry = (index: number): Message => ({ name: `user.big.f${index}`, uniqueid: `big${index}` });
    const batch = Array.from({ length: limits.syncBatchMailboxesMax + 1 }, (_u, index) => entry(index));
    expect(await messageOf(client.syncServer('b2', false, [batch]))).toMatch(/^INVALID_ARGUMENT: mailboxes has 10001 entries/);
    // The root plus 10,000 below it: 10,001 in the subtree, in two messages.
    const root = { name: 'user.big', uniqueid: 'big-root' };
    const report = await client.syncServer('b2', false, [batch.slice(0, limits.syncBatchMailboxesMax), [root]]);
    expect(report['added_count']).toBe(limits.syncBatchMailboxesMax + 1);
    expect(await codeOf(client.renameMailbox({ name: 'user.big', new_name: 'user.huge' }))).toBe('RESOURCE_EXHAUSTED');
    await client.deleteMailbox({ name: 'user.big.f0' });
    const renamed = await client.renameMailbox({ name: 'user.big', new_name: 'user.huge' });
    expect(renamed['mailboxes']).toHaveLength(limits.renameSubtreeMailboxesMax);
    // A watcher resuming just before the rename gets every renamed mailbox, though
    // the rename is one revision of 10,000 changes (catch-up reads in batches).
    const revision = Number(renamed['revision']);
    const seen = new Set<string>();
    const abort = new AbortController();
    for await (const event of client.watch({ from_revision: revision - 1 }, abort.signal)) {
      if (event['type'] === 'PUT' && Number(event['revision']) === revision) seen.add(String((event['mailbox']!)['name']));
      if (event['type'] === 'PROGRESS') break;
    }
    abort.abort();
    expect(seen.size).toBe(limits.renameSubtreeMailboxesMax);
  });

  it('syncEntriesMax: a SyncServer stream lists at most 1,000,000 mailboxes (in-process: the server would take minutes)', () => {
    const listing = new SyncListing('b3');
    const batch = (start: number, count: number): MailboxRecord[] =>
      Array.from({ length: count }, (_u, index) => ({ name: `m${start + index}`, uniqueid: `u${start + index}` }) as MailboxRecord);
    for (let start = 0; start < limits.syncEntriesMax; start += limits.syncBatchMailboxesMax) {
      listing.add(batch(start, limits.syncBatchMailboxesMax));
    }
    expect(() => listing.add(batch(limits.syncEntriesMax, 1))).toThrow(/more than 1000000 mailboxes/);
  });

  it('minRevisionWaitMsMax: a read for a revision never reached ends at the deadline, not later', async () => {
    const status = await client.status();
    const far = Number(status['applied_revision']) + 1_000_000;
    expect(await codeOf(client.getMailbox({ name: 'user.amy', min_revision: far }, 300))).toBe('DEADLINE_EXCEEDED');
  });
});

describe('watch bounds (lowered on a second node)', () => {
  let small: ServerProcess;
  let smallClient: MbdirClient;
  const subscribersMax = 3;
  const bufferEventsMax = 500;

  beforeAll(async () => {
    small = await startServer([], {
      env: { MBDIR_TEST_WATCH_SUBSCRIBERS_MAX: String(subscribersMax), MBDIR_TEST_WATCH_BUFFER_EVENTS_MAX: String(bufferEventsMax) },
    });
    // gRPC's default 64 KiB window (not mbdir's 8 MiB): a watcher that stops reading fills the
    // node's buffer after a few thousand events, not after 8 MiB of them.
    smallClient = new MbdirClient({ endpoint: small.endpoint, channelOptions: { 'grpc-node.flow_control_window': 65_535 } });
  });

  afterAll(async () => {
    smallClient?.close();
    await small?.stop();
  });

  it('watchSubscribersMax: the limit of watchers is served, one more gets RESOURCE_EXHAUSTED', async () => {
    const aborts: AbortController[] = [];
    const first = async (): Promise<string> => {
      const abort = new AbortController();
      aborts.push(abort);
      for await (const event of smallClient.watch({}, abort.signal)) return String(event['type']);
      return 'ended';
    };
    for (let index = 0; index < subscribersMax; index += 1) expect(await first()).toBe('SNAPSHOT_END');
    // The earlier generators returned after one event, which cancels their calls:
    // hold the slots with streams that stay open instead.
    const held = Array.from({ length: subscribersMax }, () => new AbortController());
    const iterators = held.map((abort) => smallClient.watch({}, abort.signal)[Symbol.asyncIterator]());
    for (const iterator of iterators) expect((await iterator.next()).value?.['type']).toBe('SNAPSHOT_END');
    expect(await codeOf(first())).toBe('RESOURCE_EXHAUSTED');
    for (const abort of held) abort.abort();
    await Promise.all(iterators.map((iterator) => iterator.return?.(undefined)));
  });

  /** A watcher of everything that reads as fast as it can, once the node has a free slot for it. */
  async function activeWatcher(): Promise<WatchRecording> {
    for (let attempt = 0; ; attempt += 1) {
      const recording = recordWatch(smallClient, {});
      try {
        await recording.until((events) => events.some((event) => event['type'] === 'SNAPSHOT_END'));
        return recording;
      } catch (error) {
        recording.stop();
        if (attempt === 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  it('watchBufferEventsMax: a subscriber that stops reading is cut off and resumes from its revision without a gap, holding back no other', async () => {
    // A watcher that reads its snapshot, then stops reading while many changes commit.
    // The previous test's watchers free their slots once the node sees them cancelled: retry until one is free.
    let call!: grpc.ClientReadableStream<WatchEvent__Output>;
    let ended!: Promise<grpc.ServiceError | null>;
    const received: WatchEvent__Output[] = [];
    for (let attempt = 0; attempt < 100 && received.length === 0; attempt += 1) {
      call = smallClient.mailboxes.Watch({}, smallClient.metadata());
      ended = new Promise<grpc.ServiceError | null>((resolve) => {
        call.on('error', (error: grpc.ServiceError) => resolve(error));
        call.on('end', () => resolve(null));
      });
      const first = new Promise<WatchEvent__Output | null>((resolve) => {
        call.once('data', (event: WatchEvent__Output) => resolve(event));
        void ended.then(() => resolve(null));
      });
      const event = await first;
      if (event !== null) received.push(event);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(received).toHaveLength(1);
    // Another watcher of the same filter reads on: the one that stopped must not hold it back.
    const active = await activeWatcher();
    call.pause();
    await smallClient.putServer({ name: 'b1', imap_address: '127.0.0.1:143' });
    // Concurrent creates in rounds of 100: one group commit never exceeds the buffer by itself.
    const writes = 3000;
    for (let start = 0; start < writes; start += 100) {
      await Promise.all(Array.from({ length: 100 }, (_u, index) => smallClient.createMailbox({ mailbox: { name: `user.w${start + index}`, uniqueid: `w${start + index}`, server: 'b1' } })));
    }
    call.on('data', (event: WatchEvent__Output) => received.push(event));
    call.resume();
    const error = await ended;
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error?.details).toMatch(new RegExp(`more than ${bufferEventsMax} events behind; resume with from_revision \\d+`));
    // Resume from the last revision received: every create arrives exactly once overall.
    const lastSeen = Math.max(...received.map((event) => event.revision));
    const names = new Set(received.filter((event) => event.type === 'PUT').map((event) => event.mailbox?.name ?? ''));
    const abort = new AbortController();
    for await (const event of smallClient.watch({ from_revision: lastSeen }, abort.signal)) {
      if (event['type'] === 'PUT') names.add(String((event['mailbox']!)['name']));
      if (event['type'] === 'PROGRESS' || names.size === writes) break;
    }
    abort.abort();
    expect(names.size).toBe(writes);
    await active.until((events) => events.filter((event) => event['type'] === 'PUT').length >= writes);
    active.stop();
    expect(active.error()).toBeNull();
    const revisions = active.events.map((event) => Number(event['revision']));
    expect(revisions.slice(1)).toEqual([...revisions.slice(1)].sort((left, right) => left - right));
  });
});

describe('docs/operations.md', () => {
  it('lists every limit with its value in the Limits table', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');
    const at = doc.indexOf('\n## Limits\n');
    expect(at, 'docs/operations.md has no "## Limits" section').toBeGreaterThan(0);
    const table = doc.slice(at);
    for (const [name, value] of Object.entries(limits)) {
      expect(table, `docs/operations.md Limits table lacks ${name}`).toMatch(new RegExp(`\\| \`${name}\` \\| ${value} \\|`));
    }
  });
});
