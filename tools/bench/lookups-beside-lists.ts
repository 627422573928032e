/**
 * Measures whether a point lookup waits behind heavy reads: GetMailbox latency
 * alone, then beside `--lists` callers each running ListMailboxes in a loop, on
 * a node started with each `--read-threads` value in turn (interleaved rounds,
 * so the machine's noise falls on every setting alike). Every LIST sees about
 * `--shared` mailboxes: folders shared with `anyone`, created on the first run
 * (the data directory is written to: give a copy). Starts and stops its nodes.
 * Run after `npm run build`:
 *   node dist/tools/bench/lookups-beside-lists.js --data-dir COPY [--users 100000] [--lists 8]
 *     [--seconds 6] [--rounds 2] [--threads 0,1] [--shared 3000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { MbdirClient } from '../../src/client/client.js';
import { mbdirEntry } from './entry.js';
import { userId } from './generate.js';
import { cpuSecondsOf, rssMebibytes } from './proc.js';
import { seededRandom, randomBelow } from './stats.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

interface Latency {
  calls: number;
  p50: number;
  p99: number;
  max: number;
}

function summary(samples: number[]): Latency {
  samples.sort((left, right) => left - right);
  return { calls: samples.length, p50: round1(percentile(samples, 0.5)), p99: round1(percentile(samples, 0.99)), max: round1(samples.at(-1) ?? 0) };
}

async function startNode(dataDir: string, threads: string): Promise<{ node: ChildProcess; endpoint: string }> {
  const node = spawn(
    process.execPath,
    [mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--synchronous', 'NORMAL', '--log-level', 'warn', '--read-threads', threads],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    node.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /serving gRPC on (\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    node.once('exit', (code) => reject(new Error(`node exited with ${String(code)}`)));
  });
  return { node, endpoint };
}

async function stopNode(node: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => node.once('exit', () => resolve()));
  node.kill('SIGTERM');
  await exited;
}

/** Creates the `anyone`-shared folders that make every LIST heavy (skips those that exist). */
async function ensureShared(client: MbdirClient, count: number): Promise<void> {
  const missing: string[] = [];
  for (let index = 0; index < count; index += 1) missing.push(`shared.heavy${index}`);
  const found = await client.lookupMailboxes({ names: missing.slice(0, 1000) });
  if (found.results.every((result) => result.found) && count <= 1000) return;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < missing.length) {
      const name = missing[next++] ?? '';
      await client
        .createMailbox({ mailbox: { name, server: 'backend1', partition: 'default', acl: [{ identifier: 'anyone', rights: 'lrs' }] } })
        .catch((error: Error) => {
          if (!/already|exists|ALREADY_EXISTS/i.test(error.message)) throw error;
        });
    }
  };
  await Promise.all(Array.from({ length: 16 }, () => worker()));
}

/** GetMailbox one at a time for `ms`, on random users' inboxes; with `lists` LIST loops beside it when > 0. */
async function measure(client: MbdirClient, users: number, ms: number, lists: number, seed: number): Promise<{ lookup: Latency; listsPerSecond: number; listMs: Latency }> {
  const random = seededRandom(seed);
  const until = performance.now() + ms;
  const lookups: number[] = [];
  const listTimes: number[] = [];
  const lister = async (): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      await client.listMailboxes({ user: userId(randomBelow(random, users)), pattern: '*' });
      listTimes.push(performance.now() - started);
    }
  };
  const looker = async (): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      await client.getMailbox({ name: `user.${userId(randomBelow(random, users))}` });
      lookups.push(performance.now() - started);
    }
  };
  await Promise.all([looker(), ...Array.from({ length: lists }, () => lister())]);
  return { lookup: summary(lookups), listsPerSecond: Math.round(listTimes.length / (ms / 1000)), listMs: summary(listTimes) };
}

async function main(): Promise<void> {
  const dataDir = argument('data-dir', '');
  if (dataDir === '') throw new Error('give --data-dir: a copy of a directory made by mbdir bench generate (it is written to)');
  const users = Number(argument('users', '100000'));
  const lists = Number(argument('lists', '8'));
  const ms = Number(argument('seconds', '6')) * 1000;
  const rounds = Number(argument('rounds', '2'));
  const shared = Number(argument('shared', '3000'));
  const settings = argument('threads', '0,1').split(',');
  for (let round = 0; round < rounds; round += 1) {
    for (const threads of settings) {
      const { node, endpoint } = await startNode(dataDir, threads);
      const client = new MbdirClient({ endpoint, deadlineMs: 60_000 });
      try {
        await ensureShared(client, shared);
        await measure(client, users, 1500, 1, round); // warm: JIT, page cache
        const quiet = await measure(client, users, ms / 2, 0, round + 10);
        const cpuBefore = cpuSecondsOf(node.pid ?? 0);
        const loaded = await measure(client, users, ms, lists, round + 20);
        const nodeCpuPercent = Math.round(((cpuSecondsOf(node.pid ?? 0) - cpuBefore) / (ms / 1000)) * 100);
        console.log(JSON.stringify({
          round, readThreads: threads, load1: round1(loadavg()[0] ?? 0), rssMib: rssMebibytes(node.pid ?? 0),
          quietLookup: quiet.lookup, lookupBesideLists: loaded.lookup, lists, listsPerSecond: loaded.listsPerSecond, listMs: loaded.listMs,
          p99Ratio: round1(loaded.lookup.p99 / Math.max(quiet.lookup.p99, 0.1)), nodeCpuPercent,
        }));
      } finally {
        client.close();
        await stopNode(node);
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
