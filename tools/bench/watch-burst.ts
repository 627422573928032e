/**
 * What twenty snapshot Watches arriving together cost the main thread, as in
 * `bench mixed`'s mixed phase: they subscribe in one task (half then read
 * everything, half stop after the first item), each item encoded as the gRPC
 * adapter would; it reports how long the subscribing task held the loop, and
 * the gaps between loop turns over the next seconds (what a lookup arriving
 * then waits for, page turns included). In-process, on the data directory
 * itself (it writes nothing; stop any node on it first). Run after `npm run build`:
 *   node dist/tools/bench/watch-burst.js --data-dir DIR [--watchers 20] [--rounds 3] [--seconds 2]
 */
import { loadavg } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { services } from '../../src/api/proto.js';
import { mailboxToWire } from '../../src/api/wire.js';
import { WatchHub, type WatchSink, type WatchSubscription } from '../../src/directory/watch.js';
import { limits } from '../../src/model/limits.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/offline.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const serializeWatchEvent = (services.Mailboxes.service['Watch'] as { responseSerialize(value: object): Buffer }).responseSerialize;

/** A sink that encodes each item; a stalled one asks to wait after its first. */
function encodingSink(stalled: boolean): WatchSink {
  return {
    send: (item) => {
      serializeWatchEvent({ type: item.type, mailbox: item.mailbox === null ? null : mailboxToWire(item.mailbox), revision: item.revision });
      return !stalled;
    },
    end: () => undefined,
  };
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Loop-turn gaps (ms) for `seconds`, sorted. */
async function turnGaps(seconds: number): Promise<number[]> {
  const gaps: number[] = [];
  let last = performance.now();
  const endMs = last + seconds * 1000;
  while (last < endMs) {
    await nextTurn();
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }
  return gaps.sort((first, second) => first - second);
}

async function main(): Promise<void> {
  const dataDir = argument('data-dir', '');
  if (dataDir === '') throw new Error('give --data-dir of a directory made by mbdir bench generate');
  const watchers = Number(argument('watchers', '20'));
  const rounds = Number(argument('rounds', '3'));
  const seconds = Number(argument('seconds', '2'));
  const store = new Store({ dataDir, synchronous: 'OFF', cacheMebibytes: 32 });
  const engine = new StandaloneEngine(store);
  await engine.start();
  const hub = new WatchHub(store, engine, { subscribersMax: limits.watchSubscribersMax, bufferEventsMax: limits.watchBufferEventsMax, heldBytesMax: limits.watchHeldBytesMax });
  try {
    for (let round = 0; round < rounds; round += 1) {
      const started = performance.now();
      const subscriptions: WatchSubscription[] = [];
      for (let index = 0; index < watchers; index += 1) subscriptions.push(hub.subscribe({ servers: [], prefixes: [] }, 0, encodingSink(index % 2 === 1)));
      const subscribeMs = performance.now() - started;
      const gaps = await turnGaps(seconds);
      for (const subscription of subscriptions) subscription.close();
      const at = (fraction: number): number => round2(gaps[Math.min(gaps.length - 1, Math.floor(fraction * gaps.length))] ?? 0);
      process.stdout.write(`${JSON.stringify({ round, load1: round2(loadavg()[0] ?? 0), watchers, subscribeMs: round2(subscribeMs), turnGapP50Ms: at(0.5), turnGapP99Ms: at(0.99), turnGapMaxMs: round2(gaps.at(-1) ?? 0) })}\n`);
    }
  } finally {
    await engine.close();
    store.close();
  }
}

await main();
