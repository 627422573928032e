/**
 * The options every client subcommand shares (`--endpoint`, `--token`, TLS,
 * `--timeout`, `--json`) and the one place that turns them into a client, so
 * the client commands, import/export and the rebalance job connect alike.
 */
import type { Command } from 'commander';
import { MbdirClient } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';

export interface GlobalOptions {
  endpoint: string;
  token?: string;
  json?: boolean;
  timeout: string;
  tlsCa?: string;
  clientCert?: string;
  clientKey?: string;
}

/**
 * The deadline of each call, in milliseconds, from `--timeout SECONDS`: a
 * positive number of seconds, to the millisecond, at most
 * limits.clientTimeoutSecondsMax. Anything else would reach gRPC as a deadline
 * already past (every call DEADLINE_EXCEEDED) or one the client cannot keep.
 */
export function deadlineMsOf(timeout: string): number {
  const milliseconds = Math.round(Number(timeout) * 1000);
  if (!/^\d{1,7}(\.\d{1,3})?$/.test(timeout) || milliseconds < 1 || milliseconds > limits.clientTimeoutSecondsMax * 1000) {
    throw new Error(`--timeout is ${JSON.stringify(timeout)}; expected seconds from 0.001 to ${limits.clientTimeoutSecondsMax}`);
  }
  return milliseconds;
}

/** A client for the node the command's global options name. */
export function clientFromCommand(command: Command): MbdirClient {
  const options = command.optsWithGlobals<GlobalOptions>();
  const deadlineMs = deadlineMsOf(options.timeout);
  const tls =
    options.tlsCa !== undefined || options.clientCert !== undefined
      ? {
          ...(options.tlsCa === undefined ? {} : { ca: options.tlsCa }),
          ...(options.clientCert === undefined ? {} : { cert: options.clientCert }),
          ...(options.clientKey === undefined ? {} : { key: options.clientKey }),
        }
      : undefined;
  return new MbdirClient({
    endpoint: options.endpoint,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(tls === undefined ? {} : { tls }),
    deadlineMs,
  });
}
