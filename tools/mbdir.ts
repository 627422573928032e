#!/usr/bin/env node
/**
 * `mbdir`: the one command for operators. `mbdir serve` runs a node; every
 * other subcommand is a client of one RPC against `--endpoint`. Errors print as
 * one line on stderr with a non-zero exit; `--help` on any subcommand says more.
 */
import { Command, Option } from 'commander';
import { ClientError } from '../src/client/client.js';
import { addBenchCommands } from './bench/command.js';
import { addClientCommands } from './cli/client-commands.js';
import { environmentName, resolveServeSettings, serveDefaults, type ServeSettings } from './cli/config.js';
import { serve, version } from './cli/serve.js';
import { addTransferCommands } from './cli/transfer.js';

const program = new Command();
program
  .name('mbdir')
  .description('mbdir: a distributed mailbox-location directory (replaces Cyrus mupdate)')
  .version(version)
  .addOption(
    new Option('--endpoint <host:port>', 'the node to talk to').env('MBDIR_ENDPOINT').default('127.0.0.1:7878'),
  )
  .addOption(new Option('--token <token>', 'bearer token').env('MBDIR_TOKEN'))
  .addOption(new Option('--tls-ca <file>', 'CA to verify the node (enables TLS)').env('MBDIR_TLS_CA'))
  .option('--tls-cert <file>', 'client certificate (with --tls-key)')
  .option('--tls-key <file>', 'client key')
  .option('--timeout <seconds>', 'deadline of each call', '30')
  .option('--json', 'print answers as JSON')
  .showHelpAfterError();

const serveCommand = program
  .command('serve')
  .description('run a directory node (standalone SQLite by default)')
  .option('--config <file>', 'JSON file of settings (keys as below, camelCase)');
const serveFlags: Array<[keyof ServeSettings, string, string]> = [
  ['engine', '--engine <engine>', 'standalone or etcd'],
  ['dataDir', '--data-dir <dir>', 'where the SQLite database lives'],
  ['listen', '--listen <host:port>', 'gRPC address (port 0 picks one)'],
  ['synchronous', '--synchronous <mode>', 'SQLite synchronous: FULL survives power loss, NORMAL is faster'],
  ['nodeId', '--node-id <id>', 'name of this node in status and logs (default: host name)'],
  ['logLevel', '--log-level <level>', 'fatal, error, warn, info, debug, trace or silent'],
];
for (const [key, flags, description] of serveFlags) {
  serveCommand.option(flags, `${description} [env ${environmentName(key)}; default ${JSON.stringify(serveDefaults[key])}]`);
}
serveCommand.action(async (options: Record<string, string | undefined>) => {
  const flags: Partial<Record<keyof ServeSettings, string>> = {};
  for (const [key] of serveFlags) {
    const value = options[key];
    if (value !== undefined) flags[key] = value;
  }
  await serve(resolveServeSettings(flags, process.env, options['config']));
});

addClientCommands(program);
addTransferCommands(program);
addBenchCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof ClientError ? `${error.codeName}: ${error.details}` : (error as Error).message;
  process.stderr.write(`mbdir: ${message}\n`);
  process.exit(1);
});
