/**
 * A rebalance run killed with SIGKILL in the middle of a move leaves the user
 * marked moving with a start time (proxies keep answering "retry later"); the
 * next run sees the mark in the plan and resumes: it re-runs the (idempotent)
 * mover and commits. Also the leases themselves: grant, refuse, renew, release, lapse.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fixture, outcomes } from './fixture.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mbdir rebalance: a run killed mid-move, and the lease', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await Fixture.start();
    await fixture.servers([{ name: 'old' }, { name: 'home' }]);
    await fixture.business('acme', 'home');
  });
  afterAll(async () => fixture?.close());

  it('is resumed by the next run: re-copied, committed, unmarked', async () => {
    await fixture.user('crashed', 'old', 'acme');
    const started = join(fixture.tmp, 'mover.pid');
    const mover = fixture.script('stuck-mover.sh', 'echo $$ > "$2"\nsleep 60');
    const first = fixture.spawnRebalance(['--mover', `${mover} {user} ${started}`, '--lock-ttl', '1']);
    while (!existsSync(started) || readFileSync(started, 'utf8') === '') await pause(50);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBe(null);
    // The mover outlives a SIGKILLed job (its own process group); stop it as systemd's cgroup would.
    process.kill(-Number(readFileSync(started, 'utf8')), 'SIGKILL');

    const marked = await fixture.resolve('crashed');
    expect(marked).toMatchObject({ server: 'old', moving: true, moving_to: 'home' });
    expect(Number(marked['moving_since_ms'])).toBeGreaterThan(0);
    const plan = await fixture.rebalance(['--dry-run']);
    expect(plan.lines).toEqual([expect.objectContaining({ user: 'crashed', moving: true })]);

    // The killed run's lease lapses after its 1 s TTL; the next run waits for it.
    const second = await fixture.rebalance(['--mover', 'true', '--lock-wait', '20']);
    expect(second.lines).toEqual([expect.objectContaining({ user: 'crashed', outcome: 'moved', resumed: true })]);
    expect(second.code).toBe(0);
    expect(await fixture.resolve('crashed')).toMatchObject({ server: 'home', moving: false, moving_since_ms: 0 });
  });

  it('clears the mark of a user a dead run left moving whose move is no longer planned', async () => {
    await fixture.user('reassigned', 'old', 'acme');
    await fixture.client.markUserMoving({ user: 'reassigned', from_server: 'old', to_server: 'home' });
    await fixture.business('local', 'old');
    await fixture.client.setUserBusiness({ user: 'reassigned', business: 'local' });
    expect(await fixture.resolve('reassigned')).toMatchObject({ server: 'old', moving: true });
    const run = await fixture.rebalance(['--mover', 'false']);
    expect(outcomes(run)).toEqual({ reassigned: 'unmarked' });
    expect(run.code).toBe(0);
    expect(await fixture.resolve('reassigned')).toMatchObject({ server: 'old', moving: false, moving_since_ms: 0 });
  });

  it('a run interrupted with SIGTERM kills its mover and clears the mark', async () => {
    await fixture.user('interrupted', 'old', 'acme');
    const started = join(fixture.tmp, 'interrupted.pid');
    const mover = fixture.script('slow-mover.sh', 'echo $$ > "$2"\nsleep 60');
    const run = fixture.spawnRebalance(['--mover', `${mover} {user} ${started}`]);
    while (!existsSync(started) || readFileSync(started, 'utf8') === '') await pause(50);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(outcomes(result)).toEqual({ interrupted: 'aborted' });
    expect(result.code).toBe(1);
    expect(await fixture.resolve('interrupted')).toMatchObject({ server: 'old', moving: false });
  });

  it('leases: granted when free, refused to another holder, renewed, released only by the holder, lapse', async () => {
    const acquire = (holder: string, ttl = 60_000) => fixture.client.acquireLock({ name: 'test-lease', holder, ttl_ms: ttl });
    const release = (holder: string) => fixture.client.releaseLock({ name: 'test-lease', holder });
    expect(await acquire('a')).toMatchObject({ granted: true, holder: 'a' });
    expect(await acquire('b')).toMatchObject({ granted: false, holder: 'a' });
    expect(await acquire('a')).toMatchObject({ granted: true, holder: 'a' });
    expect(await release('b')).toMatchObject({ released: false });
    expect(await release('a')).toMatchObject({ released: true });
    expect(await acquire('b', 1000)).toMatchObject({ granted: true, holder: 'b' });
    let answer = await acquire('c');
    while (answer['granted'] !== true) {
      expect(answer['holder']).toBe('b');
      await pause(100);
      answer = await acquire('c');
    }
    expect(answer).toMatchObject({ granted: true, holder: 'c' });
    await expect(acquire('d', 10)).rejects.toThrow(/INVALID_ARGUMENT: ttl_ms must be 1000\.\./);
  });
});
