#!/usr/bin/env node
/**
 * Generates a large directory for measuring the rebalance plan: servers,
 * businesses and users (a `user.<id>` root plus folders each), a share of
 * them off their business's home server, optionally one DRAINING server.
 * It writes a fresh data directory in-process through the real rules and the
 * standalone engine (no gRPC), seeded, so runs are reproducible. Not for live data.
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { Directory } from '../../src/directory/directory.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/offline.js';
import { seededRandom as seeded } from '../bench/stats.js';

/** Writes in flight at once; the engine batches them into group commits. */
const writesInFlight = 2000;


async function inBatches(count: number, write: (index: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += writesInFlight) {
    const batch: Array<Promise<unknown>> = [];
    for (let index = start; index < Math.min(count, start + writesInFlight); index += 1) batch.push(write(index));
    await Promise.all(batch);
  }
}

interface GenerateOptions {
  dataDir: string;
  users: number;
  servers: number;
  businesses: number;
  folders: number;
  misplaced: number;
  draining: boolean;
  seed: number;
}

async function generate(options: GenerateOptions): Promise<void> {
  if (existsSync(options.dataDir)) throw new Error(`${options.dataDir} exists: give a fresh directory`);
  const store = new Store({ dataDir: options.dataDir, synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine, { nodeId: 'generator' });
  const random = seeded(options.seed);
  const serverName = (index: number): string => `backend${index + 1}`;
  for (let index = 0; index < options.servers; index += 1) {
    await directory.putServer({ name: serverName(index), imapAddress: `127.0.0.${index + 1}:143`, lmtpAddress: `127.0.0.${index + 1}:24`, pop3Address: '', state: 'UP', weight: 1, datacenter: '' });
  }
  await inBatches(options.businesses, (index) => directory.putBusiness({ id: `biz${index}`, homeServer: serverName(index % options.servers) }));
  const started = Date.now();
  await inBatches(options.users, async (index) => {
    const business = index % options.businesses;
    const home = business % options.servers;
    const server = random() < options.misplaced ? (home + 1 + Math.floor(random() * (options.servers - 1))) % options.servers : home;
    await directory.setUserBusiness(`u${index}`, `biz${business}`);
    const names = [`user.u${index}`, ...Array.from({ length: options.folders }, (_, folder) => `user.u${index}.f${folder}`)];
    for (const name of names) await directory.createMailbox({ name, server: serverName(server) });
  });
  if (options.draining) {
    await directory.putServer({ name: serverName(options.servers - 1), imapAddress: `127.0.0.${options.servers}:143`, lmtpAddress: `127.0.0.${options.servers}:24`, pop3Address: '', state: 'DRAINING', weight: 1, datacenter: '' });
  }
  await engine.close();
  store.close();
  process.stdout.write(`generated ${options.users} users, ${options.users * (1 + options.folders)} mailboxes in ${Date.now() - started} ms into ${options.dataDir}\n`);
}

const program = new Command()
  .name('generate-directory')
  .description('write a generated directory (for measuring the rebalance plan) into a fresh data dir')
  .requiredOption('--data-dir <dir>', 'a directory that does not exist yet')
  .option('--users <n>', 'users', '100000')
  .option('--servers <n>', 'servers', '10')
  .option('--businesses <n>', 'businesses (homes spread over the servers)', '1000')
  .option('--folders <n>', 'folders per user besides the root', '2')
  .option('--misplaced <fraction>', 'share of users placed off their home server', '0.1')
  .option('--draining', 'mark the last server DRAINING at the end')
  .option('--seed <n>', 'random seed', '1')
  .action(async (flags: Record<string, string | boolean | undefined>) => {
    const number = (key: string): number => Number(flags[key]);
    await generate({
      dataDir: String(flags['dataDir']), users: number('users'), servers: number('servers'), businesses: number('businesses'),
      folders: number('folders'), misplaced: number('misplaced'), draining: flags['draining'] === true, seed: number('seed'),
    });
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`generate-directory: ${(error as Error).message}\n`);
  process.exit(2);
});
