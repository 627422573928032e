/**
 * The bulk load's in-memory uniqueid set (src/store/loaded-uniqueids.ts): it
 * stands in for the unique index while that is dropped, so it must find every
 * loaded uniqueid, never confuse two that share a hash, and keep working as
 * it grows.
 */
import { describe, expect, it } from 'vitest';
import { LoadedUniqueids, uniqueidHash } from '../../src/store/loaded-uniqueids.js';

/** Rows as a load would have written them: rowid i + 1 holds uniqueids[i]. */
function rowsOf(uniqueids: readonly string[]): (rowid: number) => string | undefined {
  return (rowid) => uniqueids[rowid - 1];
}

describe('LoadedUniqueids', () => {
  it('finds each loaded uniqueid by its row, and none other, across growth', () => {
    const uniqueids = Array.from({ length: 200_000 }, (_, index) => `id${index.toString(36)}`);
    const loaded = new LoadedUniqueids(rowsOf(uniqueids));
    uniqueids.forEach((uniqueid, index) => loaded.add(uniqueid, index + 1));
    expect(loaded.size).toBe(200_000);
    for (const index of [0, 1, 65_535, 65_536, 131_071, 199_999]) expect(loaded.rowidOf(uniqueids[index] ?? '')).toBe(index + 1);
    expect(loaded.rowidOf('id-not-loaded')).toBe(0);
    expect(loaded.rowidOf('')).toBe(0);
  });

  it('tells apart uniqueids whose hashes are equal by reading their rows', () => {
    const uniqueids = ['alpha', 'beta', 'gamma', 'delta'];
    const reads: number[] = [];
    const loaded = new LoadedUniqueids((rowid) => {
      reads.push(rowid);
      return uniqueids[rowid - 1];
    }, () => 7);
    loaded.add('alpha', 1);
    loaded.add('beta', 2);
    loaded.add('gamma', 3);
    expect(loaded.rowidOf('gamma')).toBe(3);
    expect(loaded.rowidOf('beta')).toBe(2);
    expect(loaded.rowidOf('delta')).toBe(0);
    expect(reads.length).toBeGreaterThan(3);
  });

  it('refuses a rowid a load cannot have', () => {
    const loaded = new LoadedUniqueids(() => undefined);
    expect(() => loaded.add('a', 0)).toThrow(/out of range/);
    expect(() => loaded.add('a', 2 ** 32)).toThrow(/out of range/);
  });

  it('spreads similar uniqueids over the hash space', () => {
    const low = new Set<number>();
    for (let index = 0; index < 10_000; index += 1) low.add(uniqueidHash(`user${index}`) & 0xffff);
    expect(low.size).toBeGreaterThan(8_000);
  });
});
