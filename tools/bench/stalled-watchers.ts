/**
 * Measures a node while N Watch subscribers that start from a snapshot never
 * read (issue W0 item 5): the node's resident memory, GetMailbox latency and
 * CreateMailbox throughput, before and after they attach, and how many were
 * cut off. Starts its own node on a copy of `--data-dir` (made by `mbdir bench
 * generate`) and stops it. Each stalled subscriber is a real grpc-js stream
 * paused at once, so HTTP/2 flow control stops the node's sends, as a proxy
 * that hangs would. Run after `npm run build`:
 *   node dist/tools/bench/stalled-watchers.js --data-dir DIR [--watchers 2000] [--settle-ms 20000]
 */
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MbdirClient } from '../../src/client/client.js';
import type { WatchEvent__Output } from '../../src/client/messages.js';
import { serveNodeFlags } from '../node-flags.js';
import { mbdirEntry } from './entry.js';
import { userId } from './generate.js';
import { cpuSecondsOf, rssMebibytes } from './proc.js';
import { readFileSync } from 'node:fs';

/** Streams per channel: under the node's grpcConcurrentStreamsMax. */
const streamsPerChannel = 500;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

/** What the node's memory is made of at one moment, in MiB: /proc's anonymous and file-backed parts, and the main thread's V8 heap and external memory (its /metrics). */
interface MemoryBreakdown {
  rssMib: number;
  anonMib: number;
  fileMib: number;
  heapUsedMib: number;
  heapTotalMib: number;
  externalMib: number;
}

const mebibytes = (bytes: number): number => Math.round(bytes / 1048576);

function procKibibytes(status: string, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
}

function metricBytes(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
}

/** The node's memory now; the heap figures are 0 when /metrics does not answer in time. */
async function memoryBreakdown(pid: number | undefined, metricsUrl: string): Promise<MemoryBreakdown> {
  const status = pid === undefined ? '' : readFileSync(`/proc/${pid}/status`, 'utf8');
  const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) }).then((response) => response.text()).catch(() => '');
  return {
    rssMib: Math.round(procKibibytes(status, 'VmRSS') / 1024),
    anonMib: Math.round(procKibibytes(status, 'RssAnon') / 1024),
    fileMib: Math.round(procKibibytes(status, 'RssFile') / 1024),
    heapUsedMib: mebibytes(metricBytes(text, 'nodejs_heap_size_used_bytes')),
    heapTotalMib: mebibytes(metricBytes(text, 'nodejs_heap_size_total_bytes')),
    externalMib: mebibytes(metricBytes(text, 'nodejs_external_memory_bytes')),
  };
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

/** GetMailbox latency over `calls` calls, 8 at a time, on random users' inboxes. */
async function lookupLatency(client: MbdirClient, users: number, calls: number): Promise<{ p50: number; p99: number; max: number }> {
  const samples: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next += 1;
      const name = `user.${userId(Math.floor(Math.random() * users))}`;
      const start = performance.now();
      await client.getMailbox({ name }).catch(() => undefined);
      samples.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: 8 }, () => worker()));
  samples.sort((left, right) => left - right);
  const round = (value: number): number => Math.round(value * 10) / 10;
  return { p50: round(percentile(samples, 0.5)), p99: round(percentile(samples, 0.99)), max: round(samples.at(-1) ?? 0) };
}

/** CreateMailbox calls per second over `ms`, 16 callers. */
async function writeRate(client: MbdirClient, tag: string, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let done = 0;
  let sequence = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      const name = `user.stalled${tag}x${(sequence += 1)}`;
      await client.createMailbox({ mailbox: { name, server: 'backend1', partition: 'default' } }).catch(() => undefined);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: 16 }, () => worker()));
  return Math.round(done / (ms / 1000));
}

interface Stalled {
  calls: grpc.ClientReadableStream<WatchEvent__Output>[];
  channels: MbdirClient[];
  statuses: Map<string, number>;
}

