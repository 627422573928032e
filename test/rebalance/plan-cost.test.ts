/**
 * Regression: planning a DRAINING server's users counted users per server (a
 * GROUP BY over every user root) once per drained user, so draining a
 * 10,000-user server took minutes and blocked the node. The plan now counts
 * once; this test counts the store's per-server scans on a real (in-memory) store.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { planRebalance } from '../../src/directory/placement-rules.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

describe('planRebalance on a DRAINING server', () => {
  const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  afterEach(async () => {
    await engine.close();
    store.close();
  });

  it('counts users per server once, and spreads drained users over the UP servers', async () => {
    const server = (name: string, state: 'UP' | 'DRAINING') =>
      directory.putServer({ name, imapAddress: '127.0.0.1:143', lmtpAddress: '127.0.0.1:24', pop3Address: '', state, weight: 1, datacenter: '' });
    await server('up1', 'UP');
    await server('up2', 'UP');
    await server('old', 'UP');
    await Promise.all(Array.from({ length: 200 }, (_, index) => directory.createMailbox({ name: `user.d${index}`, server: 'old' })));
    await server('old', 'DRAINING');
    const counted = vi.spyOn(store, 'usersPerServer');
    const plan = planRebalance(store, 1000);
    expect(counted).toHaveBeenCalledTimes(1);
    expect(plan.total).toBe(200);
    const targets = new Map<string, number>();
    for (const move of plan.moves) targets.set(move.toServer, (targets.get(move.toServer) ?? 0) + 1);
    expect(Object.fromEntries(targets)).toEqual({ up1: 100, up2: 100 });
  });
});
