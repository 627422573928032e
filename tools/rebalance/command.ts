/**
 * `mbdir rebalance`: the hourly job's command line. Parses and bounds the
 * options, builds the client from the global flags, runs the job (or prints
 * the plan with --dry-run) and turns the result into an exit code:
 * 0 every planned move succeeded (or none was needed), 1 some did not,
 * 2 a usage or connection error, 3 another run holds the lock.
 */
import { Command } from 'commander';
import { ClientError } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { clientFromCommand, type GlobalOptions } from '../cli/global-options.js';
import { LockBusyError, planFromWire, runJob, type JobOptions } from './job.js';
import { splitTemplate } from './mover.js';
import { jsonReporter, printPlan, terminalReporter } from './report.js';

export const exitCodes = { ok: 0, someFailed: 1, usage: 2, lockBusy: 3 } as const;

class UsageError extends Error {}

function bounded(value: string, name: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) throw new UsageError(`${name} must be ${min}..${max}, not ${JSON.stringify(value)}`);
  return parsed;
}

function jobOptions(options: Record<string, string | boolean | undefined>): JobOptions {
  const mover = options['mover'];
  if (typeof mover !== 'string') throw new UsageError("--mover 'CMD {user} {from} {to}' is required (or --dry-run)");
  let moverWords: string[];
  try {
    moverWords = splitTemplate(mover);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    moverWords,
    moverTimeoutMs: bounded(String(options['moverTimeout']), '--mover-timeout', 0.1, limits.moverTimeoutMsMax / 1000) * 1000,
    parallel: Math.floor(bounded(String(options['parallel']), '--parallel', 1, limits.rebalanceParallelMax)),
    perServer: Math.floor(bounded(String(options['perServer']), '--per-server', 1, limits.rebalancePerServerMax)),
    maxUsers: Math.floor(bounded(String(options['maxUsers']), '--max-users', 0, limits.planUsersMax)),
    lockTtlMs: Math.floor(bounded(String(options['lockTtl']), '--lock-ttl', limits.lockTtlMsMin / 1000, limits.lockTtlMsMax / 1000) * 1000),
    lockWaitMs: bounded(String(options['lockWait']), '--lock-wait', 0, limits.lockTtlMsMax / 1000) * 1000,
  };
}

async function rebalance(options: Record<string, string | boolean | undefined>, command: Command): Promise<number> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const json = globals.json === true || process.stdout.isTTY !== true;
  const client = clientFromCommand(command);
  try {
    if (options['dryRun'] === true) {
      const maxUsers = Math.floor(bounded(String(options['maxUsers']), '--max-users', 0, limits.planUsersMax));
      const plan = await client.planRebalance({ max_users: maxUsers });
      printPlan(planFromWire(plan), plan.total, json);
      return exitCodes.ok;
    }
    const job = jobOptions(options);
    const reporter = json ? jsonReporter() : terminalReporter();
    const interrupt = new AbortController();
    const onSignal = (): void => interrupt.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const reports = await runJob(client, job, reporter, interrupt.signal);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    reporter.done(reports);
    return reports.every((report) => report.outcome === 'moved' || report.outcome === 'unmarked') ? exitCodes.ok : exitCodes.someFailed;
  } finally {
    client.close();
  }
}

function exitCodeOf(error: unknown): number {
  if (error instanceof LockBusyError) return exitCodes.lockBusy;
  return exitCodes.usage;
}

/** Adds `mbdir rebalance` to the program. */
export function addRebalanceCommand(program: Command): void {
  program
    .command('rebalance')
    .description("move every user to their business's server (and off DRAINING servers), with a mover you give")
    .option('--mover <template>', "command per user, e.g. 'xfer-user {user} {from} {to}' (words split first, then filled in)")
    .option('--mover-timeout <seconds>', 'kill a mover (its whole process group) after this long', '1800')
    .option('--parallel <n>', 'moves at once', '2')
    .option('--per-server <n>', 'moves at once touching one server (as source or target)', '1')
    .option('--max-users <n>', 'users moved by one run at most (0: the directory default)', '0')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--lock-ttl <seconds>', 'the run lease; renewed every third of it while the run lives', '60')
    .option('--lock-wait <seconds>', 'wait this long for another run to end instead of exiting 3', '0')
    .exitOverride((error) => {
      process.exit(error.exitCode === 0 ? 0 : exitCodes.usage);
    })
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      try {
        process.exitCode = await rebalance(options, command);
      } catch (error) {
        const message = error instanceof ClientError ? `${error.codeName}: ${error.details}` : (error as Error).message;
        process.stderr.write(`mbdir rebalance: ${message}\n`);
        process.exitCode = exitCodeOf(error);
      }
    });
}
