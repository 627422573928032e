/**
 * `bench run` as a sequence: parse `--ops` against the operation table, start
 * the node (on --data-dir) with the listeners the operations need, ask it once
 * for what each floor answers with, start the floors, then measure each
 * operation in turns with its floor. It holds no operation of its own (see
 * operations.ts) and stops every process it started, also on failure.
 */
import { mailboxTotal, type DirectoryShape } from './generate.js';
import { clientOf, connect, spawnServing, type Child, type RunContext, type Target } from './harness.js';
import type { LoadSettings } from './load.js';
import { entryOf, operationNames, startGrpcEcho, startHttpEcho, startSocketmapEcho, type Floors, type NodeListeners, type OperationEntry } from './operations.js';
import { prewarmDataDir } from './prewarm.js';
import { rssMebibytes } from './proc.js';
import type { OperationResult } from './report.js';
import { benchLocalDomain } from './socketmap.js';

/** Callers one `OP@N` may ask for at most. */
export const operationCallersMax = 10_000;

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

interface Planned {
  name: string;
  entry: OperationEntry;
  callers: number;
}

/** `OP` or `OP@N` from --ops. */
export function parseOperation(text: string, settings: LoadSettings): Planned {
  const [name = '', callersText] = text.split('@');
  const entry = entryOf(name);
  if (entry === undefined) throw new Error(`unknown operation ${name}; known: ${operationNames.join(', ')} (OP@N sets N callers)`);
  const callers = callersText === undefined ? entry.callers(settings) : Number(callersText);
  if (!Number.isInteger(callers) || callers < 1 || callers > operationCallersMax) {
    throw new Error(`${text}: callers after @ must be a whole number from 1 to ${operationCallersMax}`);
  }
  return { name, entry, callers };
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

/** How to reach the node: start it on `dataDir`, or the one at `endpoint`. */
export type NodeOptions = Pick<RunOptions, 'dataDir' | 'endpoint' | 'serverPid' | 'httpEndpoint' | 'socketmap' | 'prewarm' | 'synchronous'>;

/** The node measured: started on --data-dir with the listeners `listeners` names, or the one at --endpoint. */
export interface StartedNode extends NodeListeners {
  endpoint: string;
  pid: number | undefined;
  prewarm: RunReport['prewarm'];
}

/** Starts the node on `options.dataDir` (read into the OS cache first unless --no-prewarm), or takes --endpoint's. */
export async function startNode(options: NodeOptions, listeners: ReadonlySet<string>, children: Child[]): Promise<StartedNode> {
  if (options.dataDir === undefined) {
    if (options.endpoint === undefined) throw new Error('bench needs --data-dir (it starts the node) or --endpoint');
    return { endpoint: options.endpoint, pid: options.serverPid, http: options.httpEndpoint, socketmap: options.socketmap, prewarm: null };
  }
  let prewarm: RunReport['prewarm'] = null;
  if (options.prewarm) {
    prewarm = prewarmDataDir(options.dataDir);
    process.stderr.write(`read ${(prewarm.bytes / 2 ** 20).toFixed(0)} MiB of ${options.dataDir} into the OS cache in ${prewarm.seconds.toFixed(1)} s\n`);
  }
  // Always HTTP: AuthHttp's listener, and /metrics, where each row reads the node's event-loop delay.
  const http = ['--http-listen', '127.0.0.1:0'];
  const socketmap = listeners.has('socketmap') ? ['--socketmap-listen', '127.0.0.1:0', '--socketmap-local-domains', benchLocalDomain] : [];
  const node = await spawnServing(['serve', '--data-dir', options.dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn', '--synchronous', options.synchronous, ...http, ...socketmap]);
  children.push(node);
  return { endpoint: node.endpoint, pid: node.process.pid, http: node.httpEndpoint, socketmap: node.served.get('socketmap'), prewarm };
}

/** Asks the node for each floor's answers, then starts the floors the planned operations need (none with --no-echo). */
async function startFloors(planned: readonly Planned[], context: RunContext, node: NodeListeners, echo: boolean, children: Child[]): Promise<Floors> {
  const floors: Floors = { grpc: null, canned: {}, http: null, cannedHttp: null, socketmap: null };
  for (const { entry } of planned) await entry.fillFloor(context, floors, node);
  if (!echo) return floors;
  floors.grpc = await startGrpcEcho(floors.canned, context.settings, children);
  if (floors.cannedHttp !== null) floors.http = await startHttpEcho(floors.cannedHttp, children);
  if (planned.some(({ entry }) => entry.kind === 'socketmap')) floors.socketmap = await startSocketmapEcho(node.socketmap, context, children);
  return floors;
}

export async function runBench(options: RunOptions): Promise<RunReport> {
  const planned = options.operations.map((text) => parseOperation(text, options.settings));
  const children: Child[] = [];
  let opened: Target[] = [];
  try {
    const listeners = new Set(planned.flatMap(({ entry }) => (entry.listener === null ? [] : [entry.listener])));
    const started = await startNode(options, listeners, children);
    const node: Target = { endpoint: started.endpoint, clients: connect(started.endpoint, options.settings.connections), pid: started.pid, metrics: started.http };
    opened = [node];
    const nodeMailboxes = Number((await clientOf(node, 0).status())['mailboxes'] ?? 0);
    warnOnShapeMismatch(options.shape, nodeMailboxes);
    const context: RunContext = { node, shape: options.shape, settings: options.settings, runTag: Date.now().toString(36), created: [] };
    const floors = await startFloors(planned, context, started, options.echo, children);
    if (floors.grpc !== null) opened.push(floors.grpc);
    const results: OperationResult[] = [];
    for (const { entry, callers } of planned) results.push(await entry.run(callers, context, floors, started));
    return { results, serverRssMb: rssMebibytes(started.pid), nodeMailboxes, prewarm: started.prewarm };
  } finally {
    for (const target of opened) for (const client of target.clients) client.close();
    for (const child of children.reverse()) await child.stop();
  }
}
