/**
 * `mbdir bench` on the command line: commander wiring only. `generate` writes
 * a seeded directory (generate.ts); `run` measures the operations of the table
 * in operations.ts against a node beside their bare floors (run.ts, harness.ts);
 * `mupdate` and `cyrus-dump` are MUPDATE's (mupdate-command.ts). The processes
 * the bench spawns for itself (echo servers, Watch subscribers) are hidden
 * subcommands: `mbdir bench --help` shows only what an operator runs.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { MbdirClient } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { runHttpEchoServer } from './auth-http.js';
import { runEchoServer } from './echo.js';
import { defaultShape, generateDirectory, mailboxTotal, shapeFileName, type DirectoryShape } from './generate.js';
import { machineNow } from './harness.js';
import type { LoadSettings } from './load.js';
import { printMupdateTable, runMupdateBench, writeCyrusDump } from './mupdate-command.js';
import { defaultOperations, operationNames } from './operations.js';
import { mixedLookupMethods, printMixedTable, runMixed, type MixedLookupMethod } from './mixed.js';
import { printTable } from './report.js';
import { runBench } from './run.js';
import { etcdBenchNodesMax, etcdOperationNames, parseEtcdOperation, printEtcdTable, runEtcdBench } from './etcd-mode.js';
import { etcdBenchMembersMax } from './etcd-members.js';
import { printJoinReport, runJoinBench } from './etcd-join.js';
import { benchLocalDomain, runSocketmapEcho } from './socketmap.js';
import { runWatchSubscribers } from './watch-delivery.js';
import { runHeavyCallers, tallyToJson, type HeavySpec } from './heavy-callers.js';
import { hasLoadHeap, rerunWithLoadHeap } from './load-heap.js';

/** Runs `measure` in a process with the load generator's young generation (load-heap.ts): this one, or a child. */
async function withLoadHeap(measure: () => Promise<void>): Promise<void> {
  if (hasLoadHeap()) await measure();
  else process.exitCode = await rerunWithLoadHeap();
}

function shapeOf(options: Record<string, unknown>, dataDir: string | undefined): DirectoryShape {
  const stored = dataDir !== undefined && existsSync(join(dataDir, shapeFileName))
    ? (JSON.parse(readFileSync(join(dataDir, shapeFileName), 'utf8')) as DirectoryShape)
    : defaultShape;
  const number = (key: string, fallback: number): number => (options[key] === undefined ? fallback : Number(options[key]));
  return {
    users: number('users', stored.users),
    foldersPerUser: number('folders', stored.foldersPerUser),
    businesses: number('businesses', stored.businesses),
    servers: number('servers', stored.servers),
    userShareRate: number('shareRate', stored.userShareRate),
    groupShareRate: number('groupShareRate', stored.groupShareRate),
    publicFolders: number('publicFolders', stored.publicFolders),
    seed: number('seed', stored.seed),
  };
}

/**
 * A commander parser for a numeric option within bounds, whole unless `fractions`;
 * anything else is refused with the option's name before the run starts.
 */
function numberIn(min: number, max: number, fractions = false): (text: string) => number {
  const pattern = fractions ? /^\d+(\.\d+)?$/ : /^\d+$/;
  return (text) => {
    const value = Number(text);
    if (!pattern.test(text) || value < min || value > max) {
      throw new InvalidArgumentError(`expected ${fractions ? 'a number' : 'a whole number'} from ${min} to ${max}`);
    }
    return value;
  };
}

/** Bounds of the directory shape options: beyond them a run would exhaust the machine, or mean nothing. */
const shapeBounds = {
  users: 10_000_000,
  foldersPerUser: 1_000,
  businesses: 1_000_000,
  servers: 1_000,
  publicFolders: 1_000_000,
  seed: 2 ** 31 - 1,
} as const;

function addShapeOptions(command: Command): Command {
  return command
    .option('--users <n>', `users [${defaultShape.users}]`, numberIn(1, shapeBounds.users))
    .option('--folders <n>', `mailboxes per user, root included [${defaultShape.foldersPerUser}]`, numberIn(1, shapeBounds.foldersPerUser))
    .option('--businesses <n>', `businesses [${defaultShape.businesses}]`, numberIn(1, shapeBounds.businesses))
    .option('--servers <n>', `backend servers [${defaultShape.servers}]`, numberIn(1, shapeBounds.servers))
    .option('--share-rate <r>', `share of folders shared with a colleague, 0 to 1 [${defaultShape.userShareRate}]`, numberIn(0, 1, true))
    .option('--group-share-rate <r>', `share of folders shared with the business group, 0 to 1 [${defaultShape.groupShareRate}]`, numberIn(0, 1, true))
    .option('--public-folders <n>', `folders shared with anyone [${defaultShape.publicFolders}]`, numberIn(0, shapeBounds.publicFolders))
    .option('--seed <n>', `PRNG seed [${defaultShape.seed}]`, numberIn(0, shapeBounds.seed));
}

