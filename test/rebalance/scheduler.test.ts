/**
 * The scheduler's bounds, with seeded random tasks: never more than `parallel`
 * at once, never more than `perServer` touching one server, every task run once,
 * and nothing new started once asked to stop.
 */
import { describe, expect, it } from 'vitest';
import { runScheduled, type ServerTask } from '../../tools/rebalance/scheduler.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

describe('runScheduled', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`keeps both bounds and runs every task once (seed ${seed})`, async () => {
      const random = seeded(seed);
      const servers = ['a', 'b', 'c', 'd'];
      const inFlight = new Map<string, number>();
      let running = 0;
      let maxRunning = 0;
      let maxPerServer = 0;
      const ran: number[] = [];
      const tasks: ServerTask[] = Array.from({ length: 40 }, (_, index) => {
        const from = servers[Math.floor(random() * 4)] as string;
        const to = servers[Math.floor(random() * 4)] as string;
        const ticks = 1 + Math.floor(random() * 3);
        return {
          servers: [from, to],
          run: async () => {
            running += 1;
            for (const server of new Set([from, to])) inFlight.set(server, (inFlight.get(server) ?? 0) + 1);
            maxRunning = Math.max(maxRunning, running);
            maxPerServer = Math.max(maxPerServer, ...inFlight.values());
            for (let tick = 0; tick < ticks; tick += 1) await new Promise((resolve) => setImmediate(resolve));
            for (const server of new Set([from, to])) inFlight.set(server, (inFlight.get(server) ?? 0) - 1);
            running -= 1;
            ran.push(index);
            if (index % 7 === 0) throw new Error('a failing task does not stop the others');
          },
        };
      });
      await runScheduled(tasks, { parallel: 3, perServer: 2 }, () => false);
      expect(maxRunning).toBeLessThanOrEqual(3);
      expect(maxPerServer).toBeLessThanOrEqual(2);
      expect([...ran].sort((x, y) => x - y)).toEqual(tasks.map((_, index) => index));
    });
  }

  it('starts nothing new once stopped, and waits for the running ones', async () => {
    let stop = false;
    const ran: number[] = [];
    const tasks: ServerTask[] = Array.from({ length: 10 }, (_, index) => ({
      servers: [`s${index}`],
      run: async () => {
        ran.push(index);
        await new Promise((resolve) => setImmediate(resolve));
        stop = true;
      },
    }));
    await runScheduled(tasks, { parallel: 2, perServer: 1 }, () => stop);
    expect(ran).toEqual([0, 1]);
  });
});
