/**
 * The memory budget all Watch subscribers share (issue W0 item 5), on a real
 * store and standalone engine in this process, so the budget's own count can
 * be read after every step. Stalled subscribers (a sink that stops taking data
 * at once, as a transport whose client never reads) past the budget are cut off
 * slowest first with the resumable status; one that reads is never cut off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { WatchHub, type WatchItem, type WatchSink } from '../../src/directory/watch.js';
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
}

/** A sink that takes `taking` items and then asks to wait forever (0: stalled from the first). */
function recorder(taking = Number.POSITIVE_INFINITY): Recorded {
  const recorded: Recorded = {
    items: [],
    ended: undefined,
    sink: {
      send: (item) => {
        recorded.items.push(item);
        return recorded.items.length < taking;
      },
      end: (error) => {
        recorded.ended = error;
      },
    },
  };
  return recorded;
}

const everything = { servers: [], prefixes: [] };

describe('the watch memory budget', () => {
  it('stalled snapshot subscribers past the budget: the slowest are cut off, resumable; the budget holds; a reader finishes', async () => {
    const budgetBytes = 300_000;
    const hub = new WatchHub(store, engine, { subscribersMax: 100, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: budgetBytes });
    const stalled: Recorded[] = [];
    for (let index = 0; index < 10; index += 1) {
      const recorded = recorder(1);
      hub.subscribe(everything, 0, recorded.sink);
      stalled.push(recorded);
    }
    // Each reads its first page on a page turn of its own, in the order they subscribed.
    for (let turn = 0; turn < 12; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(hub.heldBytes()).toBeLessThanOrEqual(budgetBytes);
    }
    expect(stalled.every((recorded) => recorded.items.length > 0)).toBe(true);
    const cut = stalled.filter((recorded) => recorded.ended !== undefined);
    // Each holds the rest of a 250-record page (about 100 kB): some must go, not all.
    expect(cut.length).toBeGreaterThanOrEqual(5);
    expect(cut.length).toBeLessThan(stalled.length);
    // Slowest first: they blocked in the order they came, so the first ones went.
    expect(stalled.slice(0, cut.length).every((recorded) => recorded.ended !== undefined)).toBe(true);
    for (const recorded of cut) {
      expect(recorded.ended?.message).toMatch(/hold more than 300000 bytes .* the slowest; resume with from_revision 0/);
      expect(recorded.ended?.name).toBe(resourceExhausted('').name);
    }
    const reader = recorder();
    hub.subscribe(everything, 0, reader.sink);
    for (let turn = 0; turn < 100 && reader.items.at(-1)?.type !== 'SNAPSHOT_END'; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(hub.heldBytes()).toBeLessThanOrEqual(budgetBytes);
    }
    expect(reader.ended).toBeUndefined();
    expect(reader.items.filter((item) => item.type === 'SNAPSHOT')).toHaveLength(mailboxes);
    expect(reader.items.at(-1)?.type).toBe('SNAPSHOT_END');
    // The reader's pages may have cut off more stalled ones, still slowest first; never the reader.
    const cutInTheEnd = stalled.filter((recorded) => recorded.ended !== undefined).length;
    expect(stalled.slice(0, cutInTheEnd).every((recorded) => recorded.ended !== undefined)).toBe(true);
    expect(hub.subscriberCount()).toBe(stalled.length - cutInTheEnd + 1);
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
