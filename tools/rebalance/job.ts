/**
 * One run of the rebalance job: take the lease, ask the plan, and move each
 * planned user (mark moving, run the mover, commit the move guarded on the
 * source server and the hierarchy's fingerprint; clear the mark on any
 * failure), with bounded concurrency, renewing the lease while it runs. It
 * never commits a move whose copy did not finish. Users stay marked moving past
 * its end only when it was killed or lost its lease: the next run resumes them.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { MarkUserMovingResponse__Output, PlanRebalanceResponse__Output } from '../../src/client/messages.js';
import { runMover } from './mover.js';
import { runScheduled } from './scheduler.js';

/** The lease every run takes; two runs never overlap. */
export const rebalanceLockName = 'rebalance';
/** How often a run waiting for the lease asks again. */
export const lockPollMs = 1000;

export interface JobOptions {
  moverWords: readonly string[];
  moverTimeoutMs: number;
  parallel: number;
  perServer: number;
  maxUsers: number;
  lockTtlMs: number;
  lockWaitMs: number;
}

export type Outcome = 'moved' | 'failed' | 'changed' | 'aborted' | 'skipped' | 'unmarked';

/** One line of the report: what happened to one planned user. */
export interface MoveReport {
  user: string;
  from: string;
  to: string;
  outcome: Outcome;
  reason: string;
  duration_ms: number;
  resumed: boolean;
}

export interface PlannedMove {
  user: string;
  from: string;
  to: string;
  reason: string;
  business: string;
  moving: boolean;
}

/** Another run holds the lease. */
export class LockBusyError extends Error {}

export interface JobHooks {
  planned(moves: readonly PlannedMove[], total: number): void;
  started(move: PlannedMove): void;
  finished(report: MoveReport): void;
}

export function newHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the lease, waiting up to `lockWaitMs` for a live holder to release or lapse. */
export async function acquireLease(client: MbdirClient, holder: string, options: JobOptions): Promise<void> {
  const giveUpAt = Date.now() + options.lockWaitMs;
  for (;;) {
    const answer = await client.acquireLock({ name: rebalanceLockName, holder, ttl_ms: options.lockTtlMs });
    if (answer.granted) return;
    if (Date.now() >= giveUpAt) {
      const until = new Date(answer.expires_ms).toISOString();
      throw new LockBusyError(`another run holds the rebalance lock: ${answer.holder} (until ${until})`);
    }
    await sleep(lockPollMs);
  }
}

