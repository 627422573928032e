/**
 * `bench mixed`: does a point lookup wait behind heavy callers? Lookups
 * (GetMailbox calls, or one-name LookupStream messages) go out at a fixed
 * rate (open loop: each one's latency counts from the instant it was due, so
 * a stalled node or load generator cannot hide it), first on a quiet node,
 * then while heavy callers run beside them: closed loops of large LISTs (a
 * user in enough groups to see about --list-mailboxes mailboxes), snapshot
 * Watches of the whole directory read slowly or not at all, and a full
 * ScanMailboxes. Quiet and mixed phases take
 * turns (`--rounds`), so a drifting host moves both alike; each phase reports
 * the node's and the load generator's event-loop delay. Every stream and call
 * it opens is closed at the end of its phase; every loop is bounded in time.
 * The heavy callers run in a process of their own (heavy-callers.ts), so the
 * loop that times the lookups is not the one decoding a scan; at
 * --heavy-callers-nice it yields the cores to the node and the lookups, as
 * other machines would. Each phase also reports how long the node's main
 * thread ran and waited for a core (/proc schedstat): on a shared host, the
 * wait is what the others took.
 */
import { spawn } from 'node:child_process';
import { mbdirEntry } from './entry.js';
import { scrapeGcTotals, type GcTotals, type LoopDelay } from './event-loop.js';
import type { DirectoryShape } from './generate.js';
import { childStartMs, clientOf, connect, withCpu, type Child, type Target } from './harness.js';
import { calibrateHeavyList, emptyMeasured, tallyFromJson, type HeavySpec, type HeavyTally } from './heavy-callers.js';
import { LeanLookups, requestFrame } from './lean-lookups.js';
import { RequestPicker, type Measured } from './load.js';
import { cpuSecondsOf, mainThreadScheduleOf, rssMebibytes } from './proc.js';
import { mergePhases, pairCell, type Phase } from './report.js';
import { startNode, type NodeOptions } from './run.js';
import { assertNormallyScheduled, raiseTimerPriority } from './timer-priority.js';

/** The ways `bench mixed` sends its point lookups. */
export const mixedLookupMethods = ['GetMailbox', 'LookupStream'] as const;
export type MixedLookupMethod = (typeof mixedLookupMethods)[number];

/** Lookups waiting for an answer at once at most; past it a due lookup is counted as an error, not sent. */
export const mixedLookupsInFlightMax = 10_000;
/** How the heavy callers' process is scheduled (MixedSettings.heavyCallersIdle, heavyCallersNice). */
interface HeavyCallersPriority {
  idle: boolean;
  nice: number;
}

/** Unmeasured pause after a mixed slice, before the next quiet one. */
const phaseSettleMs = 500;
/** How often the open loop looks for due lookups. */
const lookupTickMs = 1;

export interface MixedSettings {
  /** Measured time of each phase (quiet, mixed), split into `rounds` turns. */
  durationMs: number;
  rounds: number;
  warmupMs: number;
  lookupsPerSecond: number;
  /** How a lookup is sent: a unary GetMailbox call (an HTTP/2 stream each), or a one-name message on a LookupStream (one stream a connection). */
  lookupMethod: MixedLookupMethod;
  connections: number;
  listCallers: number;
  /** Mailboxes a heavy LIST should see; it names groups until it does, or the node's bound on groups. */
  listMailboxes: number;
  watchers: number;
  /** Half the watchers read one message per this interval; the other half read none after the first. */
  watchReadIntervalMs: number;
  scan: boolean;
  /** Nice value of the heavy callers' process (0: as the node and the lookups), when it is not under SCHED_IDLE. */
  heavyCallersNice: number;
  /** Whether the heavy callers' process runs under SCHED_IDLE: a core only when no other thread wants it. */
  heavyCallersIdle: boolean;
  /** Whether the thread that sends and times the lookups asks for real-time priority (timer-priority.ts). */
  realtimeTimer: boolean;
  seed: number;
}

/** One row of the mixed report. */
export interface MixedRow {
  row: string;
  calls: number;
  callsPerSecond: number;
  namesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  firstError: string;
  /** Whether calls have a latency (a Watch stream has none; a scan's is a whole scan's). */
  timed: boolean;
  /** Event-loop delay over the phase (the worst round's), ms. */
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
  loadEventLoopP99Ms: number | null;
  loadEventLoopMaxMs: number | null;
  /** The node's CPU over the phase, percent of one core. */
  serverCpuPercent: number;
  /** The node's main thread over the phase: percent of the time it ran, and it waited for a core. */
  mainThreadRunPercent: number;
  mainThreadWaitPercent: number;
  /** The node's collections over the phase: young-generation (minor) and full (major) pauses, count and total ms; null without /metrics. */
  nodeGc: { minorCount: number; minorMs: number; majorCount: number; majorMs: number } | null;
}

