/**
 * `mbdir bench`: `generate` writes a seeded directory straight into a stopped
 * node's data directory (or through `--endpoint`); `run` starts a node on it
 * (or uses a running one), starts the bare echo server, drives each operation
 * for a fixed time and prints ops/s, p50/p99/p99.9, the ratio to the echo and
 * the server's RSS, as a table or as JSON (`--json`). It never runs in the
 * test suite at full size: the tests use a few hundred mailboxes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, existsSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { mbdirEntry } from './entry.js';
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { MbdirClient, type Message } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { ApiSink, DataDirSink, type MailboxSink } from '../cli/mailbox-sinks.js';
import { authHttpOnce, authHttpRequest, headersOfAnswer, runHttpEchoServer } from './auth-http.js';
import { runEchoServer, type CannedResponses } from './echo.js';
import { defaultShape, generateMailboxes, generatePlacement, mailboxTotal, userId, type DirectoryShape } from './generate.js';
import { closedLoop, RequestPicker, streamLookups, type LoadSettings, type Measured } from './load.js';
import { runWatchSubscribers, watchDelivery } from './watch-delivery.js';
import { cpuSecondsOf, ioStallMicroseconds, ioStallPercentOf, rssMebibytes } from './proc.js';
import { prewarmDataDir } from './prewarm.js';
import { benchLocalDomain, runSocketmapEcho, SocketmapConnection, socketmapRequest } from './socketmap.js';
import { printMupdateTable, runMupdateBench, writeCyrusDump } from './mupdate-command.js';
import { mergePhases, printTable, resultOf, type OperationResult, type Phase } from './report.js';
import { etcdBenchNodesMax, etcdOperationNames, printEtcdTable, runEtcdBench } from './etcd-mode.js';
import { etcdBenchMembersMax } from './etcd-members.js';

/** The shape of a generated directory, kept beside its database. */
export const shapeFileName = 'bench-shape.json';

// ------------------------------------------------------------ generate

function progress(label: string, total: number): cliProgress.SingleBar | null {
  if (process.stderr.isTTY !== true) return null;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta}s`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

async function putPlacementThroughApi(client: MbdirClient, shape: DirectoryShape): Promise<void> {
  for (const change of generatePlacement(shape)) {
    if (change.kind === 'server.put') {
      const server = change.server;
      await client.place('PutServer', { name: server.name, imap_address: server.imapAddress, lmtp_address: server.lmtpAddress, pop3_address: server.pop3Address, state: 'UP', weight: 1, datacenter: server.datacenter });
    } else if (change.kind === 'business.put') {
      await client.place('PutBusiness', { id: change.business.id, home_server: change.business.homeServer });
    } else if (change.kind === 'user.put') {
      await client.place('SetUserBusiness', { user: change.user.user, business: change.user.business });
    }
  }
}

/** Generates the shape into a data directory or a running node; returns mailboxes/s. */
export async function generateDirectory(shape: DirectoryShape, target: { dataDir?: string; client?: MbdirClient }): Promise<number> {
  let sink: MailboxSink;
  if (target.dataDir !== undefined) {
    const dataSink = new DataDirSink(target.dataDir, 'NORMAL', false);
    if (dataSink.store.mailboxCount() > 0) {
      await dataSink.finish();
      throw new Error(`${target.dataDir} already holds mailboxes: generate into an empty data directory`);
    }
    dataSink.applyOthers(generatePlacement(shape));
    sink = dataSink;
    writeFileSync(join(target.dataDir, shapeFileName), `${JSON.stringify(shape)}\n`);
  } else if (target.client !== undefined) {
    await putPlacementThroughApi(target.client, shape);
    sink = new ApiSink(target.client);
  } else {
    throw new Error('generate needs --data-dir or --endpoint');
  }
  const total = mailboxTotal(shape);
  const bar = progress('generate', total);
  const startedMs = performance.now();
  let count = 0;
  for (const mailbox of generateMailboxes(shape)) {
    await sink.add(mailbox);
    count += 1;
    if (bar !== null && count % 10_000 === 0) bar.update(count);
  }
  await sink.finish();
  bar?.stop();
  const rate = Math.round(count / ((performance.now() - startedMs) / 1000));
  process.stderr.write(`generated ${count} mailboxes (${shape.users} users x ${shape.foldersPerUser}) at ${rate}/s\n`);
  return rate;
}

// ------------------------------------------------------------ processes

export interface Child {
  process: ChildProcess;
  endpoint: string;
  /** Every `serving PROTOCOL on HOST:PORT` line, by protocol. */
  served: Map<string, string>;
  /** Where it serves HTTP, when it printed a `serving HTTP on` line. */
  httpEndpoint: string | undefined;
  stop(): Promise<void>;
}

/**
 * Spawns `node mbdir.js ARGS` and waits for its `serving PRIMARY on HOST:PORT` line
 * (gRPC, or the echo's own: HTTP, socketmap-echo) and one line per `protocols`.
 */
export function spawnServing(args: string[], protocols: readonly string[] = [], primary: string = 'gRPC'): Promise<Child> {
  const child = spawn(process.execPath, [mbdirEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const served = new Map<string, string>();
  return new Promise<Child>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${args[0] ?? ''} did not start in 60 s: ${stderr}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const match of stdout.matchAll(/serving (\S+) on (\S+)/g)) served.set(match[1] ?? '', match[2] ?? '');
      const endpoint = served.get(primary);
      if (endpoint === undefined || !protocols.every((protocol) => served.has(protocol))) return;
      clearTimeout(timer);
      resolve({
        process: child,
        endpoint,
        served,
        httpEndpoint: served.get('HTTP'),
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((done) => child.once('exit', done));
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0] ?? ''} exited with ${String(code)}: ${stderr}`));
    });
  });
}

