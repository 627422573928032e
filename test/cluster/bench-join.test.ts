/**
 * `mbdir bench join` as an operator runs it, kept short: it starts its etcd
 * member, fills it with a small directory and deleted users' tombstones in the
 * node's format, starts fresh nodes one after the other, and reports for each
 * the time to serving, its peak memory, and every mailbox of the directory
 * served (none lost, none of the deleted users'). Untimed: the figures are not asserted.
 */
import { expect, it } from 'vitest';
import { runCli } from '../helpers/server-process.js';

interface JoinRound {
  seconds: number;
  peakRssMb: number;
  mailboxesServed: number;
}

it('bench join serves every mailbox of the filled keyspace on each fresh node', { timeout: 120_000 }, async () => {
  const run = await runCli([
    '--json', 'bench', 'join', '--users', '300', '--folders', '5', '--public-folders', '2', '--deleted-users', '50', '--rounds', '2',
  ]);
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as { mailboxes: number; keys: number; relistedKeys: number; rounds: JoinRound[] };
  expect(report.mailboxes).toBe(300 * 5 + 2);
  // Per live user: a hierarchy, a uid per folder, a user record; per deleted user: an empty hierarchy and 5 uid tombstones.
  expect(report.keys).toBeGreaterThan(300 * 7 + 50 * 6);
  expect(report.rounds).toHaveLength(2);
  for (const round of report.rounds) {
    expect(round.mailboxesServed).toBe(report.mailboxes);
    expect(round.seconds).toBeGreaterThan(0);
    expect(round.peakRssMb).toBeGreaterThan(0);
  }
});
