#!/usr/bin/env -S node --initial-old-space-size=128
/**
 * `mbdir`: the one command for operators. `mbdir serve` runs a node; every
 * other subcommand is a client of one RPC against `--endpoint`. Errors print as
 * one line on stderr with a non-zero exit; `--help` on any subcommand says more.
 */
import { Command, Option } from 'commander';
import { ClientError } from '../src/client/client.js';
import { addToken } from '../src/server/node-entry.js';
import { addBenchCommands } from './bench/command.js';
import { addClientCommands } from './cli/client-commands.js';
import { environmentName, resolveServeSettings, serveDefaults, type ServeSettings } from './cli/config.js';
import { serve, version } from './cli/serve.js';
import { addRebalanceCommand } from './rebalance/command.js';
import { addTransferCommands } from './cli/transfer.js';
import { addBackupCommands } from './cli/backup.js';

/** Help width when stdout is not a terminal (a terminal's own width is used when it is). */
const helpColumnsDefault = 100;
/** Descriptions wrap even beside long flags (commander's default, 40, leaves them unwrapped at 80 columns). */
const helpDescriptionColumnsMin = 24;

const program = new Command();
// Set before any subcommand is added: every command inherits them.
program
  .configureHelp({ minWidthToWrap: helpDescriptionColumnsMin })
  .configureOutput({
    getOutHelpWidth: () => process.stdout.columns || helpColumnsDefault,
    getErrHelpWidth: () => process.stderr.columns || helpColumnsDefault,
  });
program
  .name('mbdir')
  .description('mbdir: a distributed mailbox-location directory (replaces Cyrus mupdate)')
  .version(version)
  .addOption(
    new Option('--endpoint <host:port>', 'the node to talk to').env('MBDIR_ENDPOINT').default('127.0.0.1:7878'),
  )
  .addOption(new Option('--token <token>', 'bearer token').env('MBDIR_TOKEN'))
  .addOption(new Option('--tls-ca <file>', 'CA to verify the node (enables TLS)').env('MBDIR_TLS_CA'))
  .option('--client-cert <file>', 'client certificate, for nodes started with --tls-client-ca')
  .option('--client-key <file>', 'key of --client-cert')
  .option('--timeout <seconds>', 'deadline of each call', '30')
  .option('--json', 'print answers as JSON')
  // A usage error is one line like every other error (`mbdir: ...`); --help says more.
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'mbdir: ')) });

const serveCommand = program
  .command('serve')
  .description('run a directory node (standalone SQLite by default)')
  .option('--config <file>', 'JSON file of settings (keys as below, camelCase)');
