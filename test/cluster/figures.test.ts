/**
 * Cluster figures for docs/cluster.md, measured on a real 3-member etcd cluster
 * and 3 mbdir nodes on this machine: creates/s through all nodes, lookups/s
 * per node, and replication lag (ack on node A -> event on node B's Watch).
 * Skipped unless asked: MBDIR_CLUSTER_FIGURES=1 npx vitest run test/cluster/figures.test.ts
 * It prints figures and asserts only that every write arrived everywhere.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, expect, it } from 'vitest';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const enabled = process.env['MBDIR_CLUSTER_FIGURES'] === '1';
const createsTotal = Number(process.env['MBDIR_FIGURES_CREATES'] ?? '3000');
const concurrencyPerNode = 16;
const lookupSeconds = 3;

let etcd: EtcdCluster | undefined;
const nodes: ServerProcess[] = [];

afterAll(async () => {
  for (const node of nodes) await node.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
});

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

it.skipIf(!enabled)('cluster figures', { timeout: 600_000 }, async () => {
  etcd = await EtcdCluster.start(3);
  for (let index = 0; index < 3; index += 1) {
    nodes.push(await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints()]));
  }
  await registerServers(nodes[0]!.client(), ['imap0', 'imap1', 'imap2']);
  const watcher = nodes[1]?.client();
  const arrivals = new Map<string, number>();
  const stopWatch = new AbortController();
  const watching = (async () => {
    for await (const event of watcher?.watch({ from_revision: 1 }, stopWatch.signal) ?? []) {
      const name = (event['mailbox'])?.['name'];
      if (typeof name === 'string') arrivals.set(name, performance.now());
    }
  })().catch(() => undefined);
  const acknowledged = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    nodes.flatMap((node, nodeIndex) =>
      Array.from({ length: concurrencyPerNode }, async () => {
        const client = node.client();
        while (next < createsTotal) {
          const name = `user.f${(next += 1)}`;
          await client.createMailbox({ mailbox: { name, uniqueid: `f-${next}`, server: `imap${nodeIndex}` } });
          acknowledged.set(name, performance.now());
        }
      }),
    ),
  );
  const createSeconds = (performance.now() - started) / 1000;
  const lookupCounts = await Promise.all(nodes.map((node) => lookups(node)));
  while (arrivals.size < acknowledged.size) await new Promise((resolve) => setTimeout(resolve, 50));
  stopWatch.abort();
  await watching;
  const lags = [...acknowledged].map(([name, at]) => Math.max(0, (arrivals.get(name) ?? at) - at));
  console.log(
    `figures: ${createsTotal} creates through 3 nodes in ${createSeconds.toFixed(1)} s = ` +
      `${Math.round(createsTotal / createSeconds)} creates/s; lookups/s per node ${lookupCounts
        .map((count) => Math.round(count / lookupSeconds))
        .join(', ')}; replication lag to node B p50 ${percentile(lags, 0.5).toFixed(1)} ms, ` +
      `p99 ${percentile(lags, 0.99).toFixed(1)} ms`,
  );
  expect(arrivals.size).toBeGreaterThanOrEqual(acknowledged.size);
});

/** GetMailbox calls answered by one node in `lookupSeconds`, 16 at a time. */
async function lookups(node: ServerProcess): Promise<number> {
  const client = node.client();
  const until = performance.now() + lookupSeconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        await client.getMailbox({ name: `user.f${1 + (count % createsTotal)}` });
        count += 1;
      }
    }),
  );
  return count;
}
