/**
 * The bench's one table of operations: for each name `bench run --ops` knows,
 * its kind (unary, stream, watch, http, socketmap), its callers unless `OP@N`
 * says otherwise, how it makes a request, what it asks the node once so its
 * floor (the bare echo of the same transport) can answer alike, and how it is
 * measured in turns with that floor. A new operation is one row here; the run
 * (run.ts) only walks the table. Processes are spawned through the harness.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { MbdirClient } from '../../src/client/client.js';
import type { LookupStreamResponse__Output } from '../../src/client/messages.js';
import { authHttpOnce, authHttpRequest, headersOfAnswer } from './auth-http.js';
import type { CannedResponses } from './echo.js';
import { userId } from './generate.js';
import { clientOf, connect, nodeAndEcho, spawnServing, withCpu, type Child, type Measurable, type RunContext, type Slice, type Target } from './harness.js';
import { LeanLookups, requestFrame, type LeanMethod } from './lean-lookups.js';
import { closedLoop, RequestPicker, streamLookups, type LoadSettings, type Measured } from './load.js';
import { loneCaller, type LoneCall } from './lone-caller.js';
import { rssMebibytes } from './proc.js';
import { progress, resultOf, type OperationResult, type Phase } from './report.js';
import { benchLocalDomain, SocketmapConnection, socketmapRequest } from './socketmap.js';
import { watchDelivery } from './watch-delivery.js';

export type OperationKind = 'unary' | 'stream' | 'watch' | 'http' | 'socketmap';

/** A request of a unary operation: how to send it, the names it asks for, the mailbox it creates (if any). */
interface UnaryRequest {
  send(client: MbdirClient): Promise<object>;
  names: number;
  created: string | null;
  /** The same request for the lean sender, which a lone caller (@1) uses (leanCaller). */
  lean?: { method: LeanMethod; message: object };
}

/** The floors of a run: bare servers answering each transport with the node's own answers. */
export interface Floors {
  /** The bare grpc-js echo (null: --no-echo) and the answers it replays, by method. */
  grpc: Target | null;
  canned: CannedResponses;
  /** The bare node:http server for AuthHttp, and the node's auth_http answer it replays. */
  http: Target | null;
  cannedHttp: Array<[string, string]> | null;
  /** The bare netstring echo for Socketmap. */
  socketmap: { address: string; pid: number | undefined } | null;
}

/** Where the node serves besides gRPC (bench starts it so when an operation needs it). */
export interface NodeListeners {
  http: string | undefined;
  socketmap: string | undefined;
}

export interface OperationEntry {
  kind: OperationKind;
  /** Callers when --ops names it without @N (unary, http, socketmap: --concurrency). */
  callers(settings: LoadSettings): number;
  /** The listener the node needs beside gRPC. */
  listener: 'http' | 'socketmap' | null;
  /** Unary only: the request number `sequence` (a request never repeats: a repeated name would be found in a warm cache). */
  request?(context: RunContext, picker: RequestPicker, sequence: number): UnaryRequest;
  /** Asks the node once for what the floor answers with; runs before any floor starts. */
  fillFloor(context: RunContext, floors: Floors, node: NodeListeners): Promise<void>;
  /** Measures the operation with `callers` callers, in turns with its floor when there is one. */
  run(callers: number, context: RunContext, floors: Floors, node: NodeListeners): Promise<OperationResult>;
}

/** A unary operation's row: its request, its floor's canned answer filled from the node's answer to one. */
function unary(name: string, request: NonNullable<OperationEntry['request']>, hasFloor = true): OperationEntry {
  return {
    kind: 'unary',
    callers: (settings) => settings.concurrency,
    listener: null,
    request,
    fillFloor: async (context, floors) => {
      if (!hasFloor) return;
      floors.canned[name] = await request(context, new RequestPicker(context.shape, context.settings.seed + 1), 1_000_000_000).send(clientOf(context.node, 0));
    },
    run: (callers, context, floors) => runUnary(name, request, callers, context, hasFloor ? floors : null),
  };
}

const createRequest = (context: RunContext, picker: RequestPicker, sequence: number): UnaryRequest => {
  const name = `user.${userId(picker.userIndex())}.b${context.runTag}c${sequence}`;
  return { send: (client) => client.createMailbox({ mailbox: { name }, request_id: `${context.runTag}-${sequence}` }), names: 1, created: name };
};