/** Each setting: its key, flag, description, and how to show an empty default (none shown without). */
const serveFlags: Array<[keyof ServeSettings, string, string, string?]> = [
  ['engine', '--engine <engine>', 'standalone or etcd'],
  ['dataDir', '--data-dir <dir>', 'where the SQLite database lives'],
  ['listen', '--listen <host:port>', 'gRPC address (port 0 picks one)'],
  [
    'synchronous',
    '--synchronous <mode>',
    'SQLite durability: FULL survives a power cut; NORMAL is faster and a power cut may lose the last writes; ' +
      'OFF never flushes to disk: fastest, but an OS crash or power cut may lose answered writes or corrupt the database ' +
      '(only for a directory you can load again)',
  ],
  ['cacheMib', '--cache-mib <n>', 'SQLite page cache in MiB (part of the resident memory; see docs/performance.md)'],
  [
    'readThreads',
    '--read-threads <n>',
    'threads for the heavy reads (LIST, ScanMailboxes, MUPDATE LIST, PlanRebalance), each with its own read-only SQLite connection: ' +
      'auto (one per core but one, at least 1) or 0 (off: on the main thread) to 64 (see docs/operations.md)',
  ],
  [
    'readThreadNice',
    '--read-thread-nice <n>',
    'Linux nice value of the read threads, 0 (the main thread\'s priority) to 19: above 0 a point lookup on the main thread ' +
      'takes a core before a heavy read does (see docs/operations.md)',
  ],
  [
    'helperThreadNice',
    '--helper-thread-nice <n>',
    'Linux nice value of V8\'s and Node\'s helper threads (garbage collection, compiler), 0 to 19: above 0 a thread woken for a request ' +
      'is not held behind their runs on its core (see docs/operations.md)',
  ],
  [
    'mainThreadPriority',
    '--main-thread-priority <priority>',
    'normal, or realtime: the main thread (every point lookup and write) runs under SCHED_FIFO, so on a host whose cores are all busy ' +
      'a lookup takes a core at once instead of waiting behind other threads; needs root, CAP_SYS_NICE or LimitRTPRIO (see docs/operations.md)',
  ],
  ['nodeId', '--node-id <id>', 'name of this node in status and logs', 'host name'],
  ['logLevel', '--log-level <level>', 'fatal, error, warn, info, debug, trace or silent'],
  ['tokens', '--tokens <file>', 'token file (mbdir token add); required off loopback; SIGHUP reloads it'],
  ['tlsCert', '--tls-cert <file>', 'PEM certificate chain: serve gRPC over TLS'],
  ['tlsKey', '--tls-key <file>', 'PEM private key of --tls-cert'],
  ['tlsClientCa', '--tls-client-ca <file>', 'PEM CA: require client certificates signed by it'],
  ['etcdEndpoints', '--etcd-endpoints <urls>', 'etcd client URLs, comma-separated (engine etcd)'],
  ['etcdCa', '--etcd-ca <file>', 'PEM CA that signed etcd\'s certificate (https:// endpoints)', 'Node\'s built-in CA list and NODE_EXTRA_CA_CERTS'],
  ['etcdCert', '--etcd-cert <file>', 'PEM client certificate for etcd --client-cert-auth (its CN is the etcd user when auth is on)'],
  ['etcdKey', '--etcd-key <file>', 'PEM private key of --etcd-cert'],
  ['etcdPrefix', '--etcd-prefix <prefix>', 'key prefix of this directory in etcd (engine etcd)'],
  ['etcdCompactRetentionRevisions', '--etcd-compact-retention-revisions <n>', 'etcd history kept when compacting (0: leave compaction to etcd)'],
  ['etcdMaintenanceIntervalSeconds', '--etcd-maintenance-interval-seconds <n>', 'how often each node offers to run etcd maintenance (tombstone sweep, compaction, defragmentation); one node at a time runs it'],
  ['etcdMaintenanceLeaseSeconds', '--etcd-maintenance-lease-seconds <n>', 'TTL of the etcd lease under which a node holds the maintenance lock; another node takes over this long after the holder dies'],
  ['etcdDefragment', '--etcd-defragment <yes|no>', 'defragment etcd members, one after the other, when a quarter of a member\'s file is free'],
  ['socketmapListen', '--socketmap-listen <host:port>', 'serve Postfix socketmap maps "transport" and "mailbox" here (port 0 picks one)', 'off'],
  ['socketmapAllowRemote', '--socketmap-allow-remote', 'allow a non-loopback --socketmap-listen (the protocol has no authentication: firewall it)'],
  ['socketmapRecipientDelimiter', '--socketmap-recipient-delimiter <chars>', 'Postfix recipient_delimiter: any of these characters starts an address extension (empty: none)'],
  ['socketmapFoldCase', '--socketmap-fold-case <yes|no>', 'lower-case the local part of addresses and logins (domains are always folded)'],
  ['socketmapLocalDomains', '--socketmap-local-domains <domains>', 'comma-separated domains whose users are un-domained (alice@example.org -> user.alice); also for Dovecot and nginx logins', 'none'],
  ['dovecotDictListen', '--dovecot-dict-listen <path>', 'serve Dovecot 2.3 passdb dict (proxy=y host= port=) on this UNIX socket', 'off'],
  ['dovecotDictSocketMode', '--dovecot-dict-socket-mode <octal>', 'file mode of the Dovecot dict socket (who may connect: Dovecot\'s auth worker)'],
  ['httpListen', '--http-listen <host:port>', 'HTTP address for nginx auth_http (/auth) and JSON resolve (/v1/resolve); off when empty (port 0 picks one)'],
  ['httpSmtpRelay', '--http-smtp-relay <ip:port>', 'numeric address /auth sends authenticated SMTP sessions to; empty refuses SMTP logins'],
  ['mupdateListen', '--mupdate-listen <host:port>', 'serve MUPDATE (RFC 3656, Cyrus murder; Cyrus uses port 3905) on this address; off when empty'],
  ['mupdateLiterals', '--mupdate-literals <style>', 'MUPDATE literals sent: plus ({n+}, Cyrus\'s own) or sync ({n}, for Cyrus 3.4.8, 3.6.5 and 3.8.3 clients)'],
];
// Commander shows each default and variable as it does for every command; only flags given on the
// command line are taken from it (resolveServeSettings reads the environment and the file itself).
for (const [key, flags, description, emptyDefault] of serveFlags) {
  const option = new Option(flags, description).env(environmentName(key));
  const fallback = serveDefaults[key];
  if (fallback !== '') option.default(fallback);
  else if (emptyDefault !== undefined) option.default(fallback, emptyDefault);
  serveCommand.addOption(option);
}
// Hidden: shortens reservations so tests can see them expire.
serveCommand.addOption(new Option('--reservation-ttl-ms <ms>').hideHelp());
serveCommand.action(async (options: Record<string, string | boolean | undefined>) => {
  const flags: Partial<Record<keyof ServeSettings, string>> = {};
  for (const [key] of serveFlags) {
    const value = options[key];
    // A flag without a value (--socketmap-allow-remote) is a yes.
    if (value !== undefined && serveCommand.getOptionValueSource(key) === 'cli') flags[key] = value === true ? 'yes' : String(value);
  }
  const ttl = options['reservationTtlMs'] as string | undefined;
  if (ttl !== undefined && !/^[1-9][0-9]{0,8}$/.test(ttl)) throw new Error(`--reservation-ttl-ms ${JSON.stringify(ttl)} is not a positive integer`);
  await serve(resolveServeSettings(flags, process.env, options['config'] as string | undefined), ttl === undefined ? {} : { reservationTtlMs: Number(ttl) });
});

program
  .command('token')
  .description('manage the token file')
  .command('add')
  .description('add a principal; prints its new token once (only its hash is stored)')
  .requiredOption('--tokens <file>', 'the token file (created if absent, mode 0600)')
  .requiredOption('--name <name>', 'who holds the token, e.g. backend1 or nginx-1')
  .requiredOption('--role <role>', 'admin, proxy, rebalancer or backend:SERVER')
  .action((options: { tokens: string; name: string; role: string }) => {
    const token = addToken(options.tokens, options.name, options.role);
    process.stdout.write(`${token}\n`);
    process.stderr.write(`added ${options.name} (${options.role}) to ${options.tokens}; send SIGHUP to running nodes\n`);
  });

addClientCommands(program);
addRebalanceCommand(program);
addTransferCommands(program);
addBackupCommands(program);
addBenchCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof ClientError ? `${error.codeName}: ${error.details}` : (error as Error).message;
  process.stderr.write(`mbdir: ${message}\n`);
  process.exit(1);
});
