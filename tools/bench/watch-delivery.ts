/**
 * The bench's Watch delivery figure: S subscribers spread over K subscriber
 * processes (`bench watch-subscribers`, hidden), so that decoding 500 copies
 * of each event is not all queued in the process that measures. The writer
 * stamps each CreateMailbox with the monotonic clock just before sending it;
 * each subscriber stamps its receipt with the same clock (CLOCK_MONOTONIC is
 * one clock for every process of the machine); latency is receipt - send, so
 * it includes the commit itself. Timing starts once every subscriber has
 * received a first, unmeasured event: all of them are attached by then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import { mbdirEntry } from './entry.js';
import { MbdirClient } from '../../src/client/client.js';
import { userId } from './generate.js';
import type { LoadSettings, Measured } from './load.js';
import { cpuSecondsOf, ioStallMicroseconds, ioStallPercentOf } from './proc.js';
import { LatencyRecorder } from './stats.js';


/** The name of the unmeasured event every subscriber waits for before timing starts. */
const readyLeaf = 'ready';
/** How long the subscribers may take to attach and see the ready event. */
const readyTimeoutMs = 60_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ------------------------------------------------------------ subscriber process

/**
 * `bench watch-subscribers`: opens `count` Watch streams on `prefix` from
 * `fromRevision`, prints "ready" once each has seen the ready event, records
 * every PUT's receipt time, and when its stdin closes prints them as JSON lines
 * ("name nanoseconds") and exits.
 */
export async function runWatchSubscribers(endpoint: string, prefix: string, fromRevision: number, count: number): Promise<void> {
  const client = new MbdirClient({ endpoint });
  const abort = new AbortController();
  setMaxListeners(count + 1, abort.signal); // one listener per stream: not a leak
  // Receipts as they come (name, monotonic time), formatted once the run is over: a subscriber
  // that formats a line per event measures its own bookkeeping, not the delivery.
  const receiptNames: string[] = [];
  const receiptTimes: bigint[] = [];
  let ready = 0;
  const subscriber = async (): Promise<void> => {
    let sawReady = false;
    try {
      for await (const event of client.watch({ from_revision: fromRevision, prefixes: [prefix] }, abort.signal)) {
        if (event.type !== 'PUT') continue;
        const at = process.hrtime.bigint();
        const name = event.mailbox?.name ?? '';
        if (!sawReady && name === `${prefix}.${readyLeaf}`) {
          sawReady = true;
          ready += 1;
          if (ready === count) process.stdout.write('ready\n');
          continue;
        }
        receiptNames.push(name);
        receiptTimes.push(at);
      }
    } catch (error) {
      process.stderr.write(`watch subscriber: ${(error as Error).message}\n`);
    }
  };
  const subscribers = Array.from({ length: count }, () => subscriber());
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
  abort.abort();
  await Promise.all(subscribers);
  client.close();
  process.stdout.write(`${receiptNames.map((name, index) => `${name} ${receiptTimes[index] ?? 0n}`).join('\n')}\n`);
}

// ------------------------------------------------------------ writer (the bench)

interface SubscriberProcess {
  child: ChildProcess;
  ready: Promise<void>;
  receipts: Promise<string[]>;
}

function startSubscribers(endpoint: string, prefix: string, fromRevision: number, count: number): SubscriberProcess {
  const child = spawn(
    process.execPath,
    [mbdirEntry, 'bench', 'watch-subscribers', '--endpoint', endpoint, '--prefix', prefix, '--from', String(fromRevision), '--count', String(count)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const receipts: string[] = [];
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    child.once('exit', (code) => reject(new Error(`watch subscriber process exited with ${String(code)} before it was ready`)));
  });
  ready.catch(() => undefined); // awaited by the writer; an exit after the run is not an error
  lines.on('line', (line) => {
    if (line === 'ready') markReady();
    else if (line !== '') receipts.push(line);
  });
  const done = new Promise<string[]>((resolve) => child.once('close', () => resolve(receipts)));
  return { child, ready, receipts: done };
}

/**
 * Watch delivery: `watchSubscribers` subscribers over `watchProcesses`
 * processes, one CreateMailbox every `watchWriteIntervalMs` for `durationMs`.
 */
export async function watchDelivery(client: MbdirClient, endpoint: string, serverPid: number | undefined, settings: LoadSettings, runTag: string): Promise<Measured> {
  const measured: Measured = { operations: 0, names: 0, errors: 0, firstError: '', seconds: 0, latency: new LatencyRecorder() };
  const status = await client.status();
  const fromRevision = status.applied_revision;
  const prefix = `user.${userId(0)}.w${runTag}`;
  const processes = Math.max(1, Math.min(settings.watchProcesses, settings.watchSubscribers));
  const group = Array.from({ length: processes }, (_, index) => {
    const count = Math.floor(settings.watchSubscribers / processes) + (index < settings.watchSubscribers % processes ? 1 : 0);
    return startSubscribers(endpoint, prefix, fromRevision, count);
  });
  try {
    await client.createMailbox({ mailbox: { name: `${prefix}.${readyLeaf}` } });
    await withTimeout(Promise.all(group.map((subscribers) => subscribers.ready)), readyTimeoutMs, 'Watch subscribers were not all attached');
    const sentAt = new Map<string, bigint>();
    const subscriberCpuSeconds = (): number => group.reduce((sum, subscribers) => sum + cpuSecondsOf(subscribers.child.pid), 0);
    const cpuBefore = { server: cpuSecondsOf(serverPid), load: subscriberCpuSeconds() };
    const stallBefore = ioStallMicroseconds();
    const startedMs = performance.now();
    let writes = 0;
    while (performance.now() - startedMs < settings.durationMs) {
      const name = `${prefix}.x${writes}`;
      sentAt.set(name, process.hrtime.bigint());
      await client.createMailbox({ mailbox: { name } });
      writes += 1;
      await new Promise((resolve) => setTimeout(resolve, settings.watchWriteIntervalMs));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    measured.seconds = (performance.now() - startedMs) / 1000;
    // Read before stdin closes: printing and tallying the receipts is not part of delivering.
    measured.windowCpuSeconds = { server: cpuSecondsOf(serverPid) - cpuBefore.server, load: subscriberCpuSeconds() - cpuBefore.load };
    measured.windowIoStallPercent = ioStallPercentOf(stallBefore, ioStallMicroseconds(), performance.now() - startedMs);
    measured.names = writes * settings.watchSubscribers;
    for (const subscribers of group) subscribers.child.stdin?.end();
    for (const receipts of await Promise.all(group.map((subscribers) => subscribers.receipts))) {
      for (const line of receipts) {
        const [name = '', at = '0'] = line.split(' ');
        const sent = sentAt.get(name);
        if (sent === undefined) continue;
        measured.latency.add(Number(BigInt(at) - sent) / 1e6);
        measured.operations += 1;
      }
    }
  } catch (error) {
    measured.errors += 1;
    measured.firstError = (error as Error).message;
  } finally {
    for (const subscribers of group) if (subscribers.child.exitCode === null) subscribers.child.kill();
  }
  return measured;
}