/** Every operation `bench run --ops` knows. */
export const operationTable = {
  GetMailbox: unary('GetMailbox', (_, picker) => {
    const name = picker.name();
    return { send: (client) => client.getMailbox({ name }), names: 1, created: null, lean: { method: 'GetMailbox', message: { name } } };
  }),
  LookupMailboxes: unary('LookupMailboxes', (context, picker) => {
    const names = picker.names(context.settings.lookupBatchNames);
    return { send: (client) => client.lookupMailboxes({ names }), names: names.length, created: null };
  }),
  LookupStream: {
    kind: 'stream',
    callers: () => 1,
    listener: null,
    fillFloor: async (context, floors) => {
      floors.canned['LookupStream'] = await cannedStreamResponse(context);
    },
    run: (_, context, floors) => runStream(context, floors),
  },
  ListMailboxes: unary('ListMailboxes', (_, picker) => {
    const request = picker.listRequest();
    return { send: (client) => client.listMailboxes(request), names: 1, created: null, lean: { method: 'ListMailboxes', message: request } };
  }),
  ResolveUser: unary('ResolveUser', (_, picker) => {
    const user = userId(picker.userIndex());
    return { send: (client) => client.resolveUser({ user }), names: 1, created: null };
  }),
  AuthHttp: {
    kind: 'http',
    callers: (settings) => settings.concurrency,
    listener: 'http',
    fillFloor: async (context, floors, node) => {
      floors.cannedHttp = await cannedAuthHttpAnswer(node.http, context);
    },
    run: (callers, context, floors, node) => runAuthHttp(callers, context, node.http ?? '', floors.http),
  },
  CreateMailbox: unary('CreateMailbox', createRequest),
  // Renames consume what CreateMailbox made; the echo cannot rename what it never made.
  RenameMailbox: unary('RenameMailbox', (context, _, sequence) => {
    const name = context.created[sequence] ?? '';
    return { send: (client) => client.renameMailbox({ name, new_name: `${name}r` }), names: 1, created: null };
  }, false),
  Watch: {
    kind: 'watch',
    callers: (settings) => settings.watchSubscribers,
    listener: null,
    // The echo's Watch broadcasts the creates it answers: it needs a create's answer.
    fillFloor: async (context, floors) => {
      if (floors.canned['CreateMailbox'] !== undefined) return;
      const create = createRequest(context, new RequestPicker(context.shape, context.settings.seed + 1), 1_000_000_000);
      floors.canned['CreateMailbox'] = await create.send(clientOf(context.node, 0));
    },
    run: (_, context, floors) => runWatch(context, floors),
  },
  Socketmap: {
    kind: 'socketmap',
    callers: (settings) => settings.concurrency,
    listener: 'socketmap',
    fillFloor: async () => {}, // the socketmap echo asks the node itself as it starts
    run: (callers, context, floors, node) => runSocketmap(callers, context, node.socketmap ?? '', floors.socketmap),
  },
} satisfies Record<string, OperationEntry>;

export type OperationName = keyof typeof operationTable;
export const operationNames = Object.keys(operationTable) as OperationName[];
/** What `bench run` measures unless --ops says otherwise; `OP@N` runs OP with N callers (ListMailboxes@1: latency without queueing). */
export const defaultOperations = ['GetMailbox', 'LookupMailboxes', 'LookupStream', 'ListMailboxes', 'ListMailboxes@1', 'ResolveUser', 'AuthHttp', 'CreateMailbox', 'RenameMailbox', 'Watch'];

export function entryOf(name: string): OperationEntry | undefined {
  return (operationTable as Record<string, OperationEntry>)[name];
}

// ------------------------------------------------------------ how each kind is measured

/**
 * One unary operation against `target` with `concurrency` callers, as slices
 * that go on where the last one stopped (the same request sequence, never
 * replayed). Against the node it records answers for the floor and the names
 * CreateMailbox made; against the echo it only measures; `close` ends its
 * connections once every slice has run.
 *
 * A lone caller (@1) of GetMailbox or ListMailboxes sends through the lean
 * HTTP/2 sender (lean-lookups.ts), to the node and to its echo alike, one call
 * from the answer of the last (lone-caller.ts): the typed client's own
 * collections (each call's objects are promoted) were most of a lone LIST's
 * p99, on both. Its answers are checked by status, not read.
 */
