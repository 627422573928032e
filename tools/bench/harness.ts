/**
 * The bench's harness: it spawns the processes a run measures (the node, the
 * bare floors) and waits for their `serving PROTOCOL on HOST:PORT` lines, opens
 * the gRPC connections, measures a slice of load with the CPU each side spent,
 * and takes the node and its floor in turns. It knows no operation: what a
 * request is and which floor an operation needs is the operation table's
 * (operations.ts). Every child it starts is stopped by whoever asked for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { MbdirClient } from '../../src/client/client.js';
import { mbdirEntry } from './entry.js';
import type { DirectoryShape } from './generate.js';
import type { LoadSettings, Measured } from './load.js';
import { LoadLoopMonitor, scrapeLoopDelay } from './event-loop.js';
import { collectBetweenSlices } from './load-heap.js';
import { serveNodeFlags } from '../node-flags.js';
import { cpuSecondsOf, ioStallMicroseconds, ioStallPercentOf } from './proc.js';
import { mergePhases, type Phase } from './report.js';

/** Seconds a spawned process has to print its `serving` lines. */
export const childStartMs = 60_000;

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
 * Node flags for the processes the bench spawns: a node's own (serveNodeFlags, as
 * `mbdir serve` runs), then MBDIR_BENCH_NODE_FLAGS (space-separated): how to profile
 * the node (`--cpu-prof --cpu-prof-dir=DIR`, `--trace-gc`), which NODE_OPTIONS refuses.
 */
function nodeFlagsOfServing(args: readonly string[]): string[] {
  const extra = (process.env['MBDIR_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
  return [...(args[0] === 'serve' ? serveNodeFlags : []), ...extra];
}

/**
 * Spawns `node mbdir.js ARGS` and waits for its `serving PRIMARY on HOST:PORT` line
 * (gRPC, or the echo's own: HTTP, socketmap-echo) and one line per `protocols`.
 */
export function spawnServing(args: string[], protocols: readonly string[] = [], primary: string = 'gRPC'): Promise<Child> {
  const child = spawn(process.execPath, [...nodeFlagsOfServing(args), mbdirEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const served = new Map<string, string>();
  return new Promise<Child>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${args[0] ?? ''} did not start in ${childStartMs / 1000} s: ${stderr}`)), childStartMs);
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

/** A server measured: its connections and its pid (for CPU and RSS). */
export interface Target {
  endpoint: string;
  /** One client per connection; caller i uses clients[i % clients.length]. */
  clients: MbdirClient[];
  pid: number | undefined;
  /** The node's HTTP address, for its event-loop delay (/metrics); none for a floor. */
  metrics?: string | undefined;
}

/** What every operation of a run shares: the node, the shape requests are drawn from, the settings. */
export interface RunContext {
  node: Target;
  shape: DirectoryShape;
  settings: LoadSettings;
  /** Makes the names this run creates unique. */
  runTag: string;
  /** Mailboxes CreateMailbox made, for RenameMailbox to rename. */
  created: string[];
}

/**
 * `count` clients of `endpoint`, each on its own HTTP/2 connection (grpc-js
 * shares one connection among clients of a target unless told otherwise). On
 * one connection the node and the load generator take turns: the node answers
 * a burst of calls, then the generator reads the burst and sends the next. With
 * several, one side works on a connection while the other works on another, as
 * with the many proxies and backends that call a node.
 */
export function connect(endpoint: string, count: number): MbdirClient[] {
  return Array.from({ length: count }, () =>
    new MbdirClient({ endpoint, deadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
  );
}

export function clientOf(target: Target, worker: number): MbdirClient {
  return target.clients[worker % target.clients.length] as MbdirClient;
}

/** Measures a slice of an operation against one target: its warm-up first (0: none), then `durationMs` measured. */
export type Slice = (durationMs: number, warmupMs: number) => Promise<Phase>;

/** What a phase reads of the server it measures: its CPU by pid, its event loop at /metrics when it has one. */
export type Measurable = Pick<Target, 'pid' | 'metrics'>;

/**
 * A measured run, the CPU the server (or echo) and this load generator spent on
 * it, and both sides' event-loop delay over it (the server's where it has /metrics).
 */
export async function withCpu(target: Measurable, run: () => Promise<Measured>): Promise<Phase> {
  const { pid } = target;
  collectBetweenSlices();
  if (target.metrics !== undefined) await scrapeLoopDelay(target.metrics); // starts the node's histogram afresh
  const loadLoop = new LoadLoopMonitor();
  const serverBefore = cpuSecondsOf(pid);
  const clientBefore = process.cpuUsage();
  const stallBefore = ioStallMicroseconds();
  const startedMs = performance.now();
  const measured = await run();
  const loops = { loadLoop: loadLoop.stop(), nodeLoop: target.metrics === undefined ? null : await scrapeLoopDelay(target.metrics) };
  const ioStallPercent = measured.windowIoStallPercent !== undefined
    ? measured.windowIoStallPercent
    : ioStallPercentOf(stallBefore, ioStallMicroseconds(), performance.now() - startedMs);
  const client = process.cpuUsage(clientBefore);
  const window = measured.windowCpuSeconds;
  if (window !== undefined) return { measured, serverCpuSeconds: window.server, clientCpuSeconds: window.load, ioStallPercent, ...loops };
  return { measured, serverCpuSeconds: cpuSecondsOf(pid) - serverBefore, clientCpuSeconds: (client.user + client.system) / 1e6, ioStallPercent, ...loops };
}

/**
 * The node and the echo measured in turns, `rounds` slices each, each slice
 * duration/rounds: this host's speed drifts by 10-25% within minutes, and
 * taking turns moves both sides of a ratio alike. Without an echo, one slice.
 */
export async function nodeAndEcho(settings: LoadSettings, node: Slice, echo: Slice | null): Promise<[Phase, Phase | null]> {
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

/** What the figures were measured on: a benchmark on a busy or small machine must say so. */
export function machineNow(): { cores: number; cpu: string; memoryGb: number; loadAverageAtStart: string[] } {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadavg().map((load) => load.toFixed(2)),
  };
}