/** `bench run --engine etcd`: nodes on an etcd cluster beside their floors (etcd-mode.ts). */
async function runEtcdCommand(options: Record<string, unknown>, settings: LoadSettings, machineBefore: ReturnType<typeof machineNow>, json: boolean): Promise<void> {
  const operations = String(options['ops']).split(',').filter((name) => name !== '').map((text) => parseEtcdOperation(text, settings.concurrency));
  const run = await runEtcdBench({
    settings,
    operations,
    members: Number(options['etcdMembers']),
    ...(options['etcdEndpoints'] === undefined ? {} : { endpoints: String(options['etcdEndpoints']) }),
    nodes: Number(options['nodes']),
    synchronous: String(options['synchronous']),
  });
  const machine = { ...machineBefore, loadAverageAtEnd: machineNow().loadAverageAtStart };
  if (json) process.stdout.write(`${JSON.stringify({ engine: 'etcd', settings, machine, ...run }, null, 2)}\n`);
  else {
    printEtcdTable(run);
    process.stdout.write(`machine: ${machine.cores} x ${machine.cpu}; load average ${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end\n`);
  }
}

export function addBenchCommands(program: Command): void {
  const bench = program.command('bench').description('benchmark harness: generate a directory, then measure a node');
  addShapeOptions(bench.command('generate').description('write a seeded directory into a stopped node\'s --data-dir, or through --endpoint'))
    .option('--data-dir <dir>', 'the data directory (fast path; the node must be stopped)')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const shape = shapeOf(options, undefined);
      process.stderr.write(`seed ${shape.seed}\n`);
      const dataDir = options['dataDir'] as string | undefined;
      if (dataDir !== undefined) {
        await generateDirectory(shape, { dataDir });
        return;
      }
      const client = new MbdirClient({ endpoint: command.optsWithGlobals<{ endpoint: string }>().endpoint });
      try {
        await generateDirectory(shape, { client });
      } finally {
        client.close();
      }
    });
  addShapeOptions(bench.command('run').description('measure every operation against a node (started on --data-dir, or at --endpoint)'))
    .option('--data-dir <dir>', 'start a node on this data directory (made by bench generate)')
    .option('--server-pid <pid>', 'pid of the node at --endpoint, for its RSS', numberIn(1, 2 ** 31 - 1))
    .option('--http-endpoint <host:port>', 'HTTP address (--http-listen) of the node at --endpoint, for AuthHttp')
    .option('--concurrency <n>', 'concurrent callers of unary operations', numberIn(1, 10_000), 32)
    .option('--connections <n>', 'HTTP/2 connections the unary callers are spread over', numberIn(1, 64), 4)
    .option('--duration <seconds>', 'seconds per operation', numberIn(0.1, 3600, true), 5)
    .option('--ops <list>', `operations, comma-separated; OP@N runs OP with N callers (${operationNames.join(', ')})`, defaultOperations.join(','))
    .option('--lookup-batch <n>', 'names per LookupMailboxes call', numberIn(1, limits.lookupNamesMax), 100)
    .option('--stream-window <n>', 'names in flight on the LookupStream', numberIn(1, 1_000_000), 2000)
    .option('--stream-batch <n>', 'names per LookupStream message (1: a message per name)', numberIn(1, limits.lookupNamesMax), 100)
    .option('--rounds <n>', 'turns the node and the echo take, each measured --duration/n at a time (a drifting host moves both alike)', numberIn(1, 100), 3)
    .option('--warmup <seconds>', 'unmeasured seconds before each operation (JIT, caches)', numberIn(0, 600, true), 2)
    .option('--watch-subscribers <n>', 'Watch subscribers', numberIn(1, 10_000), 500)
    .option('--watch-interval <ms>', 'pause between writes while measuring Watch', numberIn(0, 60_000), 20)
    .option('--watch-processes <n>', 'processes the Watch subscribers are spread over', numberIn(1, 64), 2)
    .option('--synchronous <mode>', 'synchronous of the node bench starts', 'FULL')
    .option('--no-echo', 'skip the bare grpc-js echo server')
    .option('--socketmap <host:port>', `the socketmap of the node at --endpoint, for Socketmap (it needs --socketmap-local-domains ${benchLocalDomain})`)
    .option('--no-prewarm', 'do not read --data-dir through before starting the node (the OS cache stays as the host left it)')
    .option('--engine <kind>', `standalone, or etcd: nodes on an etcd cluster, writes beside raw etcd txns of the same shape (${etcdOperationNames.join(', ')})`, 'standalone')
    .option('--etcd-members <n>', 'with --engine etcd: etcd members bench starts on loopback', numberIn(1, etcdBenchMembersMax), 3)
    .option('--etcd-endpoints <urls>', 'with --engine etcd: a running etcd cluster instead (bench writes under fresh prefixes and leaves them)')
    .option('--nodes <n>', 'with --engine etcd: nodes started (GetMailbox runs through all of them, beside one node)', numberIn(1, etcdBenchNodesMax), 1)
    // The numeric options are numbers already (numberIn), the others strings; `echo` is a boolean.
    .action((options: Record<string, unknown>, command: Command) => withLoadHeap(async () => {
      const globals = command.optsWithGlobals<{ endpoint: string; json?: boolean }>();
      const dataDir = options['dataDir'] as string | undefined;
      const shape = shapeOf(options, dataDir);
      const settings: LoadSettings = {
        concurrency: Number(options['concurrency']),
        connections: Number(options['connections']),
        durationMs: Number(options['duration']) * 1000,
        seed: shape.seed,
        lookupBatchNames: Number(options['lookupBatch']),
        streamWindowNames: Number(options['streamWindow']),
        streamBatchNames: Number(options['streamBatch']),
        warmupMs: Number(options['warmup']) * 1000,
        rounds: Number(options['rounds']),
        watchSubscribers: Number(options['watchSubscribers']),
        watchWriteIntervalMs: Number(options['watchInterval']),
        watchProcesses: Number(options['watchProcesses']),
      };
      const machineBefore = machineNow();
      if (options['engine'] === 'etcd') {
        await runEtcdCommand(options, settings, machineBefore, globals.json === true);
        return;
      }
      process.stderr.write(`seed ${shape.seed}; ${mailboxTotal(shape)} mailboxes (${shape.users} users x ${shape.foldersPerUser})\n`);
      const run = await runBench({
        shape,
        settings,
        operations: String(options['ops']).split(',').filter((name) => name !== ''),
        ...(dataDir === undefined ? { endpoint: globals.endpoint } : { dataDir }),
        ...(options['serverPid'] === undefined ? {} : { serverPid: Number(options['serverPid']) }),
        ...(options['httpEndpoint'] === undefined ? {} : { httpEndpoint: String(options['httpEndpoint']) }),
        synchronous: String(options['synchronous']),
        echo: options['echo'] !== false,
        prewarm: options['prewarm'] !== false,
        ...(options['socketmap'] === undefined ? {} : { socketmap: String(options['socketmap']) }),
      });
      // The load generator's V8 flags (load-heap.ts): its collections are in every figure.
      const machine = { ...machineBefore, loadAverageAtEnd: machineNow().loadAverageAtStart, loadGeneratorFlags: process.execArgv };
      const report = { shape, settings, mailboxes: mailboxTotal(shape), machine, ...run };
      if (globals.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        printTable(run.results, run.serverRssMb);
        process.stdout.write(
          `machine: ${machine.cores} x ${machine.cpu}, ${machine.memoryGb} GB; load average ${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end (other load makes every figure lower)\n`,
        );
      }
    }));
  addShapeOptions(bench.command('join').description('time a fresh etcd-engine node from start to serving on a filled etcd keyspace, with its peak RSS'))
    .option('--deleted-users <n>', 'deleted users whose tombstones (an empty hierarchy, a uid marker per folder) wait for the sweep', numberIn(0, shapeBounds.users), 0)
    .option('--rounds <n>', 'fresh nodes started one after the other', numberIn(1, 20), 3)
    .option('--etcd-endpoints <urls>', 'a running etcd cluster instead of a 1-member one bench starts (bench writes under a fresh prefix and leaves it)')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const globals = command.optsWithGlobals<{ json?: boolean }>();
      const shape = shapeOf(options, undefined);
      const machineBefore = machineNow();
      const report = await runJoinBench({
        shape,
        deletedUsers: Number(options['deletedUsers']),
        rounds: Number(options['rounds']),
        ...(options['etcdEndpoints'] === undefined ? {} : { endpoints: String(options['etcdEndpoints']) }),
      });
      const machine = { ...machineBefore, loadAverageAtEnd: machineNow().loadAverageAtStart };
      if (globals.json === true) process.stdout.write(`${JSON.stringify({ shape, mailboxes: mailboxTotal(shape), machine, ...report }, null, 2)}\n`);
      else {
        printJoinReport(report, mailboxTotal(shape));
        process.stdout.write(`load average ${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end\n`);
      }
    });
  bench
    .command('watch-subscribers', { hidden: true })
    .description('Watch subscribers for bench run; receipts printed when stdin closes')
    .requiredOption('--prefix <name>', 'the prefix watched')
    .requiredOption('--from <revision>', 'watch from this revision')
    .requiredOption('--count <n>', 'subscribers')
    .action(async (options: { prefix: string; from: string; count: string }, command: Command) => {
      const { endpoint } = command.optsWithGlobals<{ endpoint: string }>();
      await runWatchSubscribers(endpoint, options.prefix, Number(options.from), Number(options.count));
    });
  bench
    .command('socketmap-echo', { hidden: true })
    .description('the bare netstring echo server bench run starts for Socketmap')
    .requiredOption('--reply <text>', 'the reply to every request')
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:0')
    .action(async (options: { reply: string; listen: string }) => {
      await runSocketmapEcho(options.reply, options.listen);
    });
  bench
    .command('http-echo', { hidden: true })
    .description('the bare node:http server bench run measures AuthHttp against')
    .requiredOption('--headers <file>', 'the answer headers, JSON [name, value] pairs')
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:0')
    .action(async (options: { headers: string; listen: string }) => {
      await runHttpEchoServer(options.headers, options.listen);
    });
  bench
    .command('echo', { hidden: true })
    .description('the bare grpc-js echo server bench run starts')
    .requiredOption('--responses <file>', 'canned responses by method (JSON)')
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:0')
    .action(async (options: { responses: string; listen: string }) => {
      await runEchoServer(options.responses, options.listen);
    });
  addMixedBench(bench);
  addMupdateBench(bench);
}