// ------------------------------------------------------------ run

type UnaryOperation = 'GetMailbox' | 'LookupMailboxes' | 'ListMailboxes' | 'ResolveUser' | 'CreateMailbox' | 'RenameMailbox';
export const operationNames = ['GetMailbox', 'LookupMailboxes', 'LookupStream', 'ListMailboxes', 'ResolveUser', 'AuthHttp', 'CreateMailbox', 'RenameMailbox', 'Watch', 'Socketmap'] as const;
/** What `bench run` measures unless --ops says otherwise; `OP@N` runs OP with N callers (ListMailboxes@1: latency without queueing). */
export const defaultOperations = ['GetMailbox', 'LookupMailboxes', 'LookupStream', 'ListMailboxes', 'ListMailboxes@1', 'ResolveUser', 'AuthHttp', 'CreateMailbox', 'RenameMailbox', 'Watch'];

interface RunContext {
  /** The node measured: its connections and its pid (for CPU and RSS). */
  node: Target;
  shape: DirectoryShape;
  settings: LoadSettings;
  runTag: string;
  created: string[];
}

/** One request of a unary operation against the real node; returns [method, request, names served]. */
function requestOf(operation: UnaryOperation, context: RunContext, picker: RequestPicker, sequence: number): [string, Message, number] {
  switch (operation) {
    case 'GetMailbox':
      return ['GetMailbox', { name: picker.name() }, 1];
    case 'LookupMailboxes':
      return ['LookupMailboxes', { names: picker.names(context.settings.lookupBatchNames) }, context.settings.lookupBatchNames];
    case 'ListMailboxes':
      return ['ListMailboxes', picker.listRequest(), 1];
    case 'ResolveUser':
      return ['ResolveUser', { user: userId(picker.userIndex()) }, 1];
    case 'CreateMailbox': {
      const name = `user.${userId(picker.userIndex())}.b${context.runTag}c${sequence}`;
      return ['CreateMailbox', { mailbox: { name }, request_id: `${context.runTag}-${sequence}` }, 1];
    }
    case 'RenameMailbox': {
      const name = context.created[sequence] ?? '';
      return ['RenameMailbox', { name, new_name: `${name}r` }, 1];
    }
  }
}

