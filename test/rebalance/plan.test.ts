/**
 * The rebalance job end to end against a real server: businesses spread over
 * three servers are gathered on their home servers, a DRAINING server is
 * emptied, the per-server and parallel bounds hold, and two runs never overlap.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fixture, outcomes } from './fixture.js';
import { seededRandom as seeded } from '../../tools/bench/stats.js';


/** Highest number of moves in flight at once, overall and per server, from the movers' start/end log. */
function concurrencyOf(log: string): { overall: number; perServer: number } {
  const inFlight = new Map<string, number>();
  let overall = 0;
  let maxOverall = 0;
  let maxPerServer = 0;
  for (const line of log.split('\n').filter((entry) => entry !== '')) {
    const [event, , from, to] = line.split(' ') as [string, string, string, string];
    const delta = event === 'start' ? 1 : -1;
    overall += delta;
    for (const server of [from, to]) inFlight.set(server, (inFlight.get(server) ?? 0) + delta);
    maxOverall = Math.max(maxOverall, overall);
    maxPerServer = Math.max(maxPerServer, ...inFlight.values());
  }
  return { overall: maxOverall, perServer: maxPerServer };
}

describe('mbdir rebalance: a directory with businesses spread over three servers', () => {
  let fixture: Fixture;
  const seed = Number(process.env['REBALANCE_SEED'] ?? 20261123);
  const homes: Record<string, string> = { acme: 's1', globex: 's2', initech: 's3' };
  const users: Array<{ id: string; business: string; server: string }> = [];

  beforeAll(async () => {
    console.log(`rebalance spread seed ${seed} (REBALANCE_SEED to replay)`);
    fixture = await Fixture.start();
    await fixture.servers([{ name: 's1' }, { name: 's2' }, { name: 's3' }]);
    for (const [business, home] of Object.entries(homes)) await fixture.business(business, home);
    const random = seeded(seed);
    const businesses = Object.keys(homes);
    for (let index = 0; index < 12; index += 1) {
      const business = businesses[index % 3] as string;
      const server = `s${1 + Math.floor(random() * 3)}`;
      users.push({ id: `u${index}`, business, server });
      await fixture.user(`u${index}`, server, business, ['Sent']);
    }
  });
  afterAll(async () => fixture?.close());

  it('plans exactly the misplaced users, moves them home, and then has nothing to do', async () => {
    const misplaced = users.filter((user) => homes[user.business] !== user.server).map((user) => user.id).sort();
    const dry = await fixture.rebalance(['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.lines.map((line) => line.user).sort()).toEqual(misplaced);

    const log = join(fixture.tmp, 'movers.log');
    const mover = fixture.script('logging-mover.sh', `echo "start $1 $2 $3" >> "$4"\nsleep 0.1\necho "end $1 $2 $3" >> "$4"`);
    const run = await fixture.rebalance(['--mover', `${mover} {user} {from} {to} ${log}`, '--parallel', '2', '--per-server', '1']);
    expect(run.stderr).toContain(`${misplaced.length} moved, 0 failed`);
    expect(run.code).toBe(0);
    expect(Object.values(outcomes(run)).every((outcome) => outcome === 'moved')).toBe(true);
    for (const user of users) {
      const resolved = await fixture.resolve(user.id);
      expect({ user: user.id, server: resolved['server'], moving: resolved['moving'] }).toEqual({
        user: user.id, server: homes[user.business], moving: false,
      });
    }
    const concurrency = concurrencyOf(readFileSync(log, 'utf8'));
    expect(concurrency.perServer).toBeLessThanOrEqual(1);
    expect(concurrency.overall).toBeLessThanOrEqual(2);

    const again = await fixture.rebalance(['--mover', 'false']);
    expect(again.code).toBe(0);
    expect(again.lines).toEqual([]);
  });

  it('empties a DRAINING server: to the business home, else to the least-loaded UP server', async () => {
    await fixture.servers([{ name: 's4' }]);
    await fixture.user('drain-acme', 's4', 'acme');
    await fixture.user('drain-free1', 's4', '');
    await fixture.user('drain-free2', 's4', '');
    await fixture.servers([{ name: 's4', state: 'DRAINING' }]);
    const dry = await fixture.rebalance(['--dry-run']);
    expect(dry.lines.map((line) => line.user).sort()).toEqual(['drain-acme', 'drain-free1', 'drain-free2']);

    const run = await fixture.rebalance(['--mover', 'true', '--max-users', '10']);
    expect(outcomes(run)).toEqual({ 'drain-acme': 'moved', 'drain-free1': 'moved', 'drain-free2': 'moved' });
    expect(run.code).toBe(0);
    expect((await fixture.resolve('drain-acme'))['server']).toBe('s1');
    const listed = await fixture.client.listServers({});
    const loads = Object.fromEntries(listed.servers.map((load) => [load.server?.name, load.users]));
    expect(loads['s4']).toBe(0);
    // The two users without a business went to the least-loaded UP servers, never back to s4.
    for (const user of ['drain-free1', 'drain-free2']) expect(['s1', 's2', 's3']).toContain((await fixture.resolve(user))['server']);
  });

  it('never runs two jobs at once: the second exits 3 naming the holder', async () => {
    await fixture.user('lock-user', 's3', 'acme');
    const started = join(fixture.tmp, 'lock-started');
    const release = join(fixture.tmp, 'lock-release');
    const mover = fixture.script('waiting-mover.sh', `touch "$2"\ni=0\nwhile [ ! -f "$3" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`);
    const first = fixture.spawnRebalance(['--mover', `${mover} {user} ${started} ${release}`]);
    while (!existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await fixture.rebalance(['--mover', 'true']);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/another run holds the rebalance lock: .+:\d+:/);
    writeFileSync(release, '');
    const firstRun = await first.done;
    expect(outcomes(firstRun)).toEqual({ 'lock-user': 'moved' });
    expect(firstRun.code).toBe(0);
  });
});