function unarySlices(name: string, request: NonNullable<OperationEntry['request']>, context: RunContext, target: Target, concurrency: number, isEcho: boolean): { slice: Slice; close(): void } {
  const picker = new RequestPicker(context.shape, context.settings.seed);
  let sequence = 0;
  /** The next request in the operation's sequence; null when RenameMailbox has renamed every mailbox made. */
  const nextRequest = (): UnaryRequest | null => {
    const mine = sequence;
    sequence += 1;
    if (name === 'RenameMailbox' && mine >= context.created.length) return null;
    return request(context, picker, isEcho ? mine % Math.max(1, context.created.length) : mine);
  };
  /** A request made ahead to learn whether it has a lean form; the next one taken. */
  let ahead: UnaryRequest | null | undefined;
  const peek = (): UnaryRequest | null => (ahead === undefined ? (ahead = nextRequest()) : ahead);
  const take = (): UnaryRequest | null => {
    const call = ahead === undefined ? nextRequest() : ahead;
    ahead = undefined;
    return call;
  };
  const once = async (worker: number): Promise<number> => {
    const call = take();
    if (call === null) return -1;
    await call.send(clientOf(target, worker));
    if (!isEcho && call.created !== null) context.created.push(call.created);
    return call.names;
  };
  // One connection for every slice, warm-up included: on a new one each slice's first 0.5 s ran slower.
  let lone: LeanLookups | null = null;
  /** The loop of one slice (warm-up or measured): the lone caller where the request has a lean form, else closedLoop. */
  const loop = (durationMs: number, onTick?: () => void): Promise<Measured> => {
    const lean = concurrency === 1 ? peek()?.lean : undefined;
    if (lean === undefined) return closedLoop(concurrency, durationMs, once, onTick);
    // Only lookups have a lean form: none creates a mailbox, none runs out.
    const next = (): LoneCall => {
      const call = take();
      if (call?.lean === undefined) throw new Error(`bench: ${name}'s requests have no lean form`);
      return { frame: requestFrame(call.lean.method, call.lean.message), names: call.names };
    };
    lone ??= new LeanLookups(target.endpoint, 1, lean.method);
    return loneCaller(lone, next, durationMs, onTick);
  };
  const slice: Slice = async (durationMs, warmupMs) => {
    // Renames consume what CreateMailbox made: the write path is warm by then. The warm-up runs
    // as a measured slice does (withCpu: a /metrics scrape at each end, the load generator's
    // loop monitor, a tick): the first time each of those runs, in the node or here, lone LISTs
    // ran slower for seconds after (p99 2.6-3.8 ms against 1.3-1.8 before it), and that must
    // not fall in the first measured slice (docs/performance.md).
    if (name !== 'RenameMailbox' && warmupMs > 0) await withCpu(target, () => loop(warmupMs, () => undefined));
    const bar = progress(`${name}@${concurrency}${isEcho ? ' echo' : ''}`.padEnd(22), Math.max(1, Math.round(durationMs / 1000)));
    const startedMs = performance.now();
    const phase = await withCpu(target, () => loop(durationMs, () => bar?.update(Math.round((performance.now() - startedMs) / 1000))));
    bar?.stop();
    return phase;
  };
  return { slice, close: () => lone?.close() };
}

function labelOf(name: string, concurrency: number, settings: LoadSettings): string {
  const base = name === 'LookupMailboxes' ? `LookupMailboxes x${settings.lookupBatchNames}` : name;
  return concurrency === settings.concurrency ? base : `${base} @${concurrency}`;
}

async function runUnary(name: string, request: NonNullable<OperationEntry['request']>, concurrency: number, context: RunContext, floors: Floors | null): Promise<OperationResult> {
  const node = unarySlices(name, request, context, context.node, concurrency, false);
  // fillFloor filled the echo's canned answer for this call (by method: the operation's name) from the node's own answer.
  const echo = floors?.grpc ?? null;
  const echoSlices = echo !== null && floors?.canned[name] !== undefined ? unarySlices(name, request, context, echo, concurrency, true) : null;
  const [real, echoPhase] = await nodeAndEcho(context.settings, node.slice, echoSlices?.slice ?? null).finally(() => {
    node.close();
    echoSlices?.close();
  });
  return resultOf(labelOf(name, concurrency, context.settings), real, echoPhase, rssMebibytes(context.node.pid), name === 'LookupMailboxes');
}

