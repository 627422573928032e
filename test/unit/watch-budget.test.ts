/**
 * The memory budget all Watch subscribers share (issue W0 item 5), on a real
 * store and standalone engine in this process, so the budget's own count can
 * be read after every step. Stalled subscribers (a sink that stops taking data
 * at once, as a transport whose client never reads) past the budget first let
 * go of the snapshot pages they hold (read again when they drain, nothing
 * lost or repeated); what cannot be read again (live items) gets the slowest
 * cut off with the resumable status; one that reads is never cut off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { WatchHub, type WatchItem, type WatchSink, type WatchSubscription } from '../../src/directory/watch.js';
import { resourceExhausted } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

/** Mailboxes in the directory: more than two snapshot pages. */
const mailboxes = 1200;

let dataDir: string;
let store: Store;
let engine: StandaloneEngine;
let directory: Directory;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mbdir-watch-budget-'));
  store = new Store({ dataDir, synchronous: 'OFF' });
  engine = new StandaloneEngine(store);
  await engine.start();
  directory = new Directory(store, engine);
  await directory.putServer({ name: 'backend1', imapAddress: '127.0.0.1:143', pop3Address: '', lmtpAddress: '127.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
  for (let index = 0; index < mailboxes; index += 1) {
    await directory.createMailbox({ name: `user.u${String(index).padStart(5, '0')}`, uniqueid: `id-${index}`, server: 'backend1' });
  }
});

