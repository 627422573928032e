import { describe, expect, it } from 'vitest';
import type { EngineStatus } from '../../src/replication/engine.js';
import { readinessOf } from '../../src/server/readiness.js';

const etcd = (healthy: boolean[], applied: number, cluster: number): EngineStatus => ({
  engine: 'etcd',
  appliedRevision: applied,
  clusterRevision: cluster,
  endpoints: healthy.map((up, index) => ({ endpoint: `http://127.0.0.1:${2379 + index}`, healthy: up, error: up ? '' : 'refused', revision: cluster, leader: index === 0 })),
});
const standalone: EngineStatus = { engine: 'standalone', appliedRevision: 5, clusterRevision: 5, endpoints: [] };

describe('readiness', () => {
  it('a started standalone node is ready; starting or draining it is not, and says why', () => {
    expect(readinessOf({ started: true, draining: false, status: standalone })).toEqual({ ready: true, reasons: [] });
    expect(readinessOf({ started: false, draining: false, status: undefined }).reasons).toEqual(['starting: the data directory is not open yet']);
    expect(readinessOf({ started: true, draining: true, status: standalone }).reasons).toEqual(['draining: the node is stopping']);
  });

  it('an etcd node needs a member with a leader and a copy close to etcd', () => {
    expect(readinessOf({ started: true, draining: false, status: etcd([false, true, false], 10, 12) }).ready).toBe(true);
    const noQuorum = readinessOf({ started: true, draining: false, status: etcd([false, false, false], 10, 10) });
    expect(noQuorum.ready).toBe(false);
    expect(noQuorum.reasons[0]).toMatch(/no etcd member with a leader answered \(http:\/\/127\.0\.0\.1:2379, .*\): writes would fail/);
    const behind = readinessOf({ started: true, draining: false, status: etcd([true], 10, 60) }, 49);
    expect(behind.reasons).toEqual(['50 revisions behind etcd (more than 49)']);
    expect(readinessOf({ started: true, draining: false, status: undefined }).reasons).toEqual(['the engine status could not be read']);
  });
});
