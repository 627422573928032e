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
import { mbdirEntry } from './entry.js';
import { userId } from './generate.js';
import { cpuSecondsOf, rssMebibytes } from './proc.js';

/** Streams per channel: under the node's grpcConcurrentStreamsMax. */
const streamsPerChannel = 500;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
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
  const node = spawn(process.execPath, [mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--synchronous', 'NORMAL', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('SIGTERM', () => {
    node.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(1);
  });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      node.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /serving gRPC on (\S+)/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      node.once('exit', (code) => reject(new Error(`node exited with ${String(code)}`)));
    });
    console.log(JSON.stringify({ endpoint, pid: node.pid }));
    const client = new MbdirClient({ endpoint, deadlineMs: 30_000 });
    await lookupLatency(client, users, 500); // warm the page cache
    const before = { rssMib: rssMebibytes(node.pid), lookup: await lookupLatency(client, users, 2000), writesPerSecond: await writeRate(client, 'a', 5000) };
    console.log(JSON.stringify({ phase: 'before', watchers: 0, ...before }));
    const stalled = attachStalled(endpoint, watchers);
    let peakRssMib = 0;
    const cpuBefore = cpuSecondsOf(node.pid);
    const sampler = setInterval(() => (peakRssMib = Math.max(peakRssMib, rssMebibytes(node.pid))), 250);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    console.log(JSON.stringify({ phase: 'settled', benchRssMib: Math.round(process.memoryUsage().rss / 1048576), settleMs, nodeCpuSeconds: Math.round((cpuSecondsOf(node.pid) - cpuBefore) * 10) / 10, rssMib: rssMebibytes(node.pid), endedSoFar: Object.fromEntries(stalled.statuses) }));
    const after = { rssMib: rssMebibytes(node.pid), lookup: await lookupLatency(client, users, 2000), writesPerSecond: await writeRate(client, 'b', 5000) };
    clearInterval(sampler);
    // Let the stalled streams read now: the ones the node cut off end with their status.
    for (const call of stalled.calls) call.resume();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    console.log(JSON.stringify({ phase: 'after', watchers, peakRssMib, ...after, endedWith: Object.fromEntries(stalled.statuses) }));
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
