/**
 * `mbdir bench mixed` end to end on a tiny directory (not timed: the figures
 * of a loaded test machine mean nothing): lookups at a fixed rate on the quiet
 * node, then beside heavy LISTs, snapshot Watches and full scans run by its
 * helper process, in turns; the table and the JSON say what each did, with the
 * node's and the load generator's event-loop delay, and nothing is left running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timerFifoPriority } from '../../tools/bench/timer-priority.js';
import { runCli } from '../helpers/server-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'mbdir-bench-mixed-'));
const dataDir = join(scratch, 'tiny');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(async () => {
  const generated = await runCli(['bench', 'generate', '--data-dir', dataDir, '--users', '40', '--folders', '5', '--businesses', '4', '--group-share-rate', '0.5', '--seed', '5']);
  expect(generated.code, generated.stderr).toBe(0);
}, 60_000);

const common = [
  '--data-dir', dataDir, '--duration', '1', '--rounds', '2', '--warmup', '0.2', '--lookup-rate', '200',
  '--list-callers', '2', '--watchers', '4', '--list-mailboxes', '60', '--synchronous', 'NORMAL', '--no-prewarm',
];

interface Row {
  row: string;
  calls: number;
  namesPerSecond: number;
  p99Ms: number;
  errors: number;
  firstError: string;
  eventLoopP99Ms: number | null;
  loadEventLoopP99Ms: number | null;
  mainThreadRunPercent: number;
  mainThreadWaitPercent: number;
  nodeGc: { minorCount: number; minorMs: number; majorCount: number; majorMs: number } | null;
}

describe('mbdir bench mixed', () => {
  it('measures lookups quiet and beside heavy callers, in turns, and says what each did', async () => {
    const run = await runCli(['--json', 'bench', 'mixed', ...common]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { rows: Row[]; heavyList: { mailboxes: number; groups: number }; p99Ratio: number; nodeMailboxes: number; timerScheduling: string };
    expect(report.nodeMailboxes).toBe(20 + 40 * 5);
    // As root the timing thread gets SCHED_FIFO (the heavy callers it started were checked normal, or the run fails); otherwise it says why not.
    if (process.getuid?.() === 0) expect(report.timerScheduling).toBe(`SCHED_FIFO ${timerFifoPriority}`);
    else expect(report.timerScheduling).toMatch(/^normal \(chrt /);
    expect(report.rows.map((row) => row.row)).toEqual([
      'GetMailbox 200/s, quiet',
      'GetMailbox 200/s, mixed',
      `ListMailboxes x${report.heavyList.mailboxes} @2, mixed`,
      'Watch snapshot x4, mixed',
      'ScanMailboxes (all), mixed',
    ]);
    // Owner's 5 + 20 public + about 20 shared with each business group named: the 60 asked for need two groups.
    expect(report.heavyList.mailboxes).toBeGreaterThanOrEqual(60);
    expect(report.heavyList.groups).toBe(2);
    const [quiet, mixed, lists, watches, scans] = report.rows as [Row, Row, Row, Row, Row];
    for (const row of report.rows) expect(row.errors, `${row.row}: ${row.firstError}`).toBe(0);
    // Open loop: every due lookup was sent and answered, 200/s for 1 s per phase.
    expect(quiet.calls).toBe(200);
    expect(mixed.calls).toBe(200);
    expect(lists.calls).toBeGreaterThan(0);
    expect(watches.calls).toBe(4 * 2); // four streams a round
    expect(watches.namesPerSecond).toBeGreaterThan(0);
    expect(scans.namesPerSecond).toBeGreaterThan(0);
    for (const row of [quiet, mixed]) {
      expect(row.eventLoopP99Ms, row.row).toEqual(expect.any(Number));
      expect(row.loadEventLoopP99Ms, row.row).toEqual(expect.any(Number));
      // The node's main thread served lookups in each phase: it ran, and its wait is a share of the phase.
      expect(row.mainThreadRunPercent, row.row).toBeGreaterThan(0);
      expect(row.mainThreadWaitPercent, row.row).toBeGreaterThanOrEqual(0);
      // The node's collections over the phase, from its /metrics: counts and pause totals, never negative.
      expect(row.nodeGc, row.row).not.toBeNull();
      for (const value of Object.values(row.nodeGc ?? {})) expect(value, row.row).toBeGreaterThanOrEqual(0);
    }
    expect(report.p99Ratio).toBeCloseTo(mixed.p99Ms / quiet.p99Ms, 1);
  }, 120_000);

  it('prints its table, then the ratio the targets are about; lookups on LookupStreams, heavy callers under SCHED_IDLE if asked', async () => {
    const run = await runCli(['bench', 'mixed', ...common, '--rounds', '1', '--no-scan', '--watchers', '0', '--lookup-method', 'LookupStream', '--no-realtime-timer', '--heavy-callers-idle']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\| phase: caller +\| calls +\| calls\/s +\| names\/s +\| p50 ms +\| p99 ms +\| max ms +\| errors +\| loop p99\/max +\| load loop p99\/max +\| node cpu % +\| main thread ran\/waited % +\| node GC minor\/major: n, ms +\|$/m);
    // Every due lookup answered (the errors column is 0): a LookupStream message per lookup.
    expect(run.stdout).toMatch(/^\| LookupStream 200\/s, quiet +\| 200 +\| 200 +\| 200 +\| [\d.]+ +\| [\d.]+ +\| [\d.]+ +\| 0 /m);
    expect(run.stdout).toMatch(/^\| LookupStream 200\/s, mixed +\| 200 +\| 200 +\| 200 +\| [\d.]+ +\| [\d.]+ +\| [\d.]+ +\| 0 /m);
    // The heavy callers ran (as SCHED_IDLE, on a host with spare cores they still get them): their LISTs were answered.
    expect(run.stdout).toMatch(/^\| ListMailboxes x\d+ @2, mixed +\| [1-9]\d* /m);
    expect(run.stdout).not.toContain('ScanMailboxes');
    expect(run.stdout).toMatch(/lookup p99 mixed\/quiet: \d+\.\d\d/);
    expect(run.stdout).toMatch(/load average/);
    expect(run.stdout).toContain("the lookups' timing thread: normal (--no-realtime-timer)");
  }, 120_000);

  it('refuses a rate or a caller count out of bounds, naming the option', async () => {
    for (const [option, value] of [['--lookup-rate', '0'], ['--list-callers', '100000'], ['--watchers', 'some'], ['--lookup-method', 'Unary']] as const) {
      const run = await runCli(['bench', 'mixed', '--data-dir', join(scratch, 'never-made'), option, value]);
      expect(run.code, option).not.toBe(0);
      expect(run.stderr, option).toContain(`option '${option}`);
    }
  });
});
