/**
 * Records a concurrent history of creates, renames and deletes of a few names
 * through three mbdir nodes on a real 3-member etcd cluster, while etcd
 * members are SIGKILLed and restarted, and checks it is linearizable with the
 * checker in test/helpers/linearizability.ts. CI runs a short history; a long
 * one: MBDIR_LINEARIZABILITY_OPS=2000 npx vitest run test/cluster/linearizability.test.ts
 * The workload is seeded (MBDIR_SEED); the seed is printed.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { checkLinearizable, type HistoryEntry, type Operation, type Outcome } from '../helpers/linearizability.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const operationsTotal = Number(process.env['MBDIR_LINEARIZABILITY_OPS'] ?? '150');
const seed = Number(process.env['MBDIR_SEED'] ?? String(Date.now() % 1_000_000));
const names = ['user.l0', 'user.l1', 'user.l2'];
const clientsPerNode = 2;

let etcd: EtcdCluster;
const nodes: ServerProcess[] = [];

beforeAll(async () => {
  etcd = await EtcdCluster.start(3);
  for (let index = 0; index < 3; index += 1) {
    nodes.push(await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/t-lin']));
  }
  await registerServers(nodes[0]!.client(), ['imap1']);
});

afterAll(async () => {
  for (const node of nodes) await node.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
});

/** mulberry32: a small seeded generator, so a failing run replays from its seed. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

function nextOperation(next: () => number, serial: number): Operation {
  const name = pick(next, names);
  const roll = next();
  if (roll < 0.5) return { kind: 'create', name, uniqueid: `lin-${seed}-${serial}` };
  if (roll < 0.75) return { kind: 'delete', name };
  return { kind: 'rename', name, newName: pick(next, names.filter((other) => other !== name)) };
}

async function perform(client: MbdirClient, operation: Operation): Promise<Outcome> {
  try {
    if (operation.kind === 'create') {
      await client.createMailbox({ mailbox: { name: operation.name, uniqueid: operation.uniqueid, server: 'imap1' }, request_id: operation.uniqueid },
        10_000,
      );
    } else if (operation.kind === 'delete') {
      await client.deleteMailbox({ name: operation.name }, 10_000);
    } else {
      await client.renameMailbox({ name: operation.name, new_name: operation.newName }, 10_000);
    }
    return 'ok';
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    if (error.codeName === 'ALREADY_EXISTS') return 'exists';
    if (error.codeName === 'NOT_FOUND') return 'notfound';
    if (error.codeName === 'UNAVAILABLE' || error.codeName === 'DEADLINE_EXCEEDED') return 'unknown';
    throw error;
  }
}

/** Kills one etcd member after another (leader included) while the workload runs, restarting each. */
async function nemesis(isRunning: () => boolean, next: () => number): Promise<number> {
  let kills = 0;
  while (isRunning()) {
    await new Promise((resolve) => setTimeout(resolve, 300 + next() * 400));
    if (!isRunning()) break;
    const victim = next() < 0.5 ? await etcd.leader() : Math.floor(next() * 3);
    if (victim < 0) continue;
    await etcd.kill(victim);
    kills += 1;
    await new Promise((resolve) => setTimeout(resolve, 300 + next() * 400));
    etcd.startMember(victim);
  }
  return kills;
}

it(`a concurrent history with etcd members killed is linearizable (${operationsTotal} operations)`, async () => {
  console.log(`linearizability: seed ${seed} (replay with MBDIR_SEED=${seed})`);
  const next = random(seed);
  const history: HistoryEntry[] = [];
  let serial = 0;
  const clients = nodes.flatMap((node) => Array.from({ length: clientsPerNode }, () => node.client()));
  const worker = async (client: MbdirClient): Promise<void> => {
    while (serial < operationsTotal) {
      const operation = nextOperation(next, (serial += 1));
      const invokedAt = performance.now();
      const outcome = await perform(client, operation);
      history.push({ operation, outcome, invokedAt, returnedAt: performance.now() });
    }
  };
  let running = true;
  const faults = nemesis(() => running, next);
  await Promise.all(clients.map(worker));
  running = false;
  const kills = await faults;
  await etcd.waitHealthy();
  const result = checkLinearizable(history);
  if (!result.linearizable) {
    const path = join(tmpdir(), `mbdir-linearizability-${seed}.json`);
    writeFileSync(path, JSON.stringify(history, null, 1));
    console.log(`linearizability: history written to ${path}`);
  }
  const unknown = history.filter((entry) => entry.outcome === 'unknown').length;
  console.log(
    `linearizability: ${history.length} operations, ${unknown} unknown, ${kills} etcd kills, ${result.steps} search steps`,
  );
  expect(result.linearizable, `not linearizable (seed ${seed}); longest order ${result.longestOrder.join(',')}`).toBe(true);
  expect(history.filter((entry) => entry.outcome === 'ok').length).toBeGreaterThan(0);
});