/** Opens `count` Watch streams from 0 and pauses each at once: they never read. */
function attachStalled(endpoint: string, count: number): Stalled {
  const stalled: Stalled = { calls: [], channels: [], statuses: new Map() };
  for (let index = 0; index < count; index += 1) {
    if (index % streamsPerChannel === 0) {
      // A distinct option per channel: grpc-js would otherwise share one connection.
      stalled.channels.push(new MbdirClient({ endpoint, channelOptions: { 'mbdir.bench.channel': index } }));
    }
    const channel = stalled.channels.at(-1) as MbdirClient;
    // The raw typed call, not client.watch(): it must be paused before it reads anything.
    const call = channel.mailboxes.Watch({ from_revision: 0 }, channel.metadata());
    call.pause();
    call.on('error', (error: grpc.ServiceError) => {
      const name = grpc.status[error.code] ?? String(error.code);
      stalled.statuses.set(name, (stalled.statuses.get(name) ?? 0) + 1);
    });
    stalled.calls.push(call);
  }
  return stalled;
}

async function main(): Promise<void> {
  const source = argument('data-dir', '');
  if (source === '') throw new Error('give --data-dir of a directory made by mbdir bench generate');
  const watchers = Number(argument('watchers', '2000'));
  const settleMs = Number(argument('settle-ms', '20000'));
  const users = Number(argument('users', '5000'));
  const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-stalled-'));
  copyFileSync(join(source, 'mbdir.sqlite'), join(dataDir, 'mbdir.sqlite'));
  const node = spawn(process.execPath, [...serveNodeFlags, mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--data-dir', dataDir, '--synchronous', 'NORMAL', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('SIGTERM', () => {
    node.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(1);
  });
  try {
    const [endpoint, httpEndpoint] = await new Promise<[string, string]>((resolve, reject) => {
      let stdout = '';
      node.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const grpcMatch = /serving gRPC on (\S+)/.exec(stdout);
        const httpMatch = /serving HTTP on (\S+)/.exec(stdout);
        if (grpcMatch?.[1] !== undefined && httpMatch?.[1] !== undefined) resolve([grpcMatch[1], httpMatch[1]]);
      });
      node.once('exit', (code) => reject(new Error(`node exited with ${String(code)}`)));
    });
    console.log(JSON.stringify({ endpoint, pid: node.pid }));
    const client = new MbdirClient({ endpoint, deadlineMs: 30_000 });
    await lookupLatency(client, users, 500); // warm the page cache
    const before = { rssMib: rssMebibytes(node.pid), lookup: await lookupLatency(client, users, 2000), writesPerSecond: await writeRate(client, 'a', 5000) };
    console.log(JSON.stringify({ phase: 'before', watchers: 0, ...before, memory: await memoryBreakdown(node.pid, `http://${httpEndpoint}/metrics`) }));
    const stalled = attachStalled(endpoint, watchers);
    let peakRssMib = 0;
    const cpuBefore = cpuSecondsOf(node.pid);
    const sampler = setInterval(() => (peakRssMib = Math.max(peakRssMib, rssMebibytes(node.pid))), 250);
    // Once a second, what the node's memory is made of; the sample at the highest RSS is reported.
    const metricsUrl = `http://${httpEndpoint}/metrics`;
    let peakBreakdown: MemoryBreakdown | null = null;
    const breakdownSampler = setInterval(() => {
      void memoryBreakdown(node.pid, metricsUrl).then((sample) => {
        if (peakBreakdown === null || sample.rssMib > peakBreakdown.rssMib) peakBreakdown = sample;
      });
    }, 1000);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    console.log(JSON.stringify({ phase: 'settled', benchRssMib: Math.round(process.memoryUsage().rss / 1048576), settleMs, nodeCpuSeconds: Math.round((cpuSecondsOf(node.pid) - cpuBefore) * 10) / 10, memory: await memoryBreakdown(node.pid, metricsUrl), endedSoFar: Object.fromEntries(stalled.statuses) }));
    const after = { rssMib: rssMebibytes(node.pid), lookup: await lookupLatency(client, users, 2000), writesPerSecond: await writeRate(client, 'b', 5000) };
    clearInterval(sampler);
    clearInterval(breakdownSampler);
    // Let the stalled streams read now: the ones the node cut off end with their status.
    for (const call of stalled.calls) call.resume();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    console.log(JSON.stringify({ phase: 'after', watchers, peakRssMib, peakBreakdown, ...after, endedWith: Object.fromEntries(stalled.statuses) }));
    for (const call of stalled.calls) call.cancel();
    for (const channel of stalled.channels) channel.close();
    client.close();
  } finally {
    node.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