function call(client: MbdirClient, method: string, request: Message): Promise<Message> {
  return method === 'ResolveUser' ? client.place(method, request) : client.mailbox(method, request);
}

/** A measured run and the CPU the server (or echo) and this load generator spent on it. */
async function withCpu(pid: number | undefined, run: () => Promise<Measured>): Promise<Phase> {
  const serverBefore = cpuSecondsOf(pid);
  const clientBefore = process.cpuUsage();
  const stallBefore = ioStallMicroseconds();
  const startedMs = performance.now();
  const measured = await run();
  const ioStallPercent = measured.windowIoStallPercent !== undefined
    ? measured.windowIoStallPercent
    : ioStallPercentOf(stallBefore, ioStallMicroseconds(), performance.now() - startedMs);
  const client = process.cpuUsage(clientBefore);
  const window = measured.windowCpuSeconds;
  if (window !== undefined) return { measured, serverCpuSeconds: window.server, clientCpuSeconds: window.load, ioStallPercent };
  return { measured, serverCpuSeconds: cpuSecondsOf(pid) - serverBefore, clientCpuSeconds: (client.user + client.system) / 1e6, ioStallPercent };
}

interface Target {
  endpoint: string;
  /** One client per connection; caller i uses clients[i % clients.length]. */
  clients: MbdirClient[];
  pid: number | undefined;
}

/**
 * `count` clients of `endpoint`, each on its own HTTP/2 connection (grpc-js
 * shares one connection among clients of a target unless told otherwise). On
 * one connection the node and the load generator take turns: the node answers
 * a burst of calls, then the generator reads the burst and sends the next. With
 * several, one side works on a connection while the other works on another, as
 * with the many proxies and backends that call a node.
 */