export interface MixedReport {
  rows: MixedRow[];
  /** Mailboxes one heavy LIST returned, and the groups it named for that. */
  heavyList: { mailboxes: number; groups: number };
  /** Mixed lookup p99 over quiet lookup p99 in the same run. */
  p99Ratio: number;
  serverRssMb: number;
  nodeMailboxes: number;
  /** How the thread that sent and timed the lookups was scheduled: `SCHED_FIFO 15`, or normal and why. */
  timerScheduling: string;
}

function failed(measured: Measured, error: unknown): void {
  measured.errors += 1;
  if (measured.firstError === '') measured.firstError = (error as Error).message;
}

/** Distinct lookups encoded ahead of a phase at most; a longer phase sends them again in turn. */
const encodedLookupsMax = 50_000;

/** The requests of `durationMs` of lookups at `perSecond`, encoded before the phase: the loop that times them does nothing else per call. */
function lookupRequests(picker: RequestPicker, method: MixedLookupMethod, perSecond: number, durationMs: number): Buffer[] {
  const total = Math.max(1, Math.round((durationMs / 1000) * perSecond));
  return Array.from({ length: Math.min(total, encodedLookupsMax) }, () => requestFrame(method, { name: picker.name() }));
}

/** Lookups at `perSecond` for `durationMs`, each call timed from the instant it was due; `frames` are sent in turn. */
function openLoopLookups(lookups: LeanLookups, frames: readonly Buffer[], perSecond: number, durationMs: number): Promise<Measured> {
  const measured = emptyMeasured();
  const intervalMs = 1000 / perSecond;
  const total = Math.max(1, Math.round((durationMs / 1000) * perSecond));
  const startedMs = performance.now();
  let sent = 0;
  let inFlight = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (sent < total || inFlight > 0) return;
      measured.seconds = (performance.now() - startedMs) / 1000;
      resolve(measured);
    };
    // Call n was due at startedMs + n * intervalMs: its tag is n, so nothing per call is kept.
    lookups.onAnswer((tag, error) => {
      if (error === null) {
        measured.operations += 1;
        measured.names += 1;
        measured.latency.add(performance.now() - (startedMs + tag * intervalMs));
      } else {
        failed(measured, new Error(error));
      }
      inFlight -= 1;
      finish();
    });
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - startedMs) / intervalMs) + 1);
      for (; sent < due; sent += 1) {
        if (inFlight >= mixedLookupsInFlightMax) {
          failed(measured, new Error(`over ${mixedLookupsInFlightMax} lookups in flight`));
          continue;
        }
        inFlight += 1;
        lookups.add(sent, frames[sent % frames.length] as Buffer);
      }
      lookups.send();
      if (sent >= total) {
        clearInterval(timer);
        finish();
      }
    }, lookupTickMs);
  });
}

/** Starts `bench heavy-callers` for one mixed slice; resolves once it is connected, with its tally to come. */
function startHeavyCallers(endpoint: string, shape: DirectoryShape, spec: HeavySpec, priority: HeavyCallersPriority): Promise<{ tally: Promise<HeavyTally> }> {
  const command = [process.execPath, mbdirEntry, 'bench', 'heavy-callers', '--endpoint', endpoint, '--shape', JSON.stringify(shape), '--spec', JSON.stringify(spec)];
  // chrt(1) and nice(1) set the priority before node starts, so every thread of the process has it.
  const [program, ...args] = priority.idle
    ? ['chrt', '--idle', '0', ...command]
    : priority.nice > 0 ? ['nice', '-n', String(priority.nice), ...command] : command;
  const child = spawn(program as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const tally = new Promise<HeavyTally>((resolve, reject) => {
    child.once('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(tallyFromJson(last));
      else reject(new Error(`bench heavy-callers exited with ${String(code)}: ${stderr}`));
    });
  });
  tally.catch(() => undefined); // awaited by the slice; a failure before ready is reported there
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`bench heavy-callers was not connected in ${childStartMs / 1000} s: ${stderr}`));
    }, childStartMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      const before = stdout;
      stdout += chunk.toString();
      if (!before.startsWith('ready\n') && stdout.startsWith('ready\n')) {
        clearTimeout(timer);
        try {
          assertNormallyScheduled(child.pid, 'the heavy callers');
        } catch (error) {
          child.kill('SIGTERM');
          reject(error as Error);
          return;
        }
        resolve({ tally });
      }
    });
    tally.catch((error: unknown) => {
      clearTimeout(timer);
      reject(error as Error);
    });
  });
}

