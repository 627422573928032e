// The bench's load generator runs with a fixed young generation (load-heap.ts),
// without V8's memory reducer and with gc() exposed so it collects between
// slices: a command line without a semi-space size runs itself again with the
// flags, and one that names a size (the bench's, or an operator's) runs as given.
import { describe, expect, it } from 'vitest';
import { collectBetweenSlices, hasLoadHeap, loadHeapFlags, loadSemiSpaceMebibytes } from '../../tools/bench/load-heap.js';

describe('the load generator\'s young generation', () => {
  it('is set by a max and a min semi-space size of the same MiB, without the memory reducer, with gc() to collect between slices', () => {
    expect(loadHeapFlags).toEqual([
      `--max-semi-space-size=${loadSemiSpaceMebibytes}`,
      `--min-semi-space-size=${loadSemiSpaceMebibytes}`,
      '--no-memory-reducer',
      '--expose-gc',
    ]);
    expect(hasLoadHeap(loadHeapFlags)).toBe(true);
  });

  it('collects between slices only where gc() is exposed, and never fails without it', () => {
    const exposed = (globalThis as { gc?: () => void }).gc;
    let collections = 0;
    (globalThis as { gc?: () => void }).gc = () => {
      collections += 1;
    };
    try {
      collectBetweenSlices();
      expect(collections).toBe(1);
      delete (globalThis as { gc?: () => void }).gc;
      expect(() => collectBetweenSlices()).not.toThrow();
    } finally {
      if (exposed !== undefined) (globalThis as { gc?: () => void }).gc = exposed;
    }
  });

  it('is taken as given when the command line names a semi-space size in either spelling', () => {
    expect(hasLoadHeap(['--max-semi-space-size=8'])).toBe(true);
    expect(hasLoadHeap(['--min_semi_space_size=2'])).toBe(true);
    expect(hasLoadHeap(['--max-semi-space-size', '8'])).toBe(true);
  });

  it('is missing from a plain node command line, or one with other heap flags', () => {
    expect(hasLoadHeap([])).toBe(false);
    expect(hasLoadHeap(['--max-old-space-size=4096', '--trace-gc'])).toBe(false);
    expect(hasLoadHeap(['--semi-space-growth-factor=4'])).toBe(false);
  });
});
