/**
 * Watch snapshots share the event loop: each subscriber reads its pages, the
 * first included, one per turn of a queue all subscribers share, so a loop
 * turn holds one page's work however many snapshots are under way or start
 * together, and a lookup arriving between two turns waits behind one page, not
 * one per subscriber. Every snapshot still arrives whole, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { PageTurns, snapshotItemsOf, WatchHub, watchReadBatch, type SnapshotPage, type SnapshotPageRequest, type WatchItem } from '../../src/directory/watch.js';
import { limits } from '../../src/model/limits.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

/** Mailboxes in the directory: three snapshot pages and a bit. */
const mailboxes = 3 * watchReadBatch + 100;
const subscribers = 4;

let dataDir: string;
let store: Store;
let engine: StandaloneEngine;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mbdir-watch-turns-'));
  store = new Store({ dataDir, synchronous: 'OFF' });
  engine = new StandaloneEngine(store);
  await engine.start();
  const directory = new Directory(store, engine);
  await directory.putServer({ name: 'backend1', imapAddress: '127.0.0.1:143', pop3Address: '', lmtpAddress: '127.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
  for (let index = 0; index < mailboxes; index += 1) {
    await directory.createMailbox({ name: `user.u${String(index).padStart(5, '0')}`, uniqueid: `id-${index}`, server: 'backend1' });
  }
}, 60_000);

afterAll(async () => {
  await engine.close();
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('watch snapshot pages', () => {
  it('are read one per event-loop turn across all subscribers, and every snapshot arrives whole', async () => {
    const hub = new WatchHub(store, engine, { subscribersMax: 100, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: limits.watchHeldBytesMax });
    const received: WatchItem[][] = Array.from({ length: subscribers }, () => []);
    for (const items of received) hub.subscribe({ servers: [], prefixes: [] }, 0, { send: (item) => items.push(item) > 0, end: () => undefined });
    const total = (): number => received.reduce((sum, items) => sum + items.length, 0);
    expect(total()).toBe(0); // subscribing reads nothing: four Watch calls arriving together do not hold the loop for four pages
    await nextTurn();
    expect(total()).toBe(watchReadBatch); // one page in all, not one each
    await nextTurn();
    expect(total()).toBe(2 * watchReadBatch);
    for (let turn = 0; turn < 100 && received.some((items) => items.at(-1)?.type !== 'SNAPSHOT_END'); turn += 1) await nextTurn();
    for (const items of received) {
      expect(items.filter((item) => item.type === 'SNAPSHOT')).toHaveLength(mailboxes);
      expect(items.at(-1)?.type).toBe('SNAPSHOT_END');
      const names = items.flatMap((item) => (item.mailbox === null ? [] : [item.mailbox.name]));
      expect(names).toEqual([...names].sort());
    }
  }, 60_000);

  it('leave out a record changed after subscribing: it comes live, after SNAPSHOT_END, once', async () => {
    const hub = new WatchHub(store, engine, { subscribersMax: 100, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: limits.watchHeldBytesMax });
    const items: WatchItem[] = [];
    let committed: () => void = () => undefined;
    const created = new Promise<void>((resolve) => { committed = resolve; });
    // The page is read elsewhere (as on a read thread) once the record is committed: after subscribing.
    const readSnapshotPage = (request: SnapshotPageRequest): Promise<SnapshotPage> => created.then(() => {
      const page = store.scanPage(request.server, request.afterKey, request.limit);
      return { items: snapshotItemsOf(request.filter, page.mailboxes, request.until), records: page.mailboxes.length, lastKey: page.lastKey };
    });
    const subscription = hub.subscribe({ servers: [], prefixes: ['user.late'] }, 0, { send: (item) => items.push(item) > 0, end: () => undefined, readSnapshotPage });
    await new Directory(store, engine).createMailbox({ name: 'user.late', uniqueid: 'id-late', server: 'backend1' });
    committed();
    for (let turn = 0; turn < 20 && items.at(-1)?.type !== 'PUT'; turn += 1) await nextTurn();
    subscription.close();
    expect(items.map((item) => `${item.type} ${item.mailbox?.name ?? ''}`)).toEqual(['SNAPSHOT_END ', 'PUT user.late']);
  });

  it('keep no turn once run, though the queue never empties (a turn holds its page until it runs, not after)', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const turns = new PageTurns();
    const pages: Array<WeakRef<Uint8Array>> = [];
    const runsWanted = 1500;
    let runs = 0;
    // Each turn holds a page and, when it runs, asks for another: three always wait, as under 2,000 subscribers.
    const turnHoldingPage = (): (() => void) => {
      const page = new Uint8Array(1024);
      pages.push(new WeakRef(page));
      return () => {
        page[0] = 1;
        runs += 1;
        if (runs <= runsWanted) turns.schedule(turnHoldingPage());
      };
    };
    for (let index = 0; index < 3; index += 1) turns.schedule(turnHoldingPage());
    while (runs < runsWanted) {
      await nextTurn();
      expect(turns.size().slots).toBeLessThanOrEqual(1024 + 3);
    }
    expect(turns.size().waiting).toBe(3);
    collect();
    expect(pages.filter((page) => page.deref() !== undefined).length).toBeLessThanOrEqual(3);
  });
});