interface PhaseFigures {
  lookups: Phase;
  heavy: HeavyTally | null;
  serverCpuSeconds: number;
  mainThread: MainThreadSeconds;
  /** The node's collections over the slice (null: no /metrics). */
  gc: GcTotals | null;
}

const gcDelta = (after: GcTotals | null, before: GcTotals | null): GcTotals | null =>
  after === null || before === null
    ? null
    : { minorCount: after.minorCount - before.minorCount, minorSeconds: after.minorSeconds - before.minorSeconds, majorCount: after.majorCount - before.majorCount, majorSeconds: after.majorSeconds - before.majorSeconds };

const gcSum = (first: GcTotals | null, second: GcTotals | null): GcTotals | null =>
  first === null ? second : second === null ? first : { minorCount: first.minorCount + second.minorCount, minorSeconds: first.minorSeconds + second.minorSeconds, majorCount: first.majorCount + second.majorCount, majorSeconds: first.majorSeconds + second.majorSeconds };

/** What the node's main thread did over a phase: ran, or waited for a core (mainThreadScheduleOf). */
interface MainThreadSeconds {
  runSeconds: number;
  waitSeconds: number;
}

/** One quiet or mixed slice: the lookups, and in a mixed one the heavy callers beside them for the same time. */
async function runSlice(node: Target, sender: LeanLookups, picker: RequestPicker, shape: DirectoryShape, settings: MixedSettings, groups: number, mixed: boolean, sliceMs: number): Promise<PhaseFigures> {
  const spec: HeavySpec = {
    durationMs: sliceMs,
    listCallers: settings.listCallers,
    listGroups: groups,
    watchers: settings.watchers,
    watchReadIntervalMs: settings.watchReadIntervalMs,
    scan: settings.scan,
  };
  const frames = lookupRequests(picker, settings.lookupMethod, settings.lookupsPerSecond, sliceMs);
  const callers = mixed ? await startHeavyCallers(node.endpoint, shape, spec, { idle: settings.heavyCallersIdle, nice: settings.heavyCallersNice }) : null;
  const cpuBefore = cpuSecondsOf(node.pid);
  const mainBefore = mainThreadScheduleOf(node.pid);
  const gcBefore = node.metrics === undefined ? null : await scrapeGcTotals(node.metrics);
  const lookups = await withCpu(node, () => openLoopLookups(sender, frames, settings.lookupsPerSecond, sliceMs));
  const mainAfter = mainThreadScheduleOf(node.pid);
  const gc = gcDelta(node.metrics === undefined ? null : await scrapeGcTotals(node.metrics), gcBefore);
  const heavy = callers === null ? null : await callers.tally;
  // What the heavy callers leave behind (streams closed, their process gone, collections) is not the next quiet slice's.
  if (mixed) await new Promise((resolve) => setTimeout(resolve, phaseSettleMs));
  const mainThread = { runSeconds: mainAfter.runSeconds - mainBefore.runSeconds, waitSeconds: mainAfter.waitSeconds - mainBefore.waitSeconds };
  return { lookups, heavy, serverCpuSeconds: cpuSecondsOf(node.pid) - cpuBefore, mainThread, gc };
}

function mergeMeasured(first: Measured, second: Measured): Measured {
  return mergePhases(asPhase(first, null), asPhase(second, null)).measured;
}

function asPhase(measured: Measured, loops: Pick<Phase, 'nodeLoop' | 'loadLoop'> | null): Phase {
  return { measured, serverCpuSeconds: 0, clientCpuSeconds: 0, ioStallPercent: null, nodeLoop: loops?.nodeLoop ?? null, loadLoop: loops?.loadLoop ?? null };
}