function connect(endpoint: string, count: number): MbdirClient[] {
  return Array.from({ length: count }, () =>
    new MbdirClient({ endpoint, deadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
  );
}

function clientOf(target: Target, worker: number): MbdirClient {
  return target.clients[worker % target.clients.length] as MbdirClient;
}

/** Measures a slice of an operation against one target: its warm-up first (0: none), then `durationMs` measured. */
type Slice = (durationMs: number, warmupMs: number) => Promise<Phase>;

/**
 * One unary operation against `target` with `concurrency` callers, as slices
 * that go on where the last one stopped (the same request sequence, never
 * replayed: a replayed name would be found in a warm cache).
 */
function unarySlices(operation: UnaryOperation, context: RunContext, target: Target, concurrency: number, canned: CannedResponses | null): Slice {
  const picker = new RequestPicker(context.shape, context.settings.seed);
  let sequence = 0;
  const isEcho = canned === null;
  const once = async (worker: number): Promise<number> => {
    const mine = sequence;
    sequence += 1;
    if (operation === 'RenameMailbox' && mine >= context.created.length) return -1;
    const [method, request, names] = requestOf(operation, context, picker, isEcho ? mine % Math.max(1, context.created.length) : mine);
    const answer = await call(clientOf(target, worker), method, request);
    if (!isEcho && canned[method] === undefined) canned[method] = answer;
    if (!isEcho && operation === 'CreateMailbox') context.created.push(String((request['mailbox'] as Message)['name']));
    return names;
  };
  return async (durationMs, warmupMs) => {
    // Renames consume what CreateMailbox made: the write path is warm by then.
    if (operation !== 'RenameMailbox' && warmupMs > 0) await closedLoop(concurrency, warmupMs, once);
    const bar = progress(`${operation}@${concurrency}${isEcho ? ' echo' : ''}`.padEnd(22), Math.max(1, Math.round(durationMs / 1000)));
    const startedMs = performance.now();
    const phase = await withCpu(target.pid, () =>
      closedLoop(concurrency, durationMs, once, () => bar?.update(Math.round((performance.now() - startedMs) / 1000))),
    );
    bar?.stop();
    return phase;
  };
}

/**
 * The node and the echo measured in turns, `rounds` slices each, each slice
 * duration/rounds: this host's speed drifts by 10-25% within minutes, and
 * taking turns moves both sides of a ratio alike. Without an echo, one slice.
 */
async function nodeAndEcho(settings: LoadSettings, node: Slice, echo: Slice | null): Promise<[Phase, Phase | null]> {
  if (echo === null) return [await node(settings.durationMs, settings.warmupMs), null];
  const sliceMs = settings.durationMs / settings.rounds;
  let nodePhase: Phase | null = null;
  let echoPhase: Phase | null = null;
  for (let round = 0; round < settings.rounds; round += 1) {
    const warmupMs = round === 0 ? settings.warmupMs : 0;
    const nodeSlice = await node(sliceMs, warmupMs);
    nodePhase = nodePhase === null ? nodeSlice : mergePhases(nodePhase, nodeSlice);
    const echoSlice = await echo(sliceMs, warmupMs);
    echoPhase = echoPhase === null ? echoSlice : mergePhases(echoPhase, echoSlice);
  }
  if (nodePhase === null) throw new Error('bench: no rounds measured');
  return [nodePhase, echoPhase];
}

async function runUnary(operation: UnaryOperation, concurrency: number, context: RunContext, echo: Target | null, canned: CannedResponses): Promise<OperationResult> {
  const node = unarySlices(operation, context, context.node, concurrency, canned);
  // runBench filled the echo's canned answer for this call from the node's own answer.
  const method = requestOf(operation, context, new RequestPicker(context.shape, 0), 0)[0];
  const echoSlices = echo !== null && canned[method] !== undefined ? unarySlices(operation, context, echo, concurrency, null) : null;
  const [real, echoPhase] = await nodeAndEcho(context.settings, node, echoSlices);
  return resultOf(labelOf(operation, concurrency, context.settings), real, echoPhase, rssMebibytes(context.node.pid), operation === 'LookupMailboxes');
}

async function runStream(context: RunContext, echo: Target | null, canned: CannedResponses): Promise<OperationResult> {
  const { settings } = context;
  const slices = (target: Target): Slice => {
    const picker = new RequestPicker(context.shape, settings.seed);
    const warmPicker = new RequestPicker(context.shape, settings.seed + 2);
    return async (durationMs, warmupMs) => {
      if (warmupMs > 0) await streamLookups(clientOf(target, 0), warmPicker, settings, warmupMs);
      return withCpu(target.pid, () => streamLookups(clientOf(target, 0), picker, settings, durationMs));
    };
  };
  const echoSlices = echo !== null && canned['LookupStream'] !== undefined ? slices(echo) : null;
  const [real, echoPhase] = await nodeAndEcho(settings, slices(context.node), echoSlices);
  return resultOf(`LookupStream x${settings.streamBatchNames}`, real, echoPhase, rssMebibytes(context.node.pid), true);
}

/** Watch delivery against the node, then against the echo (which broadcasts each create it answers). */
async function runWatch(context: RunContext, echo: Target | null, canned: CannedResponses): Promise<OperationResult> {
  const measure = (target: Target): Promise<Phase> =>
    withCpu(target.pid, () => watchDelivery(clientOf(target, 0), target.endpoint, target.pid, context.settings, context.runTag));
  const real = await measure(context.node);
  const rss = rssMebibytes(context.node.pid);
  const echoPhase = echo !== null && canned['CreateMailbox'] !== undefined ? await measure(echo) : null;
  return resultOf(`Watch x${context.settings.watchSubscribers}`, real, echoPhase, rss, false);
}

/**
 * nginx auth_http lookups (a new connection each, as nginx makes them) against
 * `address`, as slices that go on where the last stopped, like unarySlices.
 */
function authHttpSlices(address: string, pid: number | undefined, context: RunContext, concurrency: number): Slice {
  const picker = new RequestPicker(context.shape, context.settings.seed);
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const once = async (): Promise<number> => {
    await authHttpOnce(host, port, authHttpRequest(userId(picker.userIndex())));
    return 1;
  };
  return async (durationMs, warmupMs) => {
    if (warmupMs > 0) await closedLoop(concurrency, warmupMs, once);
    return withCpu(pid, () => closedLoop(concurrency, durationMs, once));
  };
}

async function runAuthHttp(concurrency: number, context: RunContext, nodeHttp: string, echoHttp: Target | null): Promise<OperationResult> {
  const node = authHttpSlices(nodeHttp, context.node.pid, context, concurrency);
  const echo = echoHttp === null ? null : authHttpSlices(echoHttp.endpoint, echoHttp.pid, context, concurrency);
  const [real, echoPhase] = await nodeAndEcho(context.settings, node, echo);
  const label = concurrency === context.settings.concurrency ? 'AuthHttp (nginx)' : `AuthHttp (nginx) @${concurrency}`;
  return resultOf(label, real, echoPhase, rssMebibytes(context.node.pid), false);
}

/**
 * The socketmap: `concurrency` persistent connections, each one request at a
 * time as a Postfix process sends them (Socketmap@1: one connection), against
 * the node's socketmap and the bare netstring echo, in turns.
 */
async function runSocketmap(concurrency: number, context: RunContext, address: string, echo: { address: string; pid: number | undefined } | null): Promise<OperationResult> {
  const slices = async (target: string, pid: number | undefined): Promise<{ slice: Slice; close(): void }> => {
    const connections = await Promise.all(Array.from({ length: concurrency }, () => SocketmapConnection.open(target)));
    const picker = new RequestPicker(context.shape, context.settings.seed);
    const once = async (worker: number): Promise<number> => {
      const reply = await (connections[worker] as SocketmapConnection).request(socketmapRequest(picker));
      if (!reply.startsWith('OK ')) throw new Error(`socketmap answered ${reply}`);
      return 1;
    };
    const slice: Slice = async (durationMs, warmupMs) => {
      if (warmupMs > 0) await closedLoop(concurrency, warmupMs, once);
      return withCpu(pid, () => closedLoop(concurrency, durationMs, once));
    };
    return { slice, close: () => connections.forEach((connection) => connection.close()) };
  };
  const node = await slices(address, context.node.pid);
  const floor = echo === null ? null : await slices(echo.address, echo.pid);
  try {
    const [real, echoPhase] = await nodeAndEcho(context.settings, node.slice, floor?.slice ?? null);
    const label = concurrency === context.settings.concurrency ? 'Socketmap' : `Socketmap @${concurrency}`;
    return resultOf(label, real, echoPhase, rssMebibytes(context.node.pid), false);
  } finally {
    node.close();
    floor?.close();
  }
}

function labelOf(operation: UnaryOperation, concurrency: number, settings: LoadSettings): string {
  const base = operation === 'LookupMailboxes' ? `LookupMailboxes x${settings.lookupBatchNames}` : operation;
  return concurrency === settings.concurrency ? base : `${base} @${concurrency}`;
}

/** The first LookupStream response for the echo to answer with (the same batch size as the run). */
async function cannedStreamResponse(context: RunContext): Promise<Message> {
  const stream = clientOf(context.node, 0).lookupStream();
  const picker = new RequestPicker(context.shape, context.settings.seed + 1);
  const batch = Math.max(1, context.settings.streamBatchNames);
  const response = new Promise<Message>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  stream.write(batch === 1 ? { name: picker.name() } : { names: picker.names(batch) });
  const answer = await response;
  stream.end();
  return answer;
}

/** The node's answer to one auth_http lookup: the headers the HTTP echo answers with. */
async function cannedAuthHttpAnswer(httpEndpoint: string | undefined, shape: DirectoryShape, seed: number): Promise<Array<[string, string]>> {
  if (httpEndpoint === undefined) throw new Error('AuthHttp needs the node\'s HTTP address: --data-dir (bench starts it with --http-listen) or --http-endpoint');
  const colon = httpEndpoint.lastIndexOf(':');
  const user = userId(new RequestPicker(shape, seed).userIndex());
  const answer = await authHttpOnce(httpEndpoint.slice(0, colon), Number(httpEndpoint.slice(colon + 1)), authHttpRequest(user));
  return headersOfAnswer(answer);
}

/** Starts the bare HTTP server answering `headers`; it joins `children` so the run stops it. */
async function startHttpEcho(headers: Array<[string, string]>, children: Child[]): Promise<Target> {
  const file = join(mkdtempSync(join(tmpdir(), 'mbdir-bench-')), 'auth-http.json');
  writeFileSync(file, JSON.stringify(headers));
  const child = await spawnServing(['bench', 'http-echo', '--headers', file], [], 'HTTP').finally(() => rmSync(dirname(file), { recursive: true, force: true }));
  children.push(child);
  return { endpoint: child.endpoint, clients: [], pid: child.process.pid };
}

/** `OP` or `OP@N` from --ops. */
function parseOperation(text: string, defaultConcurrency: number, known: readonly string[] = operationNames): { operation: string; concurrency: number } {
  const [operation = '', concurrencyText] = text.split('@');
  if (!known.includes(operation)) {
    throw new Error(`unknown operation ${operation}; known: ${known.join(', ')} (OP@N sets N callers)`);
  }
  const concurrency = concurrencyText === undefined ? defaultConcurrency : Number(concurrencyText);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    throw new Error(`${text}: callers after @ must be a whole number from 1 to 10000`);
  }
  return { operation, concurrency };
}

export interface RunOptions {
  shape: DirectoryShape;
  settings: LoadSettings;
  operations: string[];
  endpoint?: string;
  /** The node's HTTP address (`--http-listen`) when bench uses a running node at `endpoint`. */
  httpEndpoint?: string;
  serverPid?: number;
  dataDir?: string;
  synchronous: string;
  echo: boolean;
  /** Read the data directory into the OS cache before starting the node (--data-dir only). */
  prewarm: boolean;
  /** The node's socketmap address with --endpoint (a node bench starts gets one when Socketmap is asked for). */
  socketmap?: string;
}

export interface RunReport {
  results: OperationResult[];
  serverRssMb: number;
  /** Mailboxes the node said it holds (Status) when the run began. */
  nodeMailboxes: number;
  /** The data directory read into the OS cache before the node started (--data-dir without --no-prewarm). */
  prewarm: { bytes: number; seconds: number } | null;
}

/**
 * Requests are drawn from the shape: against a directory much larger than it,
 * they touch only a corner of it (cached, so flattering). Said before the run.
 */
function warnOnShapeMismatch(shape: DirectoryShape, nodeMailboxes: number): void {
  const drawnFrom = mailboxTotal(shape);
  const effect = nodeMailboxes > 2 * drawnFrom
    ? 'they touch a corner of the directory'
    : 2 * nodeMailboxes < drawnFrom
      ? 'most names asked will not be found, which costs less than a find'
      : null;
  if (effect === null) return;
  process.stderr.write(
    `warning: the node holds ${nodeMailboxes} mailboxes, but the requests are drawn from ${drawnFrom} ` +
      `(${shape.users} users x ${shape.foldersPerUser}): ${effect}. Pass the --users, --folders and --businesses it was ` +
      'generated with (bench generate keeps them in bench-shape.json, read with --data-dir)\n',
  );
}

export async function runBench(options: RunOptions): Promise<RunReport> {
  const planned = options.operations.map((text) => parseOperation(text, options.settings.concurrency));
  const children: Child[] = [];
  const wantsSocketmap = planned.some(({ operation }) => operation === 'Socketmap');
  try {
    let socketmap = options.socketmap;
    let endpoint = options.endpoint;
    let httpEndpoint = options.httpEndpoint;
    let serverPid = options.serverPid;
    let prewarm: RunReport['prewarm'] = null;
    if (options.dataDir !== undefined) {
      if (options.prewarm) {
        prewarm = prewarmDataDir(options.dataDir);
        process.stderr.write(`read ${(prewarm.bytes / 2 ** 20).toFixed(0)} MiB of ${options.dataDir} into the OS cache in ${prewarm.seconds.toFixed(1)} s\n`);
      }
      const http = planned.some(({ operation }) => operation === 'AuthHttp') ? ['--http-listen', '127.0.0.1:0'] : [];
      const socketmapArgs = wantsSocketmap ? ['--socketmap-listen', '127.0.0.1:0', '--socketmap-local-domains', benchLocalDomain] : [];
      const node = await spawnServing(['serve', '--data-dir', options.dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn', '--synchronous', options.synchronous, ...http, ...socketmapArgs]);
      children.push(node);
      endpoint = node.endpoint;
      httpEndpoint = node.httpEndpoint;
      serverPid = node.process.pid;
      socketmap = node.served.get('socketmap');
    }
    if (endpoint === undefined) throw new Error('bench run needs --data-dir (it starts the node) or --endpoint');
    const node: Target = { endpoint, clients: connect(endpoint, options.settings.connections), pid: serverPid };
    const client = clientOf(node, 0); // setup calls and Watch's writes
    const nodeMailboxes = Number((await client.status())['mailboxes'] ?? 0);
    warnOnShapeMismatch(options.shape, nodeMailboxes);
    const context: RunContext = { node, shape: options.shape, settings: options.settings, runTag: Date.now().toString(36), created: [] };
    const canned: CannedResponses = {};
    const results: OperationResult[] = [];
    // Warm-up calls fill the canned responses the echo server answers with.
    let cannedAuthHttp: Array<[string, string]> | null = null;
    for (const { operation } of planned) {
      if (operation === 'LookupStream') canned['LookupStream'] = await cannedStreamResponse(context);
      if (operation === 'AuthHttp') cannedAuthHttp = await cannedAuthHttpAnswer(httpEndpoint, options.shape, options.settings.seed + 1);
      if (operation === 'RenameMailbox' || operation === 'LookupStream' || operation === 'AuthHttp' || operation === 'Socketmap') continue;
      // The echo's Watch broadcasts the creates it answers: it needs a create's answer too.
      const unary = operation === 'Watch' ? 'CreateMailbox' : (operation as UnaryOperation);
      if (operation === 'Watch' && canned['CreateMailbox'] !== undefined) continue;
      const [method, request] = requestOf(unary, context, new RequestPicker(options.shape, options.settings.seed + 1), 1_000_000_000);
      canned[method] = await call(client, method, request);
    }
    let echo: Target | null = null;
    if (options.echo) {
      const file = join(mkdtempSync(join(tmpdir(), 'mbdir-bench-')), 'responses.json');
      writeFileSync(file, JSON.stringify(canned));
      const echoChild = await spawnServing(['bench', 'echo', '--responses', file]).finally(() =>
        rmSync(dirname(file), { recursive: true, force: true }), // read at start-up: no trace left in /tmp
      );
      children.push(echoChild);
      echo = { endpoint: echoChild.endpoint, clients: connect(echoChild.endpoint, options.settings.connections), pid: echoChild.process.pid };
    }
    const httpEcho = options.echo && cannedAuthHttp !== null ? await startHttpEcho(cannedAuthHttp, children) : null;
    const socketmapEcho = wantsSocketmap && options.echo ? await startSocketmapEcho(socketmap, context, children) : null;
    for (const { operation, concurrency } of planned) {
      if (operation === 'AuthHttp') results.push(await runAuthHttp(concurrency, context, httpEndpoint ?? '', httpEcho));
      else if (operation === 'Socketmap') results.push(await runSocketmap(concurrency, context, socketmap ?? '', socketmapEcho));
      else if (operation === 'LookupStream') results.push(await runStream(context, echo, canned));
      else if (operation === 'Watch') results.push(await runWatch(context, echo, canned));
      else {
        results.push(await runUnary(operation as UnaryOperation, concurrency, context, operation === 'RenameMailbox' ? null : echo, canned));
      }
    }
    const serverRssMb = rssMebibytes(serverPid);
    for (const open of [...node.clients, ...(echo?.clients ?? [])]) open.close();
    return { results, serverRssMb, nodeMailboxes, prewarm };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

// ------------------------------------------------------------ command line

/** Starts the bare netstring echo with the node's answer to one request as its canned reply. */
async function startSocketmapEcho(socketmap: string | undefined, context: RunContext, children: Child[]): Promise<{ address: string; pid: number | undefined }> {
  if (socketmap === undefined) throw new Error('Socketmap needs the node\'s socketmap: --data-dir (bench starts it with one) or --socketmap HOST:PORT');
  const connection = await SocketmapConnection.open(socketmap);
  const reply = await connection.request(socketmapRequest(new RequestPicker(context.shape, context.settings.seed + 1))).finally(() => connection.close());
  if (!reply.startsWith('OK ')) throw new Error(`the node's socketmap answered ${reply}: is --socketmap-local-domains ${benchLocalDomain} set?`);
  const echo = await spawnServing(['bench', 'socketmap-echo', '--reply', reply], [], 'socketmap-echo');
  children.push(echo);
  return { address: echo.endpoint, pid: echo.process.pid };
}

/** What the figures were measured on: a benchmark on a busy or small machine must say so. */
function machineNow(): { cores: number; cpu: string; memoryGb: number; loadAverageAtStart: string[] } {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadavg().map((load) => load.toFixed(2)),
  };
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
    .option('--engine <kind>', 'standalone, or etcd: nodes on an etcd cluster, writes beside raw etcd txns of the same shape (etcd-mode.ts)', 'standalone')
    .option('--etcd-members <n>', 'with --engine etcd: etcd members bench starts on loopback', numberIn(1, etcdBenchMembersMax), 3)
    .option('--etcd-endpoints <urls>', 'with --engine etcd: a running etcd cluster instead (bench writes under a fresh prefix and leaves it)')
    .option('--nodes <n>', 'with --engine etcd: nodes started (GetMailbox runs through all of them, beside one node)', numberIn(1, etcdBenchNodesMax), 1)
    // The numeric options are numbers already (numberIn), the others strings; `echo` is a boolean.
    .action(async (options: Record<string, unknown>, command: Command) => {
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
      const machine = { ...machineBefore, loadAverageAtEnd: machineNow().loadAverageAtStart };
      const report = { shape, settings, mailboxes: mailboxTotal(shape), machine, ...run };
      if (globals.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        printTable(run.results, run.serverRssMb);
        process.stdout.write(
          `machine: ${machine.cores} x ${machine.cpu}, ${machine.memoryGb} GB; load average ${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end (other load makes every figure lower)\n`,
        );
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
  addMupdateBench(bench);
}

/** `bench mupdate`: mbdir's MUPDATE figures beside a peer MUPDATE server's; `bench cyrus-dump`: the shape for Cyrus. */
/** `bench run --engine etcd`: nodes on an etcd cluster beside their floors (etcd-mode.ts). */
async function runEtcdCommand(options: Record<string, unknown>, settings: LoadSettings, machineBefore: ReturnType<typeof machineNow>, json: boolean): Promise<void> {
  const operations = String(options['ops']).split(',').filter((name) => name !== '').map((text) => parseOperation(text, settings.concurrency, etcdOperationNames));
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
