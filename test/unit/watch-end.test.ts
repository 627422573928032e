/**
 * WatchHub.endAll (a stopping node) on a real in-memory store: each
 * subscription ends with the cut-off's resumable status naming the last
 * revision it was sent whole (live, caught up, blocked with items queued, or
 * inside its snapshot), and a new subscription is refused the same way. And
 * a standalone node refuses a Watch from a revision it does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import type { WatchItem } from '../../src/directory/watch.js';
import { DirectoryError } from '../../src/model/errors.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
const engine = new StandaloneEngine(store);
const directory = new Directory(store, engine);

beforeAll(async () => {
  await directory.putServer({ name: 'b1', imapAddress: '127.0.0.1:143', pop3Address: '', lmtpAddress: '127.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
});

afterAll(async () => {
  await engine.close();
  store.close();
});

interface Recorded {
  items: WatchItem[];
  ended: Error | null;
}

/** A sink that takes `accept` items, then asks to wait. */
function subscribe(fromRevision: number, accept = Infinity): Recorded {
  const recorded: Recorded = { items: [], ended: null };
  directory.watch({ servers: [], prefixes: [] }, fromRevision, {
    send: (item) => {
      recorded.items.push(item);
      return recorded.items.length < accept;
    },
    end: (error) => {
      recorded.ended = error;
    },
  });
  return recorded;
}

const create = async (name: string): Promise<number> => (await directory.createMailbox({ name, server: 'b1' })).revision;

describe('Watch on a standalone node', () => {
  it('refuses a from_revision ahead of the directory (a client that saw revisions a restore took back)', async () => {
    const now = await create('user.ahead');
    expect(() => subscribe(now + 5)).toThrow(
      `from_revision ${now + 5} is ahead of this directory's revision ${now} (restored from a backup?): the revisions after it will be reused; watch from 0 for a snapshot`,
    );
    const atNow = subscribe(now);
    expect(atNow.ended).toBeNull();
  });
});

describe('WatchHub.endAll', () => {
  it('tells every subscriber where to resume, and refuses new ones', async () => {
    const first = await create('user.a');
    const live = subscribe(first);
    const blocked = subscribe(first, 1);
    const second = await create('user.b');
    await create('user.c');
    const caughtUp = subscribe(first);
    const last = await create('user.d');
    const snapshot = subscribe(0, 2); // two snapshot items, then it waits mid-snapshot

    directory.watchHub.endAll('node n1 is stopping');
    const resumeOf = (recorded: Recorded): string => {
      expect(recorded.ended).toBeInstanceOf(DirectoryError);
      expect((recorded.ended as DirectoryError).kind).toBe('ResourceExhausted');
      return /^node n1 is stopping; resume with from_revision (\d+)$/.exec(recorded.ended?.message ?? '')?.[1] ?? 'no match';
    };
    expect(live.items.map((item) => item.revision).at(-1)).toBe(last);
    expect(resumeOf(live)).toBe(String(last));
    expect(blocked.items.map((item) => item.revision)).toEqual([second]);
    expect(resumeOf(blocked)).toBe(String(second));
    expect(resumeOf(caughtUp)).toBe(String(last));
    expect(resumeOf(snapshot)).toBe('0');
    expect(directory.watchHub.subscriberCount()).toBe(0);

    expect(() => subscribe(last)).toThrow(`node n1 is stopping; resume with from_revision ${last}`);
  });
});
