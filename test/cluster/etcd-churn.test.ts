/**
 * Tombstones have a bounded life: mailboxes created and deleted through a
 * node's gRPC API against a real etcd leave two tombstones each (`uid/`,
 * `hier/`). The churn runs with maintenance held off (an hour's interval), so
 * the debt piles up; then a node with a short interval takes over, sweeps
 * them all, compacts and defragments, and etcd's key count and database file
 * (Status dbSize, dbSizeInUse) return near where they started. One etcd member;
 * MBDIR_CHURN_MAILBOXES sets the churn (default 100,000: 200,000 etcd
 * transactions, about 2-3 minutes on two quiet cores). The figures it prints feed the sizing rule in docs/cluster.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

// 100,000 creates and deletes are 200,000 etcd transactions: at the 1,400-1,700 a second this
// file measured on two quiet cores, 2-3 minutes; a busy host takes longer (the timeout allows 15).
const mailboxes = Number(process.env['MBDIR_CHURN_MAILBOXES'] ?? 100_000);
/** Calls in flight at once (each create or delete is one etcd transaction). */
const concurrentCalls = 64;
const prefix = '/churn';

let etcd: EtcdCluster;
const nodes: ServerProcess[] = [];
let client: MbdirClient;
/** The first node's data directory, kept when it stops: the maintainer that takes over starts on it. */
const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-churn-'));

/** A node of the churned directory that offers to run maintenance every `intervalSeconds`. */
async function startNode(name: string, intervalSeconds: number, dataDir?: string): Promise<ServerProcess> {
  const node = await startServer(
    [
      '--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', prefix, '--node-id', name,
      '--etcd-maintenance-interval-seconds', String(intervalSeconds), '--etcd-compact-retention-revisions', '10',
    ],
    { startTimeoutMs: 120_000, ...(dataDir === undefined ? {} : { dataDir }) },
  );
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
  client = (await startNode('churn-a', 3600, dataDir)).client();
  await registerServers(client, ['imap1']);
});

afterAll(async () => {
  for (const node of nodes) await node.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `call(index)` for every index below `count`, `concurrentCalls` at a time. */
async function inParallel(count: number, call: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) await call(index);
  };
  await Promise.all(Array.from({ length: concurrentCalls }, worker));
}

interface Footprint {
  keys: number;
  dbSize: number;
  dbSizeInUse: number;
}

async function footprint(): Promise<Footprint> {
  const database = await etcd.database(0);
  // The directory's own keys: maintenance/ holds a handful of its own (lock, last run, nodes, swept),
  // and log/ the logs of writes sent together, one key per place in a batch, reused.
  const logSlots = await etcd.keyCount(`${prefix}/log/`);
  expect(logSlots).toBeLessThanOrEqual(limits.etcdWriteBatchTxnsMax);
  const keys = (await etcd.keyCount(`${prefix}/`)) - (await etcd.keyCount(`${prefix}/maintenance/`)) - logSlots;
  return { keys, ...database };
}

/** The last maintenance run recorded in etcd. */
async function lastRun(): Promise<{ atMs: number; sweptTombstones: number; dbSizeBytesAfter: number } | undefined> {
  const text = await etcd.get(`${prefix}/maintenance/last`);
  return text === undefined ? undefined : (JSON.parse(text) as { atMs: number; sweptTombstones: number; dbSizeBytesAfter: number });
}

/** Waits (bounded) for a maintenance run that started after `afterMs` and for `settled` to hold. */
async function afterMaintenance(afterMs: number, settled: (now: Footprint) => boolean, timeoutMs = 180_000): Promise<Footprint> {
  const until = Date.now() + timeoutMs;
  let now = await footprint();
  while (Date.now() < until) {
    const run = await lastRun();
    now = await footprint();
    if (run !== undefined && run.atMs > afterMs && settled(now)) return now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no maintenance run settled within ${timeoutMs} ms; etcd now ${JSON.stringify(now)}`);
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);

describe(`${mailboxes} mailboxes created and deleted against a real etcd`, () => {
  it('leave etcd with the keys and the database size it started with, once maintenance ran', async () => {
    const start = await footprint();
    const createdAt = Date.now();
    await inParallel(mailboxes, (index) =>
      client.createMailbox({ mailbox: { name: `user.churn${index}`, uniqueid: `churn-${index}`, server: 'imap1', partition: 'default' } }),
    );
    const createSeconds = (Date.now() - createdAt) / 1000;
    // Every mailbox is two keys: its hierarchy and its uniqueid.
    const live = await footprint();
    expect(live.keys).toBeGreaterThanOrEqual(start.keys + 2 * mailboxes);
    const deletedAt = Date.now();
    await inParallel(mailboxes, (index) => client.deleteMailbox({ name: `user.churn${index}` }));
    const deleteSeconds = (Date.now() - deletedAt) / 1000;
    const afterDeletes = await footprint();
    const status = await client.status();
    expect(Number(status['mailboxes'])).toBe(0);
    // Nothing swept yet: every deleted mailbox left its two tombstones.
    expect(afterDeletes.keys).toBe(start.keys + 2 * mailboxes);

    // The node stops (revoking its lease and so the lock); one with a 2 s interval takes over,
    // on the stopped node's data directory (a node on an empty one would first relist the
    // prefix, 200,000 tombstones at 100,000 mailboxes, before it serves: 79 s on two cores).
    const takeoverAt = Date.now();
    await nodes[0]!.stop('SIGTERM');
    const restartAt = Date.now();
    await startNode('churn-b', 2, dataDir);
    const restartSeconds = (Date.now() - restartAt) / 1000;
    // Back near the start: the same keys (the tombstones are gone), and a file within 1 MiB of where it began.
    const settled = await afterMaintenance(takeoverAt, (now) => now.keys <= start.keys && now.dbSize <= start.dbSize + 1024 * 1024);
    expect(settled.dbSizeInUse).toBeLessThanOrEqual(start.dbSizeInUse + 1024 * 1024);
    const run = await lastRun();
    console.log(
      `churn ${mailboxes}: creates ${(mailboxes / createSeconds).toFixed(0)}/s, deletes ${(mailboxes / deleteSeconds).toFixed(0)}/s; ` +
        `restart ${restartSeconds.toFixed(1)} s; ` +
        `keys ${start.keys} -> ${live.keys} live -> ${afterDeletes.keys} tombstoned -> ${settled.keys}; ` +
        `db ${mib(start.dbSize)} MiB (in use ${mib(start.dbSizeInUse)}) -> ${mib(afterDeletes.dbSize)} MiB after deletes ` +
        `(in use ${mib(afterDeletes.dbSizeInUse)}) -> ${mib(settled.dbSize)} MiB (in use ${mib(settled.dbSizeInUse)}); ` +
        `last run ${JSON.stringify(run)}`,
    );
  }, 900_000);
});
