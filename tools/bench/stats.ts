/**
 * Latency samples and the figures the bench reports from them: operations per
 * second, p50, p99, p99.9 (milliseconds), and a seeded PRNG so every generated
 * directory and every request sequence replays from its seed. Pure: no I/O.
 */

/** Samples kept per operation at most; past this the oldest half is thinned. */
export const latencySamplesMax = 2_000_000;

export class LatencyRecorder {
  private samples: number[] = [];
  count = 0;

  /** Records one latency in milliseconds. */
  add(latencyMs: number): void {
    this.count += 1;
    if (this.samples.length >= latencySamplesMax) this.samples = this.samples.filter((_, index) => index % 2 === 0);
    this.samples.push(latencyMs);
  }

  /** Adds every sample of `other` (the rounds of one operation, measured apart, reported together). */
  merge(other: LatencyRecorder): void {
    for (const sample of other.samples) this.add(sample);
    this.count += other.count - other.samples.length; // samples `other` thinned still count
  }

  /** The samples kept (a copy), to send to another process. */
  sampleList(): number[] {
    return [...this.samples];
  }

  /** The q-quantile (0..1) in milliseconds, 0 when empty. */
  quantiles(qs: readonly number[]): number[] {
    const sorted = Float64Array.from(this.samples).sort();
    return qs.map((q) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)));
  }
}

/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded source of bytes (each the top 8 bits of a `seededRandom` draw), for replayable tests. */
export function seededBytes(seed: number): (count: number) => Buffer {
  const random = seededRandom(seed);
  return (count) => Buffer.from(Array.from({ length: count }, () => Math.floor(random() * 256)));
}

/** An integer in [0, bound) from `random`. */
export function randomBelow(random: () => number, bound: number): number {
  return Math.floor(random() * bound);
}