/** Renews the lease every third of its TTL; calls `lost` once if it cannot be renewed before it lapses. */
function keepLease(client: MbdirClient, holder: string, ttlMs: number, lost: (why: string) => void): () => void {
  let validUntil = Date.now() + ttlMs;
  let stopped = false;
  const renew = async (): Promise<void> => {
    try {
      const answer = await client.acquireLock({ name: rebalanceLockName, holder, ttl_ms: ttlMs }, ttlMs / 3);
      if (answer.granted) validUntil = Date.now() + ttlMs;
      else lost(`the rebalance lock was taken by ${answer.holder}`);
    } catch (error) {
      if (Date.now() >= validUntil) lost(`the rebalance lock could not be renewed: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => {
    if (!stopped) void renew();
  }, Math.max(250, Math.floor(ttlMs / 3)));
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

export function planFromWire(response: PlanRebalanceResponse__Output): PlannedMove[] {
  return response.moves.map((move) => ({
    user: move.user,
    from: move.from_server,
    to: move.to_server,
    reason: move.reason,
    business: move.business,
    moving: move.moving,
  }));
}

function errorText(error: unknown): string {
  return error instanceof ClientError ? `${error.codeName}: ${error.details}` : (error as Error).message;
}

/** Clears a user's moving mark; answers '' or why it could not (the next run then resumes). */
async function clearMark(client: MbdirClient, move: PlannedMove): Promise<string> {
  try {
    await client.markUserMoving({ user: move.user, from_server: move.from, to_server: move.to, clear: true });
    return '';
  } catch (error) {
    return `; clearing the moving mark failed (${errorText(error)}): the next run resumes`;
  }
}

/** Moves one user: mark, copy, guarded commit; on any failure clears the mark (unless told to keep it). */
async function moveOne(client: MbdirClient, move: PlannedMove, options: JobOptions, run: RunState): Promise<MoveReport> {
  const startedAt = Date.now();
  const report = (outcome: Outcome, reason: string): MoveReport => ({
    user: move.user, from: move.from, to: move.to, outcome, reason, duration_ms: Date.now() - startedAt, resumed: move.moving,
  });
  let mark: MarkUserMovingResponse__Output;
  try {
    mark = await client.markUserMoving({ user: move.user, from_server: move.from, to_server: move.to });
  } catch (error) {
    return report('failed', `marking the user moving was refused: ${errorText(error)}`);
  }
  const moved = await runMover(options.moverWords, move, options.moverTimeoutMs, run.abort.signal);
  if (!moved.ok) {
    if (run.keepMarks) return report('aborted', `${run.stopReason}: left marked moving for the next run`);
    const outcome = run.abort.signal.aborted ? 'aborted' : 'failed';
    const reason = outcome === 'aborted' ? run.stopReason : moved.reason;
    return report(outcome, reason + (await clearMark(client, move)));
  }
  try {
    await client.moveUser({
      user: move.user, from_server: move.from, to_server: move.to,
      expect_revision: mark.hierarchy_revision, expect_mailboxes: mark.hierarchy_mailboxes,
    });
    return report('moved', '');
  } catch (error) {
    const changed = error instanceof ClientError && error.code === grpc.status.ALREADY_EXISTS;
    const why = changed ? `the hierarchy changed during the copy, retried next run (${error.details})` : `commit refused: ${errorText(error)}`;
    return report(changed ? 'changed' : 'failed', why + (await clearMark(client, move)));
  }
}

/** Clears the marks a dead run left on users whose move is no longer planned. */
async function clearStaleMarks(client: MbdirClient, users: readonly string[], hooks: JobHooks): Promise<MoveReport[]> {
  const reports: MoveReport[] = [];
  for (const user of users) {
    const startedAt = Date.now();
    const failure = await clearMark(client, { user, from: '', to: '', reason: '', business: '', moving: true });
    const report: MoveReport = {
      user, from: '', to: '', outcome: failure === '' ? 'unmarked' : 'failed',
      reason: `marked moving by an earlier run but no longer planned: mark cleared${failure}`,
      duration_ms: Date.now() - startedAt, resumed: false,
    };
    reports.push(report);
    hooks.finished(report);
  }
  return reports;
}

interface RunState {
  abort: AbortController;
  stopReason: string;
  /** True when the lease was lost: in-flight users stay marked for the next holder. */
  keepMarks: boolean;
}

/** Runs one whole job under the lease; resolves with every planned user's report. */
export async function runJob(client: MbdirClient, options: JobOptions, hooks: JobHooks, stopSignal: AbortSignal): Promise<MoveReport[]> {
  const holder = newHolder();
  await acquireLease(client, holder, options);
  const run: RunState = { abort: new AbortController(), stopReason: '', keepMarks: false };
  const stop = (reason: string, keepMarks: boolean): void => {
    if (run.abort.signal.aborted) return;
    run.stopReason = reason;
    run.keepMarks = keepMarks;
    run.abort.abort();
  };
  const onSignal = (): void => stop('the run was interrupted', false);
  stopSignal.addEventListener('abort', onSignal);
  const stopRenewing = keepLease(client, holder, options.lockTtlMs, (why) => stop(why, true));
  const reports: MoveReport[] = [];
  try {
    const plan = await client.planRebalance({ max_users: options.maxUsers });
    const moves = planFromWire(plan);
    hooks.planned(moves, plan.total);
    reports.push(...(await clearStaleMarks(client, plan.stale_moving, hooks)));
    const started = new Set<string>();
    const tasks = moves.map((move) => ({
      servers: [move.from, move.to],
      run: async () => {
        started.add(move.user);
        hooks.started(move);
        const result = await moveOne(client, move, options, run);
        reports.push(result);
        hooks.finished(result);
      },
    }));
    await runScheduled(tasks, options, () => run.abort.signal.aborted);
    for (const move of moves.filter((planned) => !started.has(planned.user))) {
      const skipped: MoveReport = {
        user: move.user, from: move.from, to: move.to, outcome: 'skipped', reason: run.stopReason, duration_ms: 0, resumed: move.moving,
      };
      reports.push(skipped);
      hooks.finished(skipped);
    }
  } finally {
    stopSignal.removeEventListener('abort', onSignal);
    stopRenewing();
    await client.releaseLock({ name: rebalanceLockName, holder }).catch(() => undefined);
  }
  return reports;
}