afterAll(async () => {
  await engine.close();
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Recorded {
  sink: WatchSink;
  items: WatchItem[];
  ended: Error | undefined;
  /** Items it takes before it asks to wait; raise it, then tell the subscription `drained()`, to read on. */
  taking: number;
}

/** A sink that takes `taking` items and then asks to wait (until told otherwise). */
function recorder(taking = Number.POSITIVE_INFINITY): Recorded {
  const recorded: Recorded = {
    items: [],
    ended: undefined,
    taking,
    sink: {
      send: (item) => {
        recorded.items.push(item);
        return recorded.items.length < recorded.taking;
      },
      end: (error) => {
        recorded.ended = error;
      },
    },
  };
  return recorded;
}

const everything = { servers: [], prefixes: [] };

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The names of a snapshot's SNAPSHOT items, in the order they came. */
const snapshotNames = (recorded: Recorded): string[] =>
  recorded.items.filter((item) => item.type === 'SNAPSHOT').map((item) => item.mailbox?.name ?? '');

describe('the watch memory budget', () => {
  it('stalled snapshot subscribers past the budget let go of their pages, none cut off; read on, each gets the snapshot whole, once', async () => {
    // Room for about two held pages of 250 records (about 100 kB each): ten stalled ones must let go.
    const budgetBytes = 300_000;
    const hub = new WatchHub(store, engine, { subscribersMax: 100, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: budgetBytes });
    // Each stops at a different place of its first or second page (a page is 250 records).
    const stalled = Array.from({ length: 10 }, (_, index) => recorder(1 + index * 37));
    const subscriptions: WatchSubscription[] = stalled.map((recorded) => hub.subscribe(everything, 0, recorded.sink));
    for (let turn = 0; turn < 40; turn += 1) {
      await nextTurn();
      expect(hub.heldBytes()).toBeLessThanOrEqual(budgetBytes);
    }
    expect(stalled.every((recorded) => recorded.items.length === recorded.taking)).toBe(true);
    expect(stalled.filter((recorded) => recorded.ended !== undefined)).toEqual([]);
    // Most held pages were let go (what is held is well under ten pages).
    expect(hub.heldBytes()).toBeLessThan(budgetBytes);
    const reader = recorder();
    hub.subscribe(everything, 0, reader.sink);
    for (let turn = 0; turn < 100 && reader.items.at(-1)?.type !== 'SNAPSHOT_END'; turn += 1) {
      await nextTurn();
      expect(hub.heldBytes()).toBeLessThanOrEqual(budgetBytes);
    }
    expect(reader.ended).toBeUndefined();
    const expected = Array.from({ length: mailboxes }, (_, index) => `user.u${String(index).padStart(5, '0')}`);
    expect(snapshotNames(reader)).toEqual(expected);
    expect(reader.items.at(-1)?.type).toBe('SNAPSHOT_END');
    // The stalled ones read on: each gets every record once, in order, then SNAPSHOT_END; none was cut off.
    stalled.forEach((recorded, index) => {
      recorded.taking = Number.POSITIVE_INFINITY;
      subscriptions[index]?.drained();
    });
    for (let turn = 0; turn < 200 && !stalled.every((recorded) => recorded.items.at(-1)?.type === 'SNAPSHOT_END'); turn += 1) await nextTurn();
    for (const recorded of stalled) {
      expect(recorded.ended).toBeUndefined();
      expect(snapshotNames(recorded)).toEqual(expected);
      expect(recorded.items.at(-1)?.type).toBe('SNAPSHOT_END');
    }
    expect(hub.subscriberCount()).toBe(stalled.length + 1);
    expect(hub.heldBytes()).toBe(0);
  });

  it('stalled in their snapshot with live changes queued past the budget: the slowest are cut off, told to resume from 0', async () => {
    const hub = new WatchHub(store, engine, { subscribersMax: 100, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: 40 * 32 });
    const first = recorder(1);
    const second = recorder(1);
    hub.subscribe(everything, 0, first.sink);
    hub.subscribe(everything, 0, second.sink);
    for (let turn = 0; turn < 4; turn += 1) await nextTurn();
    expect([first.items.length, second.items.length]).toEqual([1, 1]);
    // Their pages go first; then live items, which cannot be read again, are what they hold.
    for (let index = 0; index < 30 && second.ended === undefined; index += 1) {
      await directory.createMailbox({ name: `user.queued${index}`, uniqueid: `id-queued${index}`, server: 'backend1' });
      expect(hub.heldBytes()).toBeLessThanOrEqual(40 * 32);
    }
    expect(first.ended?.name).toBe(resourceExhausted('').name);
    expect(first.ended?.message).toMatch(/hold more than 1280 bytes .* the slowest; resume with from_revision 0$/);
    expect(second.ended).toBeUndefined();
  });

  it('live subscribers that stopped reading: past the budget the one blocked first is cut off, told the revision to resume from', async () => {
    const queued = 60;
    // Room for a little less than two stalled queues of `queued` live items.
    const budgetBytes = Math.floor(queued * 32 * 1.6);
    const hub = new WatchHub(store, engine, { subscribersMax: 100, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: budgetBytes });
    const first = recorder(1);
    const second = recorder(1);
    const reader = recorder();
    const start = engine.appliedRevision();
    hub.subscribe(everything, start, first.sink);
    hub.subscribe(everything, start, reader.sink);
    const created: number[] = [];
    const create = async (name: string): Promise<void> => {
      created.push((await directory.createMailbox({ name, uniqueid: `id-${name}`, server: 'backend1' })).revision);
    };
    await create('user.live0'); // `first` takes this one, then asks to wait
    hub.subscribe(everything, engine.appliedRevision(), second.sink);
    for (let index = 1; index <= queued; index += 1) {
      await create(`user.live${index}`);
      expect(hub.heldBytes()).toBeLessThanOrEqual(budgetBytes);
    }
    expect(first.ended?.name).toBe(resourceExhausted('').name);
    expect(first.ended?.message).toMatch(new RegExp(`the slowest; resume with from_revision ${created[0]}$`));
    expect(second.ended).toBeUndefined();
    expect(reader.ended).toBeUndefined();
    expect(reader.items.map((item) => item.revision)).toEqual(created);
    // Resuming where it was told misses nothing.
    const resumed = recorder();
    hub.subscribe(everything, created[0] as number, resumed.sink);
    for (let turn = 0; turn < 20 && resumed.items.at(-1)?.type !== 'PROGRESS'; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(resumed.items.filter((item) => item.type === 'PUT').map((item) => item.revision)).toEqual(created.slice(1));
  });
});