function rowOf(row: string, measured: Measured, loops: { nodeLoop: LoopDelay | null; loadLoop: LoopDelay | null }, server: Pick<Tally, 'serverCpuSeconds' | 'mainThread' | 'wallSeconds' | 'gc'>, seconds: number): MixedRow {
  const [p50 = 0, p99 = 0, max = 0] = measured.latency.quantiles([0.5, 0.99, 1]);
  const wall = Math.max(seconds, 1e-6);
  const round = (value: number): number => Number(value.toFixed(3));
  return {
    row,
    calls: measured.operations,
    callsPerSecond: Math.round(measured.operations / wall),
    namesPerSecond: Math.round(measured.names / wall),
    p50Ms: round(p50),
    p99Ms: round(p99),
    maxMs: round(max),
    errors: measured.errors,
    firstError: measured.firstError,
    timed: measured.latency.count > 0,
    eventLoopP99Ms: loops.nodeLoop === null ? null : round(loops.nodeLoop.p99Ms),
    eventLoopMaxMs: loops.nodeLoop === null ? null : round(loops.nodeLoop.maxMs),
    loadEventLoopP99Ms: loops.loadLoop === null ? null : round(loops.loadLoop.p99Ms),
    loadEventLoopMaxMs: loops.loadLoop === null ? null : round(loops.loadLoop.maxMs),
    serverCpuPercent: Math.round((100 * server.serverCpuSeconds) / wall),
    mainThreadRunPercent: Math.round((100 * server.mainThread.runSeconds) / Math.max(server.wallSeconds, 1e-6)),
    mainThreadWaitPercent: Math.round((100 * server.mainThread.waitSeconds) / Math.max(server.wallSeconds, 1e-6)),
    nodeGc: server.gc === null
      ? null
      : { minorCount: server.gc.minorCount, minorMs: round(server.gc.minorSeconds * 1000), majorCount: server.gc.majorCount, majorMs: round(server.gc.majorSeconds * 1000) },
  };
}

interface Tally {
  lookups: Phase | null;
  lists: Measured;
  scans: Measured;
  watches: Measured;
  serverCpuSeconds: number;
  mainThread: MainThreadSeconds;
  /** Wall time of the phase's slices (each lasts until its last lookup is answered), over which mainThread is counted. */
  wallSeconds: number;
  gc: GcTotals | null;
}

function tally(into: Tally, figures: PhaseFigures): void {
  into.lookups = into.lookups === null ? figures.lookups : mergePhases(into.lookups, figures.lookups);
  into.serverCpuSeconds += figures.serverCpuSeconds;
  into.mainThread.runSeconds += figures.mainThread.runSeconds;
  into.mainThread.waitSeconds += figures.mainThread.waitSeconds;
  into.wallSeconds += figures.lookups.measured.seconds;
  into.gc = gcSum(into.gc, figures.gc);
  if (figures.heavy === null) return;
  into.lists = mergeMeasured(into.lists, figures.heavy.lists);
  into.scans = mergeMeasured(into.scans, figures.heavy.scans);
  into.watches = mergeMeasured(into.watches, figures.heavy.watches);
}

const newTally = (): Tally => ({ lookups: null, lists: emptyMeasured(), scans: emptyMeasured(), watches: emptyMeasured(), serverCpuSeconds: 0, mainThread: { runSeconds: 0, waitSeconds: 0 }, wallSeconds: 0, gc: null });

/** The quiet and mixed phases in turns against a node it starts on --data-dir (or the one at --endpoint). */
export async function runMixed(options: NodeOptions, shape: DirectoryShape, settings: MixedSettings): Promise<MixedReport> {
  const children: Child[] = [];
  let node: Target | null = null;
  let lookups: LeanLookups | null = null;
  const timerScheduling = raiseTimerPriority(settings.realtimeTimer);
  try {
    const started = await startNode(options, new Set(), children);
    node = { endpoint: started.endpoint, clients: connect(started.endpoint, settings.connections), pid: started.pid, metrics: started.http };
    const nodeMailboxes = Number((await clientOf(node, 0).status())['mailboxes'] ?? 0);
    const heavyList = await calibrateHeavyList(clientOf(node, 0), shape, settings.listMailboxes);
    lookups = new LeanLookups(started.endpoint, settings.connections, settings.lookupMethod);
    const picker = new RequestPicker(shape, settings.seed);
    if (settings.warmupMs > 0) {
      const warmupPicker = new RequestPicker(shape, settings.seed + 2);
      await openLoopLookups(lookups, lookupRequests(warmupPicker, settings.lookupMethod, settings.lookupsPerSecond, settings.warmupMs), settings.lookupsPerSecond, settings.warmupMs);
    }
    const quiet = newTally();
    const mixed = newTally();
    const sliceMs = settings.durationMs / settings.rounds;
    for (let round = 0; round < settings.rounds; round += 1) {
      tally(quiet, await runSlice(node, lookups, picker, shape, settings, heavyList.groups, false, sliceMs));
      tally(mixed, await runSlice(node, lookups, picker, shape, settings, heavyList.groups, true, sliceMs));
    }
    return { ...reportOf(quiet, mixed, heavyList, settings, rssMebibytes(started.pid), nodeMailboxes), timerScheduling };
  } finally {
    lookups?.close();
    for (const client of node?.clients ?? []) client.close();
    for (const child of children.reverse()) await child.stop();
  }
}