/** Bounds of `bench mixed`'s options: beyond them a run would exhaust the machine, or mean nothing. */
const mixedBounds = {
  lookupsPerSecond: 100_000,
  listCallers: 256,
  listMailboxes: limits.pageSizeMax,
  watchers: 1_000,
  watchReadIntervalMs: 60_000,
} as const;

/** `bench mixed`: lookups at a fixed rate on a quiet node, then beside heavy callers, in turns; and its hidden helper process. */
function addMixedBench(bench: Command): void {
  addShapeOptions(bench.command('mixed').description('lookups at a fixed rate on a quiet node, then beside heavy LISTs, snapshot Watches and a full scan, in turns'))
    .option('--data-dir <dir>', 'start a node on this data directory (made by bench generate)')
    .option('--server-pid <pid>', 'pid of the node at --endpoint, for its CPU and RSS', numberIn(1, 2 ** 31 - 1))
    .option('--http-endpoint <host:port>', 'HTTP address (--http-listen) of the node at --endpoint, for its event-loop delay (/metrics)')
    .option('--lookup-rate <n>', 'point lookups per second, in both phases', numberIn(1, mixedBounds.lookupsPerSecond), 1000)
    .addOption(new Option('--lookup-method <method>', 'how each lookup is sent: a unary GetMailbox call, or a one-name message on a LookupStream kept open on each connection').choices(mixedLookupMethods).default('GetMailbox'))
    .option('--connections <n>', 'HTTP/2 connections the lookups are spread over', numberIn(1, 64), 4)
    .option('--list-callers <n>', 'heavy LIST callers, each one call at a time', numberIn(0, mixedBounds.listCallers), 8)
    .option('--list-mailboxes <n>', 'mailboxes a heavy LIST should see (it names business groups until it does, up to the node\'s bound)', numberIn(1, mixedBounds.listMailboxes), 3000)
    .option('--watchers <n>', 'snapshot Watches of the whole directory (half read slowly, half not at all)', numberIn(0, mixedBounds.watchers), 20)
    .option('--watch-read-interval <ms>', 'pause between two messages a slow watcher reads', numberIn(1, mixedBounds.watchReadIntervalMs), 100)
    .option('--no-scan', 'no full ScanMailboxes beside the lookups')
    .option('--heavy-callers-idle', 'run the heavy callers\' process under SCHED_IDLE instead of --heavy-callers-nice: it gets a core only when no other thread wants one')
    .option('--heavy-callers-nice <n>', 'nice value of the heavy callers\' process: in a deployment they are other machines, so by default they take the cores the node and the lookups leave (0: compete with them)', numberIn(0, 19), 19)
    .option('--no-realtime-timer', 'time the lookups at normal priority; by default the thread that sends and times them asks for SCHED_FIFO (with reset-on-fork: the node and the heavy callers it starts stay normal), so that its own waits for a core on a shared host do not count as the node\'s latency (needs root or CAP_SYS_NICE; refused, it runs normally and says so)')
    .option('--duration <seconds>', 'measured seconds of each phase (quiet, mixed), split into --rounds turns', numberIn(0.1, 3600, true), 10)
    .option('--rounds <n>', 'turns the quiet and the mixed phase take', numberIn(1, 100), 3)
    .option('--warmup <seconds>', 'unmeasured seconds of lookups first', numberIn(0, 600, true), 2)
    .option('--synchronous <mode>', 'synchronous of the node bench starts', 'FULL')
    .option('--no-prewarm', 'do not read --data-dir through before starting the node')
    .action((options: Record<string, unknown>, command: Command) => withLoadHeap(async () => {
      const globals = command.optsWithGlobals<{ endpoint: string; json?: boolean }>();
      const dataDir = options['dataDir'] as string | undefined;
      const shape = shapeOf(options, dataDir);
      const number = (key: string): number => Number(options[key]);
      process.stderr.write(`seed ${shape.seed}; ${mailboxTotal(shape)} mailboxes (${shape.users} users x ${shape.foldersPerUser})\n`);
      const machineBefore = machineNow();
      const report = await runMixed(
        {
          ...(dataDir === undefined ? { endpoint: globals.endpoint } : { dataDir }),
          ...(options['serverPid'] === undefined ? {} : { serverPid: number('serverPid') }),
          ...(options['httpEndpoint'] === undefined ? {} : { httpEndpoint: String(options['httpEndpoint']) }),
          prewarm: options['prewarm'] !== false,
          synchronous: String(options['synchronous']),
        },
        shape,
        {
          durationMs: number('duration') * 1000,
          rounds: number('rounds'),
          warmupMs: number('warmup') * 1000,
          lookupsPerSecond: number('lookupRate'),
          lookupMethod: options['lookupMethod'] as MixedLookupMethod,
          connections: number('connections'),
          listCallers: number('listCallers'),
          listMailboxes: number('listMailboxes'),
          watchers: number('watchers'),
          watchReadIntervalMs: number('watchReadInterval'),
          scan: options['scan'] !== false,
          heavyCallersNice: number('heavyCallersNice'),
          heavyCallersIdle: options['heavyCallersIdle'] === true,
          realtimeTimer: options['realtimeTimer'] !== false,
          seed: shape.seed,
        },
      );
      const machine = { ...machineBefore, loadAverageAtEnd: machineNow().loadAverageAtStart };
      if (globals.json === true) process.stdout.write(`${JSON.stringify({ shape, machine, ...report }, null, 2)}\n`);
      else {
        printMixedTable(report);
        process.stdout.write(`machine: ${machine.cores} x ${machine.cpu}, ${machine.memoryGb} GB; load average ${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end\n`);
      }
    }));
  bench
    .command('heavy-callers', { hidden: true })
    .description('the heavy callers bench mixed runs beside its lookups; prints ready, then its tally as JSON')
    .requiredOption('--shape <json>', 'the directory shape')
    .requiredOption('--spec <json>', 'what to run (HeavySpec)')
    .action(async (options: { shape: string; spec: string }, command: Command) => {
      const { endpoint } = command.optsWithGlobals<{ endpoint: string }>();
      const tally = await runHeavyCallers(endpoint, JSON.parse(options.shape) as DirectoryShape, JSON.parse(options.spec) as HeavySpec, () => {
        process.stdout.write('ready\n');
      });
      process.stdout.write(`${tallyToJson(tally)}\n`);
    });
}

