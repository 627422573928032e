/**
 * The bench's figures per operation and how they print: a fixed-width table
 * for people, the same objects as JSON for machines, and a progress bar on
 * stderr when it is a terminal. Formatting only: it measures nothing.
 */
import cliProgress from 'cli-progress';
import { worseLoopDelay, type LoopDelay } from './event-loop.js';
import type { Measured } from './load.js';
import { LatencyRecorder } from './stats.js';

/** A progress bar on stderr when it is a terminal (null otherwise: logs stay clean). */
export function progress(label: string, total: number): cliProgress.SingleBar | null {
  if (process.stderr.isTTY !== true) return null;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta}s`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

/** One measured run, with the CPU its server (the node or the echo) and the load generator spent. */
export interface Phase {
  measured: Measured;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  /** Share of the phase's wall time during which some task waited on I/O (PSI); null where the kernel does not say. */
  ioStallPercent: number | null;
  /** The node's event-loop delay over the phase (null: no /metrics to read, or the floor's phase). */
  nodeLoop: LoopDelay | null;
  /** The load generator's own event-loop delay over the phase. */
  loadLoop: LoopDelay | null;
}

export interface OperationResult {
  operation: string;
  operations: number;
  errors: number;
  firstError: string;
  seconds: number;
  opsPerSecond: number;
  namesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  echoOpsPerSecond: number | null;
  /** The echo's own latency for the same call: the part of p50/p99 that is the transport's and the load generator's. */
  echoP50Ms: number | null;
  echoP99Ms: number | null;
  /** ops/s divided by the echo's ops/s in the same run (none for Watch, whose rate is the writer's pace). */
  ratioToEcho: number | null;
  /** The echo's failed calls, and its first error: a floor measured with failures is said to be so. */
  echoErrors: number | null;
  echoFirstError: string;
  serverRssMb: number;
  /** Server CPU (user + system) per operation, microseconds: what one call costs the node. */
  serverCpuUsPerOp: number;
  /** The same for the echo server: the transport's own cost per call. */
  echoCpuUsPerOp: number | null;
  /** CPU of this load generator per operation (it shares the machine with the server). */
  clientCpuUsPerOp: number;
  /** Share of the node's run during which some task of the machine waited on the disk (null: not reported by the kernel). */
  ioStallPercent: number | null;
  /** The node's event-loop delay while measured (the worst round's), ms; null where it has no /metrics to read. */
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
  /** The load generator's own event-loop delay while measuring the node (the worst round's), ms. */
  loadEventLoopP99Ms: number | null;
  loadEventLoopMaxMs: number | null;
  /** Watch only: deliveries expected (writes x subscribers), and the echo's delivered and expected. */
  expected?: number;
  echoDelivered?: number;
  echoExpected?: number;
}

/**
 * Two phases of one operation against one target, as one: counts, seconds and
 * CPU added, latencies pooled, the I/O stall share weighted by seconds.
 */
export function mergePhases(first: Phase, second: Phase): Phase {
  const a = first.measured;
  const b = second.measured;
  const latency = new LatencyRecorder();
  latency.merge(a.latency);
  latency.merge(b.latency);
  const seconds = a.seconds + b.seconds;
  const stall = first.ioStallPercent === null || second.ioStallPercent === null
    ? null
    : (first.ioStallPercent * a.seconds + second.ioStallPercent * b.seconds) / Math.max(seconds, 1e-9);
  return {
    measured: {
      operations: a.operations + b.operations,
      names: a.names + b.names,
      errors: a.errors + b.errors,
      firstError: a.firstError === '' ? b.firstError : a.firstError,
      seconds,
      latency,
    },
    serverCpuSeconds: first.serverCpuSeconds + second.serverCpuSeconds,
    clientCpuSeconds: first.clientCpuSeconds + second.clientCpuSeconds,
    ioStallPercent: stall,
    nodeLoop: worseLoopDelay(first.nodeLoop, second.nodeLoop),
    loadLoop: worseLoopDelay(first.loadLoop, second.loadLoop),
  };
}

/** From this share of a run spent waiting on the disk, the report says the figures are partly the disk's. */
const ioStallNoticePercent = 5;

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

const perOperationUs = (cpuSeconds: number, operations: number): number => (operations === 0 ? 0 : Math.round((cpuSeconds * 1e6) / operations));

export function resultOf(operation: string, phase: Phase, echoPhase: Phase | null, serverRssMb: number, countsNames: boolean): OperationResult {
  const measured = phase.measured;
  const echo = echoPhase?.measured ?? null;
  const [p50 = 0, p99 = 0, p999 = 0] = measured.latency.quantiles([0.5, 0.99, 0.999]);
  const seconds = Math.max(measured.seconds, 1e-6);
  const opsPerSecond = measured.operations / seconds;
  const echoOpsPerSecond = echo === null ? null : echo.operations / Math.max(echo.seconds, 1e-6);
  const [echoP50, echoP99] = echo === null ? [null, null] : echo.latency.quantiles([0.5, 0.99]);
  const isWatch = operation.startsWith('Watch');
  return {
    operation,
    operations: measured.operations,
    errors: measured.errors,
    firstError: measured.firstError,
    seconds: round(seconds, 2),
    opsPerSecond: Math.round(opsPerSecond),
    namesPerSecond: countsNames ? Math.round(measured.names / seconds) : 0,
    p50Ms: round(p50, 3),
    p99Ms: round(p99, 3),
    p999Ms: round(p999, 3),
    echoOpsPerSecond: echoOpsPerSecond === null ? null : Math.round(echoOpsPerSecond),
    echoP50Ms: echoP50 === null || echoP50 === undefined ? null : round(echoP50, 3),
    echoP99Ms: echoP99 === null || echoP99 === undefined ? null : round(echoP99, 3),
    ratioToEcho: echoOpsPerSecond === null || echoOpsPerSecond === 0 || isWatch ? null : round(opsPerSecond / echoOpsPerSecond, 2),
    echoErrors: echo === null ? null : echo.errors,
    echoFirstError: echo?.firstError ?? '',
    serverRssMb,
    serverCpuUsPerOp: perOperationUs(phase.serverCpuSeconds, measured.operations),
    echoCpuUsPerOp: echoPhase === null || echo === null ? null : perOperationUs(echoPhase.serverCpuSeconds, echo.operations),
    clientCpuUsPerOp: perOperationUs(phase.clientCpuSeconds, measured.operations),
    ioStallPercent: phase.ioStallPercent === null ? null : round(phase.ioStallPercent, 1),
    eventLoopP99Ms: phase.nodeLoop === null ? null : round(phase.nodeLoop.p99Ms, 2),
    eventLoopMaxMs: phase.nodeLoop === null ? null : round(phase.nodeLoop.maxMs, 2),
    loadEventLoopP99Ms: phase.loadLoop === null ? null : round(phase.loadLoop.p99Ms, 2),
    loadEventLoopMaxMs: phase.loadLoop === null ? null : round(phase.loadLoop.maxMs, 2),
    ...(isWatch ? { expected: measured.names } : {}),
    ...(isWatch && echo !== null ? { echoDelivered: echo.operations, echoExpected: echo.names } : {}),
  };
}

/** The errors column: the node's, the echo's when it failed any, and Watch's deliveries on each side. */
function errorsCell(result: OperationResult): string {
  const echo = result.echoErrors === null || result.echoErrors === 0 ? '' : `, echo ${result.echoErrors}`;
  if (result.expected === undefined) return `${result.errors}${echo === '' ? '' : ` (${echo.slice(2)})`}`;
  const echoDelivered = result.echoExpected === undefined ? '' : `; echo ${result.echoDelivered ?? 0}/${result.echoExpected}`;
  return `${result.errors}${echo} (${result.operations}/${result.expected} delivered${echoDelivered})`;
}

/** `a/b` with two decimals, or empty when either is unknown. */
export function pairCell(first: number | null, second: number | null): string {
  return first === null || second === null ? '' : `${first.toFixed(2)}/${second.toFixed(2)}`;
}

export function printTable(results: readonly OperationResult[], serverRssMb: number): void {
  const header = ['operation', 'ops/s', 'names/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'echo ops/s', 'x echo', 'echo p50/p99', 'cpu us/op', 'echo us/op', 'load us/op', 'io stall %', 'loop p99/max', 'load loop p99/max', 'RSS MB', 'errors'];
  const rows = results.map((result) => [
    result.operation,
    String(result.opsPerSecond),
    result.namesPerSecond === 0 ? '' : String(result.namesPerSecond),
    result.p50Ms.toFixed(2),
    result.p99Ms.toFixed(2),
    result.p999Ms.toFixed(2),
    result.echoOpsPerSecond === null ? '' : String(result.echoOpsPerSecond),
    result.ratioToEcho === null ? '' : result.ratioToEcho.toFixed(2),
    result.echoP50Ms === null || result.echoP99Ms === null ? '' : `${result.echoP50Ms.toFixed(2)}/${result.echoP99Ms.toFixed(2)}`,
    String(result.serverCpuUsPerOp),
    result.echoCpuUsPerOp === null ? '' : String(result.echoCpuUsPerOp),
    String(result.clientCpuUsPerOp),
    result.ioStallPercent === null ? '' : result.ioStallPercent.toFixed(1),
    pairCell(result.eventLoopP99Ms, result.eventLoopMaxMs),
    pairCell(result.loadEventLoopP99Ms, result.loadEventLoopMaxMs),
    String(result.serverRssMb),
    errorsCell(result),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n${line(widths.map((width) => '-'.repeat(width)))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  process.stdout.write(
    `server RSS at the end: ${serverRssMb} MB; cpu us/op: the node's CPU per operation (echo us/op: the bare echo's), load us/op: the load generator's ` +
      "(Watch: the node's and the subscriber processes' CPU per delivery, while measuring); io stall %: the share of the node's run during which some task of the machine waited on the disk; " +
      "loop p99/max: the node's event-loop delay (ms, from its /metrics), load loop: the load generator's own, each the worst round's\n",
  );
  for (const result of results) {
    if (result.firstError !== '') process.stdout.write(`${result.operation}: first error: ${result.firstError}\n`);
    if (result.echoFirstError !== '') process.stdout.write(`${result.operation}: the echo's first error: ${result.echoFirstError}\n`);
    if (result.ioStallPercent !== null && result.ioStallPercent >= ioStallNoticePercent) {
      process.stdout.write(
        `${result.operation}: something on the machine (the node's own fsyncs included) waited on the disk ${result.ioStallPercent.toFixed(1)}% of the run: ` +
          "these figures are partly the disk's\n",
      );
    }
  }
}