async function runStream(context: RunContext, floors: Floors): Promise<OperationResult> {
  const { settings } = context;
  const slices = (target: Target): Slice => {
    const picker = new RequestPicker(context.shape, settings.seed);
    const warmPicker = new RequestPicker(context.shape, settings.seed + 2);
    return async (durationMs, warmupMs) => {
      if (warmupMs > 0) await streamLookups(clientOf(target, 0), warmPicker, settings, warmupMs);
      return withCpu(target, () => streamLookups(clientOf(target, 0), picker, settings, durationMs));
    };
  };
  const echoSlices = floors.grpc !== null && floors.canned['LookupStream'] !== undefined ? slices(floors.grpc) : null;
  const [real, echoPhase] = await nodeAndEcho(settings, slices(context.node), echoSlices);
  return resultOf(`LookupStream x${settings.streamBatchNames}`, real, echoPhase, rssMebibytes(context.node.pid), true);
}

/** Watch delivery against the node, then against the echo (which broadcasts each create it answers). */
async function runWatch(context: RunContext, floors: Floors): Promise<OperationResult> {
  const measure = (target: Target): Promise<Phase> =>
    withCpu(target, () => watchDelivery(clientOf(target, 0), target.endpoint, target.pid, context.settings, context.runTag));
  const real = await measure(context.node);
  const rss = rssMebibytes(context.node.pid);
  const echoPhase = floors.grpc !== null && floors.canned['CreateMailbox'] !== undefined ? await measure(floors.grpc) : null;
  return resultOf(`Watch x${context.settings.watchSubscribers}`, real, echoPhase, rss, false);
}

/**
 * nginx auth_http lookups (a new connection each, as nginx makes them) against
 * `address`, as slices that go on where the last stopped, like unarySlices.
 */
function authHttpSlices(address: string, measured: Measurable, context: RunContext, concurrency: number): Slice {
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
    return withCpu(measured, () => closedLoop(concurrency, durationMs, once));
  };
}

async function runAuthHttp(concurrency: number, context: RunContext, nodeHttp: string, echoHttp: Target | null): Promise<OperationResult> {
  const node = authHttpSlices(nodeHttp, context.node, context, concurrency);
  const echo = echoHttp === null ? null : authHttpSlices(echoHttp.endpoint, { pid: echoHttp.pid }, context, concurrency);
  const [real, echoPhase] = await nodeAndEcho(context.settings, node, echo);
  const label = concurrency === context.settings.concurrency ? 'AuthHttp (nginx)' : `AuthHttp (nginx) @${concurrency}`;
  return resultOf(label, real, echoPhase, rssMebibytes(context.node.pid), false);
}

/**
 * The socketmap: `concurrency` persistent connections, each one request at a
 * time as a Postfix process sends them (Socketmap@1: one connection), against
 * the node's socketmap and the bare netstring echo, in turns.
 */
async function runSocketmap(concurrency: number, context: RunContext, address: string, echo: Floors['socketmap']): Promise<OperationResult> {
  const slices = async (target: string, measured: Measurable): Promise<{ slice: Slice; close(): void }> => {
    const connections = await Promise.all(Array.from({ length: concurrency }, () => SocketmapConnection.open(target)));
    const picker = new RequestPicker(context.shape, context.settings.seed);
    const once = async (worker: number): Promise<number> => {
      const reply = await (connections[worker] as SocketmapConnection).request(socketmapRequest(picker));
      if (!reply.startsWith('OK ')) throw new Error(`socketmap answered ${reply}`);
      return 1;
    };
    const slice: Slice = async (durationMs, warmupMs) => {
      if (warmupMs > 0) await closedLoop(concurrency, warmupMs, once);
      return withCpu(measured, () => closedLoop(concurrency, durationMs, once));
    };
    return { slice, close: () => connections.forEach((connection) => connection.close()) };
  };
  const node = await slices(address, context.node);
  const floor = echo === null ? null : await slices(echo.address, { pid: echo.pid });
  try {
    const [real, echoPhase] = await nodeAndEcho(context.settings, node.slice, floor?.slice ?? null);
    const label = concurrency === context.settings.concurrency ? 'Socketmap' : `Socketmap @${concurrency}`;
    return resultOf(label, real, echoPhase, rssMebibytes(context.node.pid), false);
  } finally {
    node.close();
    floor?.close();
  }
}

