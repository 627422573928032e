/**
 * The options every client subcommand shares (`--endpoint`, `--token`, TLS,
 * `--timeout`, `--json`) and the one place that turns them into a client, so
 * the client commands, import/export and the rebalance job connect alike.
 */
import type { Command } from 'commander';
import { MbdirClient } from '../../src/client/client.js';

export interface GlobalOptions {
  endpoint: string;
  token?: string;
  json?: boolean;
  timeout: string;
  tlsCa?: string;
  clientCert?: string;
  clientKey?: string;
}

/** A client for the node the command's global options name. */
export function clientFromCommand(command: Command): MbdirClient {
  const options = command.optsWithGlobals<GlobalOptions>();
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
    deadlineMs: Number(options.timeout) * 1000,
  });
}
