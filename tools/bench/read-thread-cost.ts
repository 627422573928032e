/**
 * What a read costs on the main thread against on a read thread, to decide
 * which reads go to the threads (read-pool.ts): a point lookup by name on the
 * main thread's connection, and a one-row indexed read (a page of one mailbox
 * from a random name, as cheap as a lookup) through the pool, one at a time
 * and 64 in flight, with the main thread's busy time per pooled read (event
 * loop utilisation). Opens the data directory read-only. Run after `npm run build`:
 *   node dist/tools/bench/read-thread-cost.js --data-dir DIR [--users 100000] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sortKey } from '../../src/model/names.js';
import { ReaderStore, ReadPool } from '../../src/store/offline.js';
import { userId } from './generate.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const microseconds = (ms: number, count: number): number => Math.round((ms * 10_000) / count) / 10;

async function main(): Promise<void> {
  const dataDir = argument('data-dir', '');
  if (dataDir === '') throw new Error('give --data-dir of a directory made by mbdir bench generate');
  const users = Number(argument('users', '100000'));
  const rounds = Number(argument('rounds', '3'));
  const store = new ReaderStore(dataDir, 32);
  const pool = await ReadPool.start({ threads: 1, dataDir, cacheMebibytes: 32, script: new URL('../../src/server/read-worker.js', import.meta.url) });
  const name = (): string => `user.${userId(Math.floor(Math.random() * users))}`;
  const pooledRead = (): Promise<unknown> => pool.run('scanPage', { server: '', afterKeyHex: sortKey(name()).toString('hex'), limit: 1 }, 0);
  try {
    for (let round = 0; round < rounds; round += 1) {
      let started = performance.now();
      for (let index = 0; index < 20_000; index += 1) store.mailboxByName(name());
      const mainLookupUs = microseconds(performance.now() - started, 20_000);
      started = performance.now();
      for (let index = 0; index < 3000; index += 1) await pooledRead();
      const pooledOneAtATimeUs = microseconds(performance.now() - started, 3000);
      const utilisation = performance.eventLoopUtilization();
      started = performance.now();
      let sent = 0;
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (sent < 20_000) {
          sent += 1;
          await pooledRead();
        }
      }));
      const pooled64InFlightUs = microseconds(performance.now() - started, 20_000);
      const mainBusyPerPooledReadUs = microseconds(performance.eventLoopUtilization(utilisation).active, 20_000);
      console.log(JSON.stringify({ round, load1: Math.round((loadavg()[0] ?? 0) * 10) / 10, mainLookupUs, pooledOneAtATimeUs, pooled64InFlightUs, mainBusyPerPooledReadUs }));
    }
  } finally {
    await pool.close();
    store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
