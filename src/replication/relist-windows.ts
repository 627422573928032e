/**
 * The key windows a relist ranges etcd through. etcd 3.4 answers a range with a
 * limit by first collecting every key of [key, range_end) from its index (it
 * reports their count), so paging a large prefix by `limit` alone costs the
 * whole rest of the prefix per page: quadratic, minutes at a million keys. A
 * window is [from, end) where `end` follows every key sharing `from`'s first
 * `depth` bytes; the depth grows while a window holds more than
 * etcdRelistWindowPagesMax pages and shrinks after one that held less than a
 * page, so each request walks a bounded number of keys. Pure: no I/O.
 */
import { limits } from '../model/limits.js';

export interface RangeWindow {
  from: Buffer;
  end: Buffer;
  depth: number;
  /** The depth windows never go below (the bytes every key of the walk shares). */
  minDepth: number;
}

/** What etcd answered for a window: a page of its keys, whether more follow, how many it holds. */
export interface WindowAnswer {
  kvs: ReadonlyArray<{ key: Buffer }>;
  more: boolean;
  count: number;
}

/** The smallest key after every key that starts with `key`'s first `depth` bytes, capped at `end`. */
export function windowEnd(key: Buffer, depth: number, end: Buffer): Buffer {
  let length = Math.min(depth, key.length);
  while (length > 0 && key[length - 1] === 0xff) length -= 1;
  if (length === 0) return end;
  const after = Buffer.from(key.subarray(0, length));
  after[length - 1] = (after[length - 1] ?? 0) + 1;
  return Buffer.compare(after, end) < 0 ? after : end;
}

/** The first window of a walk over [from, end) whose keys all share `minDepth` bytes; undefined when empty. */
export function firstWindow(from: Buffer, end: Buffer, minDepth: number): RangeWindow | undefined {
  const depth = minDepth + 1;
  return Buffer.compare(from, end) < 0 ? { from, end: windowEnd(from, depth, end), depth, minDepth } : undefined;
}

/**
 * The window to range after `window` answered `response` (etcd's count of the keys in
 * the window, its page of at most `limit` of them), or undefined when the walk has
 * reached `end`. Every key of [window.from, end) is in a later window or was answered.
 */
export function nextWindow(window: RangeWindow, end: Buffer, response: WindowAnswer, limit: number): RangeWindow | undefined {
  let depth = window.depth;
  if (response.count > limit * limits.etcdRelistWindowPagesMax) depth += 1;
  else if (!response.more && response.count < limit) depth = Math.max(window.minDepth + 1, depth - 1);
  const last = response.kvs.at(-1);
  // More keys in this window: go on after the last one; else the window is done.
  const next = response.more && last !== undefined ? Buffer.concat([last.key, Buffer.from([0])]) : window.end;
  if (Buffer.compare(next, end) >= 0) return undefined;
  return { from: next, end: windowEnd(next, depth, end), depth, minDepth: window.minDepth };
}
