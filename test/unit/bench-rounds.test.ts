// The bench measures the node and the echo in turns and reports each side's
// rounds as one phase: every call counted once, latencies pooled (so p50/p99
// are those of all the calls, not an average of quantiles), CPU added, and the
// disk-wait share weighted by each round's length.
import { describe, expect, it } from 'vitest';
import { mergePhases, type Phase } from '../../tools/bench/report.js';
import { LatencyRecorder } from '../../tools/bench/stats.js';

function phase(latenciesMs: number[], seconds: number, ioStallPercent: number | null, firstError = '', nodeLoop: Phase['nodeLoop'] = null): Phase {
  const latency = new LatencyRecorder();
  for (const value of latenciesMs) latency.add(value);
  return {
    measured: { operations: latenciesMs.length, names: 2 * latenciesMs.length, errors: firstError === '' ? 0 : 1, firstError, seconds, latency },
    serverCpuSeconds: seconds / 2,
    clientCpuSeconds: seconds / 4,
    ioStallPercent,
    nodeLoop,
    loadLoop: { p99Ms: seconds, maxMs: 2 * seconds },
  };
}

describe('bench rounds', () => {
  it('pools two rounds into one phase', () => {
    const fast = phase(Array.from({ length: 90 }, () => 1), 1, 0);
    const slow = phase(Array.from({ length: 10 }, () => 50), 3, 20, 'DEADLINE_EXCEEDED');
    const merged = mergePhases(fast, slow);
    expect(merged.measured.operations).toBe(100);
    expect(merged.measured.names).toBe(200);
    expect(merged.measured.errors).toBe(1);
    expect(merged.measured.firstError).toBe('DEADLINE_EXCEEDED');
    expect(merged.measured.seconds).toBe(4);
    expect(merged.serverCpuSeconds).toBe(2);
    expect(merged.clientCpuSeconds).toBe(1);
    expect(merged.ioStallPercent).toBe(15); // (0 x 1 s + 20 x 3 s) / 4 s
    // Quantiles of the 100 calls together: the slow round is the top 10%.
    expect(merged.measured.latency.quantiles([0.5, 0.89, 0.9, 0.99])).toEqual([1, 1, 50, 50]);
    expect(merged.measured.latency.count).toBe(100);
  });

  it("keeps the worse round's event-loop delay, and a known one over an unknown one", () => {
    const merged = mergePhases(phase([1], 1, 0, '', { p99Ms: 4, maxMs: 9 }), phase([1], 3, 0, '', { p99Ms: 2, maxMs: 30 }));
    expect(merged.nodeLoop).toEqual({ p99Ms: 4, maxMs: 30 });
    expect(merged.loadLoop).toEqual({ p99Ms: 3, maxMs: 6 });
    expect(mergePhases(phase([1], 1, 0), phase([1], 1, 0, '', { p99Ms: 2, maxMs: 3 })).nodeLoop).toEqual({ p99Ms: 2, maxMs: 3 });
  });

  it('knows no disk-wait share when a round could not read it', () => {
    expect(mergePhases(phase([1], 1, 5), phase([1], 1, null)).ioStallPercent).toBeNull();
  });
});
