/**
 * The heavy callers of `bench mixed`, run in a process of their own (`bench
 * heavy-callers`, hidden) so that decoding a full scan or thousands of LIST
 * results does not hold up the event loop that times the lookups: closed loops
 * of large LISTs, snapshot Watches of the whole directory read slowly or not
 * at all, and full ScanMailboxes one after another. It prints `ready` once
 * connected, runs for its duration, closes every call it opened and prints its
 * tallies (latency samples included, bounded by the calls made) as one JSON line.
 */
import { MbdirClient, type MessageStream } from '../../src/client/client.js';
import type { ListMailboxesRequest, WatchEvent__Output } from '../../src/client/messages.js';
import { limits } from '../../src/model/limits.js';
import { businessOf, groupOf, userId, type DirectoryShape } from './generate.js';
import { closedLoop, type Measured } from './load.js';
import { LatencyRecorder } from './stats.js';

/** Groups a heavy LIST names at most (the node's own bound). */
const heavyListGroupsMax = limits.listGroupsMax;

export interface HeavySpec {
  durationMs: number;
  listCallers: number;
  /** Groups each heavy LIST names (calibrateHeavyList). */
  listGroups: number;
  watchers: number;
  /** Even watchers read one message per this interval; odd ones none after the first. */
  watchReadIntervalMs: number;
  scan: boolean;
}

/** What the heavy callers did, as the parent reads it back. */
export interface HeavyTally {
  lists: Measured;
  scans: Measured;
  watches: Measured;
}

export const emptyMeasured = (): Measured => ({ operations: 0, names: 0, errors: 0, firstError: '', seconds: 0, latency: new LatencyRecorder() });

function failed(measured: Measured, error: unknown): void {
  measured.errors += 1;
  if (measured.firstError === '') measured.firstError = (error as Error).message;
}

/** A heavy LIST: `user` sees their own, `anyone`'s and the folders shared with `groups` business groups. */
function heavyListRequest(shape: DirectoryShape, userIndex: number, groups: number): ListMailboxesRequest {
  const business = businessOf(shape, userIndex);
  const named = Array.from({ length: Math.min(groups, shape.businesses) }, (_, offset) => groupOf((business + offset) % shape.businesses));
  return { user: userId(userIndex), groups: named, reference: '', pattern: '*', page_size: limits.pageSizeMax };
}

/** The fewest groups (doubling up to the node's bound) whose LIST sees `target` mailboxes, and what it saw. */
export async function calibrateHeavyList(client: MbdirClient, shape: DirectoryShape, target: number): Promise<{ mailboxes: number; groups: number }> {
  for (let groups = 1; ; groups = Math.min(groups * 2, heavyListGroupsMax)) {
    const answer = await client.listMailboxes(heavyListRequest(shape, 0, groups));
    const mailboxes = answer.mailboxes.length;
    const named = Math.min(groups, shape.businesses);
    if (mailboxes >= target || groups === heavyListGroupsMax || named === shape.businesses) return { mailboxes, groups: named };
  }
}

/** Full scans, one after another, until `endMs` (the one under way is cancelled then). */
async function scanUntil(client: MbdirClient, endMs: number): Promise<Measured> {
  const measured = emptyMeasured();
  const startedMs = performance.now();
  while (performance.now() < endMs) {
    const scanStartedMs = performance.now();
    const stream = client.scanMailboxes({});
    let complete = true;
    try {
      for await (const _ of stream) {
        measured.names += 1;
        if (performance.now() >= endMs) {
          complete = false;
          break; // leaving the loop cancels the call
        }
      }
    } catch (error) {
      failed(measured, error);
      complete = false;
    }
    if (complete) {
      measured.operations += 1;
      measured.latency.add(performance.now() - scanStartedMs);
    }
  }
  measured.seconds = (performance.now() - startedMs) / 1000;
  return measured;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` snapshot Watches of everything until `endMs`: even ones read a message per `intervalMs`, odd ones only the first. */
async function watchUntil(client: MbdirClient, count: number, intervalMs: number, endMs: number): Promise<Measured> {
  const measured = emptyMeasured();
  const startedMs = performance.now();
  const streams: Array<MessageStream<WatchEvent__Output>> = Array.from({ length: count }, () => client.watch({ from_revision: 0 }));
  const reader = async (stream: MessageStream<WatchEvent__Output>, index: number): Promise<void> => {
    try {
      do {
        const next = await Promise.race([stream.next(), sleep(Math.max(0, endMs - performance.now())).then(() => null)]);
        if (next === null || next.done === true) return;
        measured.names += 1;
        if (index % 2 === 1) return; // read none after the first: the node must hold back, not block
        await sleep(Math.min(intervalMs, Math.max(0, endMs - performance.now())));
      } while (performance.now() < endMs);
    } catch (error) {
      failed(measured, error);
    }
  };
  await Promise.all(streams.map((stream, index) => reader(stream, index)));
  await sleep(Math.max(0, endMs - performance.now()));
  for (const stream of streams) await stream.return();
  measured.operations = count;
  measured.seconds = (performance.now() - startedMs) / 1000;
  return measured;
}

/** The heavy callers against `endpoint` for `spec.durationMs`; the tally is returned once every call is closed. */
export async function runHeavyCallers(endpoint: string, shape: DirectoryShape, spec: HeavySpec, onReady: () => void): Promise<HeavyTally> {
  // A connection each for the LISTs, the scan and the watchers, as different callers would have:
  // unread Watch streams must not share a connection's flow-control window with the others.
  const [lister, scanner, watcher] = Array.from({ length: 3 }, () =>
    new MbdirClient({ endpoint, deadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
  ) as [MbdirClient, MbdirClient, MbdirClient];
  try {
    await Promise.all([lister.status(), scanner.status(), watcher.status()]); // connected: the parent starts its lookups now
    onReady();
    const endMs = performance.now() + spec.durationMs;
    let listUser = 0;
    const listOnce = async (): Promise<number> => {
      listUser = (listUser + 7919) % shape.users; // a prime stride: users of every business in turn
      const answer = await lister.listMailboxes(heavyListRequest(shape, listUser, spec.listGroups));
      return answer.mailboxes.length;
    };
    const [lists, scans, watches] = await Promise.all([
      closedLoop(spec.listCallers, spec.durationMs, listOnce),
      spec.scan ? scanUntil(scanner, endMs) : Promise.resolve(emptyMeasured()),
      watchUntil(watcher, spec.watchers, spec.watchReadIntervalMs, endMs),
    ]);
    return { lists, scans, watches };
  } finally {
    for (const client of [lister, scanner, watcher]) client.close();
  }
}

/** A tally as JSON (latency as its samples) and back. */
export function tallyToJson(tally: HeavyTally): string {
  const plain = (measured: Measured): object => ({ ...measured, latency: measured.latency.sampleList() });
  return JSON.stringify({ lists: plain(tally.lists), scans: plain(tally.scans), watches: plain(tally.watches) });
}

export function tallyFromJson(text: string): HeavyTally {
  const parsed = JSON.parse(text) as Record<'lists' | 'scans' | 'watches', Omit<Measured, 'latency'> & { latency: number[] }>;
  const measured = (plain: Omit<Measured, 'latency'> & { latency: number[] }): Measured => {
    const latency = new LatencyRecorder();
    for (const sample of plain.latency) latency.add(sample);
    return { operations: plain.operations, names: plain.names, errors: plain.errors, firstError: plain.firstError, seconds: plain.seconds, latency };
  };
  return { lists: measured(parsed.lists), scans: measured(parsed.scans), watches: measured(parsed.watches) };
}