/** `bench mupdate`: mbdir's MUPDATE figures beside a peer MUPDATE server's; `bench cyrus-dump`: the shape for Cyrus. */
function addMupdateBench(bench: Command): void {
  addShapeOptions(bench.command('cyrus-dump').description("write the shape as a Cyrus 3.6 mupdate master's ctl_mboxlist -u input (JSON, with uniqueids)"))
    .requiredOption('--output <file>', 'where to write it')
    .action(async (options: Record<string, unknown>) => {
      const shape = shapeOf(options, undefined);
      const count = await writeCyrusDump(shape, String(options['output']));
      process.stderr.write(`wrote ${count} mailboxes to ${String(options['output'])}\n`);
    });
  addShapeOptions(bench.command('mupdate').description('MUPDATE figures of mbdir (a node it starts, or --mupdate) beside --mupdate-peer (a Cyrus mupdate master)'))
    .option('--mupdate <host:port>', "mbdir's MUPDATE listener (default: start a node on a fresh data directory, MUPDATE on loopback)")
    .option('--mupdate-user <name>', "SASL PLAIN authname for mbdir's side", 'admin')
    .option('--mupdate-password <text>', "SASL PLAIN password (a token when the node has --tokens) for mbdir's side", 'bench')
    .option('--mupdate-peer <host:port>', 'another MUPDATE server measured in the same run (a Cyrus mupdate master)')
    .option('--peer-user <name>', 'SASL PLAIN authname for the peer', 'admin')
    .option('--peer-password <text>', 'SASL PLAIN password for the peer', 'pw')
    .option('--peer-pid <pid>', "the peer's pid (reported only)", numberIn(1, 2 ** 31 - 1))
    .option('--duration <seconds>', 'seconds per FIND measurement', numberIn(0.1, 3600, true), 5)
    .option('--pipeline <n>', 'commands in flight for the pipelined FIND and the ACTIVATE load', numberIn(1, 10_000), 200)
    .option('--followers <n>', 'UPDATE followers of a committed change', numberIn(1, 1000), 100)
    .option('--changes <n>', 'changes the followers must see', numberIn(1, 100_000), 50)
    .option('--change-interval <ms>', 'pause between those changes', numberIn(0, 60_000), 20)
    .option('--list-repeats <n>', 'LIST of one server, repeated', numberIn(1, 1000), 5)
    .option('--data-dir <dir>', 'start the node on this data directory (made by bench generate with the same shape) instead of loading a fresh one by ACTIVATE')
    .option('--peer-loaded', 'the peer holds the directory already (ctl_mboxlist -u of bench cyrus-dump): do not load it by ACTIVATE')
    .option('--synchronous <mode>', 'synchronous of the node bench starts', 'FULL')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const globals = command.optsWithGlobals<{ json?: boolean }>();
      const shape = shapeOf(options, undefined);
      const text = (key: string): string => String(options[key]);
      const peer = options['mupdatePeer'] === undefined
        ? undefined
        : {
            address: text('mupdatePeer'),
            authname: text('peerUser'),
            password: text('peerPassword'),
            ...(options['peerPid'] === undefined ? {} : { pid: Number(options['peerPid']) }),
          };
      process.stderr.write(`seed ${shape.seed}; ${mailboxTotal(shape)} mailboxes (${shape.users} users x ${shape.foldersPerUser}) over ${shape.servers} servers\n`);
      const report = await runMupdateBench({
        shape,
        settings: {
          durationMs: Number(options['duration']) * 1000,
          pipeline: Number(options['pipeline']),
          followers: Number(options['followers']),
          changes: Number(options['changes']),
          changeIntervalMs: Number(options['changeInterval']),
          listRepeats: Number(options['listRepeats']),
          seed: shape.seed,
        },
        ...(options['mupdate'] === undefined ? {} : { mupdate: text('mupdate') }),
        ...(options['dataDir'] === undefined ? {} : { dataDir: text('dataDir') }),
        authname: text('mupdateUser'),
        password: text('mupdatePassword'),
        ...(peer === undefined ? {} : { peer }),
        loadMbdir: options['mupdate'] === undefined && options['dataDir'] === undefined,
        loadPeer: peer !== undefined && options['peerLoaded'] !== true,
        synchronous: text('synchronous'),
      });
      const machine = { ...machineNow() };
      if (globals.json === true) process.stdout.write(`${JSON.stringify({ ...report, machine }, null, 2)}\n`);
      else {
        printMupdateTable(report);
        process.stdout.write(`machine: ${machine.cores} x ${machine.cpu}, ${machine.memoryGb} GB; load average at the end ${machine.loadAverageAtStart.join(' ')}\n`);
      }
    });
}
