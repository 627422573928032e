/**
 * The relist's key windows walked over sorted key sets, each request answered
 * as etcd 3.4 does (every key of the window counted, a page of `limit` of them
 * returned): every key comes back exactly once and in order, and the keys
 * counted stay a small multiple of the keys read, where paging by limit alone
 * counts the whole rest of the prefix for every page.
 */
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { firstWindow, nextWindow, windowEnd, type RangeWindow } from '../../src/replication/relist-windows.js';

const limit = 100;

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Walks [start, end) through windows over `keys` (sorted); the keys read and the keys etcd counted. */
function walk(keys: readonly Buffer[], start: Buffer, end: Buffer): { read: Buffer[]; counted: number; requests: number } {
  const read: Buffer[] = [];
  let counted = 0;
  let requests = 0;
  let window: RangeWindow | undefined = firstWindow(start, end, start.length);
  while (window !== undefined) {
    const inWindow = keys.filter((key) => Buffer.compare(key, window!.from) >= 0 && Buffer.compare(key, window!.end) < 0);
    const page = inWindow.slice(0, limit).map((key) => ({ key }));
    counted += inWindow.length;
    requests += 1;
    read.push(...page.map((kv) => kv.key));
    window = nextWindow(window, end, { kvs: page, more: inWindow.length > limit, count: inWindow.length }, limit);
  }
  return { read, counted, requests };
}

function keySet(prefix: string, names: readonly string[]): Buffer[] {
  return [...new Set(names)].map((name) => Buffer.from(`${prefix}${name}`)).sort(Buffer.compare);
}

describe('relist windows', () => {
  const start = Buffer.from('/p/hier/');
  const end = Buffer.from('/p/hier0');

  const shapes: Array<[string, (random: () => number) => string[]]> = [
    ['user ids in order', () => Array.from({ length: 20_000 }, (_unused, index) => `user.u${String(index).padStart(7, '0')}`)],
    ['random names', (random) => Array.from({ length: 20_000 }, () => `user.${Math.floor(random() * 1e9).toString(36)}`)],
    [
      'one crowded prefix among sparse ones',
      (random) => [
        ...Array.from({ length: 15_000 }, (_unused, index) => `user.crowd${index}`),
        ...Array.from({ length: 300 }, () => `${String.fromCharCode(33 + Math.floor(random() * 90))}sparse${Math.floor(random() * 1e6)}`),
        'shared',
        'example.com!user.x',
      ],
    ],
  ];

  for (const [name, make] of shapes) {
    it(`reads every key once, in order, counting a bounded multiple of them: ${name}`, () => {
      const seed = 20_261_206;
      const keys = keySet(start.toString(), make(seededRandom(seed)));
      const { read, counted, requests } = walk(keys, start, end);
      expect(read, `seed ${seed}`).toEqual(keys);
      // Paging by limit alone counts n - k keys for the page at k: about n * n / (2 * limit).
      const pagedAlone = (keys.length * keys.length) / (2 * limit);
      expect(counted).toBeLessThan(keys.length * limits.etcdRelistWindowPagesMax * 4);
      expect(counted).toBeLessThan(pagedAlone / 4);
      expect(requests).toBeLessThan((keys.length / limit) * 8 + 50);
    });
  }

  it('cuts a window after a prefix, carrying past 0xff bytes, never beyond the end', () => {
    expect(windowEnd(Buffer.from('/p/hier/abc'), 10, end).toString()).toBe('/p/hier/ac');
    expect(windowEnd(Buffer.from([0x2f, 0x61, 0xff, 0xff]), 4, Buffer.from([0x30]))).toEqual(Buffer.from([0x2f, 0x62]));
    expect(windowEnd(Buffer.from('/p/hier/'), 4, end)).toEqual(end);
    expect(windowEnd(Buffer.from([0xff, 0xff]), 2, Buffer.from([0xff, 0xff, 0xff]))).toEqual(Buffer.from([0xff, 0xff, 0xff]));
  });

  it('walks nothing when the prefix holds no key', () => {
    expect(walk([], start, end)).toEqual({ read: [], counted: 0, requests: 1 });
  });
});
