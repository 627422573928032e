/**
 * etcd maintenance runs from one node at a time: with a real 3-member etcd
 * cluster and two nodes, only the node holding `maintenance/lock` (an etcd
 * lease) sweeps, compacts and defragments, cycle after cycle; `mbdir status`
 * on either node names it and when it ran; when it is killed, the other node
 * takes over once the dead node's lease has expired, not before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const prefix = '/maint';
const leaseSeconds = 3;
const intervalSeconds = 1;

let etcd: EtcdCluster;
const nodes: ServerProcess[] = [];

beforeAll(async () => {
  etcd = await EtcdCluster.start(3);
  for (const name of ['maint-a', 'maint-b']) {
    nodes.push(
      await startServer([
        '--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', prefix, '--node-id', name,
        '--etcd-maintenance-interval-seconds', String(intervalSeconds), '--etcd-maintenance-lease-seconds', String(leaseSeconds),
        '--etcd-compact-retention-revisions', '20', '--log-level', 'info',
      ]),
    );
  }
  await registerServers(nodes[0]!.client(), ['imap1']);
}, 60_000);

afterAll(async () => {
  for (const node of nodes) await node.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
});

interface Run {
  node: string;
  atMs: number;
  sweptTombstones: number;
  defragmentedMembers: number;
  dbSizeBytesBefore: number;
  dbSizeBytesAfter: number;
}

async function lastRun(): Promise<Run | undefined> {
  const text = await etcd.get(`${prefix}/maintenance/last`);
  return text === undefined ? undefined : (JSON.parse(text) as Run);
}

/** Polls the last run until `wanted` holds (bounded). */
async function waitForRun(wanted: (run: Run) => boolean, timeoutMs: number): Promise<Run> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await lastRun();
    if (run !== undefined && wanted(run)) return run;
    if (Date.now() > until) throw new Error(`no maintenance run as wanted within ${timeoutMs} ms; last ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The maintenance runs a node logged ("etcd maintenance done" at info). */
function loggedRuns(node: ServerProcess): Run[] {
  return node
    .stderr()
    .split('\n')
    .filter((line) => line.includes('"msg":"etcd maintenance done"'))
    .map((line) => JSON.parse(line) as Run);
}

function runsLogged(node: ServerProcess): number {
  return loggedRuns(node).length;
}

describe('etcd maintenance, one node at a time', () => {
  let holder = -1;

  it('runs on one node only, cycle after cycle, and status on both nodes names it', async () => {
    const first = await waitForRun(() => true, 15_000);
    holder = first.node === 'maint-a' ? 0 : 1;
    const other = 1 - holder;
    // Several cycles: every run is the same node's, and the other never logs one.
    const seen = new Set<string>();
    let runs = 0;
    for (let atMs = first.atMs; runs < 4; runs += 1) {
      const run = await waitForRun((candidate) => candidate.atMs > atMs, 10_000);
      seen.add(run.node);
      atMs = run.atMs;
    }
    expect([...seen]).toEqual([first.node]);
    expect(runsLogged(nodes[holder]!)).toBeGreaterThanOrEqual(4);
    expect(runsLogged(nodes[other]!)).toBe(0);
    const lock = JSON.parse((await etcd.get(`${prefix}/maintenance/lock`)) ?? '{}') as { node?: string };
    expect(lock.node).toBe(first.node);
    for (const node of nodes) {
      const status = await runCli(['--endpoint', node.endpoint, 'status']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        new RegExp(`^etcd maintenance last by ${first.node} at \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z: (compacted at revision \\d+|not compacted), \\d+ tombstones swept, db \\d+ -> \\d+ bytes$`, 'm'),
      );
    }
  }, 60_000);

  it('sweeps the tombstones of deleted mailboxes and defragments every member', async () => {
    const client = nodes[holder]!.client();
    const createdAt = Date.now();
    const names = Array.from({ length: 300 }, (_, index) => `user.gone${index}`);
    for (const name of names) await client.createMailbox({ mailbox: { name, uniqueid: `gone-${name}`, server: 'imap1', partition: 'default' } });
    expect(await etcd.keyCount(`${prefix}/uid/`)).toBe(300);
    for (const name of names) await client.deleteMailbox({ name });
    const deletedAt = Date.now();
    const run = await waitForRun((candidate) => candidate.atMs > deletedAt && candidate.sweptTombstones === 0, 20_000);
    expect(await etcd.keyCount(`${prefix}/uid/`)).toBe(0);
    expect(await etcd.keyCount(`${prefix}/hier/`)).toBe(0);
    expect(run.node).toBe(holder === 0 ? 'maint-a' : 'maint-b');
    // The holder's runs (some ran during the deletes): 600 tombstones swept; members defragmented
    // (each once a quarter of its file is free), and the largest file shrunk from its peak.
    const since = loggedRuns(nodes[holder]!).filter((candidate) => candidate.atMs > createdAt);
    expect(since.reduce((sum, candidate) => sum + candidate.sweptTombstones, 0)).toBeGreaterThanOrEqual(600);
    expect(since.reduce((sum, candidate) => sum + candidate.defragmentedMembers, 0), JSON.stringify(since)).toBeGreaterThanOrEqual(3);
    const peak = Math.max(...since.map((candidate) => candidate.dbSizeBytesBefore));
    expect(since.at(-1)!.dbSizeBytesAfter).toBeLessThan(peak);
  }, 90_000);

  it('is taken over by the other node once the killed holder\'s lease expired', async () => {
    const other = 1 - holder;
    const otherName = other === 0 ? 'maint-a' : 'maint-b';
    await nodes[holder]!.stop('SIGKILL');
    const killedAt = Date.now();
    const run = await waitForRun((candidate) => candidate.node === otherName, (leaseSeconds + intervalSeconds) * 1000 + 10_000);
    const takeoverMs = Date.now() - killedAt;
    // The dead node's lease was renewed at most a third of a TTL before it died.
    expect(takeoverMs).toBeGreaterThanOrEqual(((leaseSeconds * 2) / 3) * 1000 - 500);
    expect(run.atMs).toBeGreaterThan(killedAt);
    const lock = JSON.parse((await etcd.get(`${prefix}/maintenance/lock`)) ?? '{}') as { node?: string };
    expect(lock.node).toBe(otherName);
    expect(runsLogged(nodes[other]!)).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