// ------------------------------------------------------------ the floors

/** The first LookupStream response for the echo to answer with (the same batch size as the run). */
async function cannedStreamResponse(context: RunContext): Promise<LookupStreamResponse__Output> {
  const stream = clientOf(context.node, 0).lookupStream();
  const picker = new RequestPicker(context.shape, context.settings.seed + 1);
  const batch = Math.max(1, context.settings.streamBatchNames);
  const response = new Promise<LookupStreamResponse__Output>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  stream.write(batch === 1 ? { name: picker.name() } : { names: picker.names(batch) });
  const answer = await response;
  stream.end();
  return answer;
}

/** The node's answer to one auth_http lookup: the headers the HTTP echo answers with. */
async function cannedAuthHttpAnswer(httpEndpoint: string | undefined, context: RunContext): Promise<Array<[string, string]>> {
  if (httpEndpoint === undefined) throw new Error('AuthHttp needs the node\'s HTTP address: --data-dir (bench starts it with --http-listen) or --http-endpoint');
  const colon = httpEndpoint.lastIndexOf(':');
  const user = userId(new RequestPicker(context.shape, context.settings.seed + 1).userIndex());
  const answer = await authHttpOnce(httpEndpoint.slice(0, colon), Number(httpEndpoint.slice(colon + 1)), authHttpRequest(user));
  return headersOfAnswer(answer);
}

/** Spawns the internal `bench NAME --FLAG FILE` with `content` in a scratch file it reads at start-up (no trace left in /tmp). */
async function spawnWithFile(name: string, flag: string, content: string, primary = 'gRPC'): Promise<Child> {
  const file = join(mkdtempSync(join(tmpdir(), 'mbdir-bench-')), `${name}.json`);
  writeFileSync(file, content);
  return spawnServing(['bench', name, flag, file], [], primary).finally(() => rmSync(dirname(file), { recursive: true, force: true }));
}

/** Starts the bare grpc-js echo answering `canned`; it joins `children` so the run stops it. */
export async function startGrpcEcho(canned: CannedResponses, settings: LoadSettings, children: Child[]): Promise<Target> {
  const child = await spawnWithFile('echo', '--responses', JSON.stringify(canned));
  children.push(child);
  return { endpoint: child.endpoint, clients: connect(child.endpoint, settings.connections), pid: child.process.pid };
}

/** Starts the bare HTTP server answering `headers`; it joins `children` so the run stops it. */
export async function startHttpEcho(headers: Array<[string, string]>, children: Child[]): Promise<Target> {
  const child = await spawnWithFile('http-echo', '--headers', JSON.stringify(headers), 'HTTP');
  children.push(child);
  return { endpoint: child.endpoint, clients: [], pid: child.process.pid };
}

/** Starts the bare netstring echo with the node's answer to one request as its canned reply. */
export async function startSocketmapEcho(socketmap: string | undefined, context: RunContext, children: Child[]): Promise<Floors['socketmap']> {
  if (socketmap === undefined) throw new Error('Socketmap needs the node\'s socketmap: --data-dir (bench starts it with one) or --socketmap HOST:PORT');
  const connection = await SocketmapConnection.open(socketmap);
  const reply = await connection.request(socketmapRequest(new RequestPicker(context.shape, context.settings.seed + 1))).finally(() => connection.close());
  if (!reply.startsWith('OK ')) throw new Error(`the node's socketmap answered ${reply}: is --socketmap-local-domains ${benchLocalDomain} set?`);
  const echo = await spawnServing(['bench', 'socketmap-echo', '--reply', reply], [], 'socketmap-echo');
  children.push(echo);
  return { address: echo.endpoint, pid: echo.process.pid };
}
