/**
 * What the rebalance job prints: on a terminal a progress bar (cli-progress)
 * and the failures at the end; otherwise one JSON line per user on stdout
 * (user, from, to, outcome, reason, duration_ms, resumed). The one-line summary
 * goes to stderr either way, so stdout stays machine-readable.
 */
import cliProgress from 'cli-progress';
import type { JobHooks, MoveReport, PlannedMove } from './job.js';

export interface Reporter extends JobHooks {
  done(reports: readonly MoveReport[]): void;
}

export function summaryLine(reports: readonly MoveReport[], total: number): string {
  const count = (outcome: MoveReport['outcome']): number => reports.filter((report) => report.outcome === outcome).length;
  return (
    `rebalance: ${count('moved')} moved, ${count('failed')} failed, ${count('changed')} changed during the move, ` +
    `${count('aborted')} aborted, ${count('skipped')} skipped, ${count('unmarked')} stale marks cleared; ` +
    `${reports.length - count('unmarked')} planned of ${total} to move`
  );
}

/** JSON lines, one per user, as each move ends. */
export function jsonReporter(): Reporter {
  let total = 0;
  return {
    planned: (_moves, planTotal) => {
      total = planTotal;
    },
    started: () => undefined,
    finished: (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
    done: (reports) => process.stderr.write(`${summaryLine(reports, total)}\n`),
  };
}

/** A progress bar on the terminal, then the users that did not move and why. */
export function terminalReporter(): Reporter {
  const bar = new cliProgress.SingleBar(
    { format: 'rebalance [{bar}] {value}/{total} | moved {moved} | not moved {notMoved} | {user}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let moved = 0;
  let notMoved = 0;
  return {
    planned: (moves, planTotal) => {
      total = planTotal;
      bar.start(moves.length, 0, { moved, notMoved, user: '' });
    },
    started: (move: PlannedMove) => bar.update({ user: move.user }),
    finished: (report) => {
      if (report.outcome === 'unmarked') return; // not a planned move: listed at the end
      if (report.outcome === 'moved') moved += 1;
      else notMoved += 1;
      bar.increment(1, { moved, notMoved, user: report.user });
    },
    done: (reports) => {
      bar.stop();
      for (const report of reports.filter((entry) => entry.outcome !== 'moved')) {
        process.stdout.write(`${report.user}\t${report.from} -> ${report.to}\t${report.outcome}: ${report.reason}\n`);
      }
      process.stderr.write(`${summaryLine(reports, total)}\n`);
    },
  };
}

/** The plan as --dry-run prints it: JSON lines, or one line per user on a terminal. */
export function printPlan(moves: readonly PlannedMove[], total: number, json: boolean): void {
  for (const move of moves) {
    process.stdout.write(
      json
        ? `${JSON.stringify(move)}\n`
        : `${move.user}\t${move.from} -> ${move.to}\t${move.reason}${move.moving ? '\t(marked moving: resumes)' : ''}\n`,
    );
  }
  process.stderr.write(`rebalance: dry run, ${moves.length} of ${total} user(s) to move; nothing changed\n`);
}