function reportOf(quiet: Tally, mixed: Tally, heavyList: MixedReport['heavyList'], settings: MixedSettings, serverRssMb: number, nodeMailboxes: number): Omit<MixedReport, 'timerScheduling'> {
  if (quiet.lookups === null || mixed.lookups === null) throw new Error('bench mixed: no rounds measured');
  const seconds = settings.durationMs / 1000;
  const mixedLoops = { nodeLoop: mixed.lookups.nodeLoop, loadLoop: mixed.lookups.loadLoop };
  const rate = settings.lookupsPerSecond;
  const rows = [
    rowOf(`${settings.lookupMethod} ${rate}/s, quiet`, quiet.lookups.measured, quiet.lookups, quiet, seconds),
    rowOf(`${settings.lookupMethod} ${rate}/s, mixed`, mixed.lookups.measured, mixedLoops, mixed, seconds),
    rowOf(`ListMailboxes x${heavyList.mailboxes} @${settings.listCallers}, mixed`, mixed.lists, mixedLoops, mixed, seconds),
    rowOf(`Watch snapshot x${settings.watchers}, mixed`, mixed.watches, mixedLoops, mixed, seconds),
  ];
  if (settings.scan) rows.push(rowOf('ScanMailboxes (all), mixed', mixed.scans, mixedLoops, mixed, seconds));
  const quietP99 = rows[0]?.p99Ms ?? 0;
  const mixedP99 = rows[1]?.p99Ms ?? 0;
  return { rows, heavyList, p99Ratio: quietP99 === 0 ? 0 : Number((mixedP99 / quietP99).toFixed(2)), serverRssMb, nodeMailboxes };
}

/** The mixed report as a table, then the ratio the targets are about. */
export function printMixedTable(report: MixedReport): void {
  const header = ['phase: caller', 'calls', 'calls/s', 'names/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'loop p99/max', 'load loop p99/max', 'node cpu %', 'main thread ran/waited %', 'node GC minor/major: n, ms'];
  const rows = report.rows.map((row) => [
    row.row,
    String(row.calls),
    String(row.callsPerSecond),
    String(row.namesPerSecond),
    ...(row.timed ? [row.p50Ms.toFixed(2), row.p99Ms.toFixed(2), row.maxMs.toFixed(2)] : ['', '', '']),
    String(row.errors),
    pairCell(row.eventLoopP99Ms, row.eventLoopMaxMs),
    pairCell(row.loadEventLoopP99Ms, row.loadEventLoopMaxMs),
    String(row.serverCpuPercent),
    `${row.mainThreadRunPercent}/${row.mainThreadWaitPercent}`,
    row.nodeGc === null ? '' : `${row.nodeGc.minorCount}, ${row.nodeGc.minorMs.toFixed(0)} / ${row.nodeGc.majorCount}, ${row.nodeGc.majorMs.toFixed(0)}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => (cells[column] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n${line(widths.map((width) => '-'.repeat(width)))}\n`);
  for (const cells of rows) process.stdout.write(`${line(cells)}\n`);
  process.stdout.write(
    `lookup p99 mixed/quiet: ${report.p99Ratio.toFixed(2)}; lookups are timed from the instant each was due (open loop); ` +
      `a heavy LIST named ${report.heavyList.groups} groups and saw ${report.heavyList.mailboxes} mailboxes; ` +
      "Watch: calls = streams, names = messages read (half read slowly, half not at all); loop p99/max: the node's event-loop delay (ms, /metrics), " +
      `load loop: the load generator's, each the worst round's; main thread ran/waited: ` +
      "percent of the phase the node's main thread ran on a core, and waited in the run queue for one (/proc schedstat); " +
      'node GC: its collections over the phase (/metrics), young-generation and full, how many and their pauses in total; ' +
      `node RSS at the end ${report.serverRssMb} MB; the lookups' timing thread: ${report.timerScheduling}\n`,
  );
  for (const row of report.rows) if (row.firstError !== '') process.stdout.write(`${row.row}: first error: ${row.firstError}\n`);
}
