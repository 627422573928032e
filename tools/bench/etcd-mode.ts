/**
 * `bench run --engine etcd`: writes and reads of nodes on the etcd engine,
 * each beside its floor measured in the same run, in interleaved rounds.
 * The floor of a write is the raw etcd txn of the same shape (the keys it
 * guards, the keys and value sizes it puts) sent straight to the same etcd
 * cluster by the same number of callers through the same etcd client code;
 * the floor of a read through all nodes is one node's rate. It starts the
 * etcd members (etcd-members.ts) or uses given endpoints under a fresh
 * prefix, starts the nodes on fresh data directories, and stops all it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MbdirClient } from '../../src/client/client.js';
import type { Mailbox__Output } from '../../src/api/generated/mbdir/v1/Mailbox.js';
import { EtcdClient, type Compare, type RequestOp, type TxnRequest } from '../../src/replication/etcd-client.js';
import { connect, spawnServing, type Child } from './harness.js';
import { BenchEtcdCluster } from './etcd-members.js';
import { closedLoop, type LoadSettings, type Measured } from './load.js';
import { cpuSecondsOf, rssMebibytes } from './proc.js';
import { mergePhases, resultOf, type OperationResult, type Phase } from './report.js';

export const etcdOperationNames = ['CreateMailbox', 'RenameMailbox', 'SetAcl', 'GetMailbox'] as const;
type EtcdOperation = (typeof etcdOperationNames)[number];
/** Callers of one operation at most. */
const etcdCallersMax = 10_000;
/** Mbdir nodes bench starts at most on one etcd cluster. */
export const etcdBenchNodesMax = 7;
/** Users (hierarchies) made before the run; creates make folders in them in turn, as users do. */
const seedUsers = 1000;
/** Folders made before an operation that needs some when none were made yet (renames, ACLs, reads). */
const seedMailboxes = 2000;
/** Backend servers registered for placement. */
const benchServers = ['imap0', 'imap1', 'imap2'];

export interface EtcdRunOptions {
  settings: LoadSettings;
  /** OP@N, as `bench run --ops` takes them. */
  operations: Array<{ operation: string; concurrency: number }>;
  /** Members to start, when no endpoints are given. */
  members: number;
  /** A running cluster's client URLs (comma-separated), instead of starting one. */
  endpoints?: string;
  nodes: number;
  synchronous: string;
}

interface NodeTarget {
  child: Child;
  clients: MbdirClient[];
}

/** What the operations share: the nodes, the raw etcd client, the names made so far. */
interface EtcdContext {
  nodes: NodeTarget[];
  raw: EtcdClient;
  rawRoot: string;
  /** The etcd members' pids when bench started them (the floor's CPU), else none. */
  etcdPids: Array<number | undefined>;
  settings: LoadSettings;
  runTag: string;
  created: string[];
  /** A record as the node answered a create, sizing the floor's values like the node's. */
  sample: Partial<Mailbox__Output>;
  /** Indexes into `created` of the folders being renamed now. */
  renaming: Set<number>;
  /** Folders created so far in each seeded user, by the node and by the floor (their values grow alike). */
  folders: { node: number; floor: number };
  /** The etcd members' CPU in the measured node slices of the operation under way, and their operations. */
  etcdShare: { seconds: number; operations: number };
}

/** `OP@N` of the etcd mode: one of etcdOperationNames and its callers. */
export function parseEtcdOperation(text: string, defaultConcurrency: number): { operation: string; concurrency: number } {
  const [operation = '', callersText] = text.split('@');
  if (!(etcdOperationNames as readonly string[]).includes(operation)) {
    throw new Error(`--engine etcd measures ${etcdOperationNames.join(', ')}; not ${operation} (OP@N sets N callers)`);
  }
  const concurrency = callersText === undefined ? defaultConcurrency : Number(callersText);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > etcdCallersMax) {
    throw new Error(`${text}: callers after @ must be a whole number from 1 to ${etcdCallersMax}`);
  }
  return { operation, concurrency };
}

export interface EtcdRunReport {
  results: OperationResult[];
  /** Per result: the etcd members' CPU per node write, us (the rest of cpu us/op is the nodes'); null for reads. */
  etcdCpuUsPerOp: Array<number | null>;
  etcdMembers: number;
  nodes: number;
}

export async function runEtcdBench(options: EtcdRunOptions): Promise<EtcdRunReport> {
  for (const { operation } of options.operations) {
    if (!(etcdOperationNames as readonly string[]).includes(operation)) {
      throw new Error(`--engine etcd measures ${etcdOperationNames.join(', ')}; not ${operation}`);
    }
  }
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > etcdBenchNodesMax) {
    throw new Error(`--nodes is ${options.nodes}; bench starts 1 to ${etcdBenchNodesMax} nodes`);
  }
  const runTag = Date.now().toString(36);
  const cluster = options.endpoints === undefined ? await BenchEtcdCluster.start(options.members) : null;
  const endpoints = options.endpoints ?? cluster?.endpoints() ?? '';
  const dataRoot = mkdtempSync(join(tmpdir(), 'mbdir-bench-nodes-'));
  const nodes: NodeTarget[] = [];
  const raw = new EtcdClient(endpoints.split(','));
  try {
    for (let index = 0; index < options.nodes; index += 1) {
      const child = await spawnServing([
        'serve', '--engine', 'etcd', '--etcd-endpoints', endpoints, '--etcd-prefix', `/mbdir-bench-${runTag}`,
        '--data-dir', join(dataRoot, `node${index}`), '--listen', '127.0.0.1:0', '--log-level', 'warn',
        '--synchronous', options.synchronous,
      ]);
      nodes.push({ child, clients: connect(child.endpoint, options.settings.connections) });
    }
    const context = await prepare(nodes, raw, options.settings, runTag);
    context.etcdPids = cluster?.pids() ?? [];
    const results: OperationResult[] = [];
    const etcdCpuUsPerOp: Array<number | null> = [];
    for (const { operation, concurrency } of options.operations) {
      results.push(await runOperation(operation as EtcdOperation, concurrency, context));
      const { seconds, operations } = context.etcdShare;
      etcdCpuUsPerOp.push(operation === 'GetMailbox' || operations === 0 ? null : Math.round((seconds * 1e6) / operations));
    }
    return { results, etcdCpuUsPerOp, etcdMembers: endpoints.split(',').length, nodes: nodes.length };
  } finally {
    raw.close();
    for (const node of nodes.reverse()) {
      for (const client of node.clients) client.close();
      await node.child.stop();
    }
    rmSync(dataRoot, { recursive: true, force: true });
    await cluster?.stop();
  }
}

function clientOf(node: NodeTarget, worker: number): MbdirClient {
  return node.clients[worker % node.clients.length] as MbdirClient;
}

/** Registers the servers and the seeded users (one hierarchy each), and keeps one record as the floor's sample. */
async function prepare(nodes: NodeTarget[], raw: EtcdClient, settings: LoadSettings, runTag: string): Promise<EtcdContext> {
  const first = nodes[0];
  if (first === undefined) throw new Error('bench: no node started');
  const client = clientOf(first, 0);
  for (const name of benchServers) {
    await client.putServer({ name, imap_address: `127.0.0.${benchServers.indexOf(name) + 10}:143`, state: 'UP', weight: 1 });
  }
  let next = 0;
  let sample: Partial<Mailbox__Output> = {};
  await closedLoop(32, 600_000, async (worker) => {
    const user = next;
    next += 1;
    if (user >= seedUsers) return -1;
    const answer = await clientOf(first, worker).createMailbox({ mailbox: { name: userRoot(runTag, user) } });
    sample = answer.mailbox ?? {};
    return 1;
  });
  return { nodes, raw, rawRoot: `/mbdir-bench-raw-${runTag}/`, settings, runTag, created: [], renaming: new Set(), sample, folders: { node: 0, floor: 0 }, etcdPids: [], etcdShare: { seconds: 0, operations: 0 } };
}

function userRoot(runTag: string, user: number): string {
  return `user.${runTag}u${user}`;
}

/** Makes `seedMailboxes` mailboxes through the first node when the run has made none yet. */
async function ensureCreated(context: EtcdContext): Promise<void> {
  if (context.created.length > 0) return;
  const slice = nodeSlice('CreateMailbox', 32, context, 0);
  let made = 0;
  while (context.created.length < seedMailboxes && made < 10) {
    await slice(1000);
    made += 1;
  }
  // Every node holds what the first one made before reads are measured.
  const name = context.created.at(-1) ?? '';
  for (const node of context.nodes) {
    for (let tries = 0; tries < 100; tries += 1) {
      const found = await clientOf(node, 0).getMailbox({ name }).then(() => true, () => false);
      if (found) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

type Slice = (durationMs: number) => Promise<Phase>;

/** A measured slice and the CPU `pids` spent in it. */
async function measuredSlice(pids: Array<number | undefined>, run: () => Promise<Measured>): Promise<Phase> {
  const cpuOf = (): number => pids.reduce<number>((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const serverBefore = cpuOf();
  const clientBefore = process.cpuUsage();
  const measured = await run();
  const client = process.cpuUsage(clientBefore);
  return {
    measured,
    serverCpuSeconds: cpuOf() - serverBefore,
    clientCpuSeconds: (client.user + client.system) / 1e6,
    ioStallPercent: null,
    nodeLoop: null,
    loadLoop: null,
  };
}

/** One node operation with `concurrency` callers on each of the nodes `[0, nodeCount)`, going on where the last slice stopped. */
function nodeSlice(operation: EtcdOperation, concurrency: number, context: EtcdContext, nodeCount = 1): Slice {
  let sequence = 0;
  const nodes = context.nodes.slice(0, Math.max(1, nodeCount));
  const once = async (worker: number): Promise<number> => {
    const mine = sequence;
    sequence += 1;
    const node = nodes[worker % nodes.length] as NodeTarget;
    const client = clientOf(node, Math.floor(worker / nodes.length));
    const tag = context.runTag;
    switch (operation) {
      case 'CreateMailbox': {
        // Users in turn: concurrent creates go to different hierarchies, as different users' do.
        const folder = context.folders.node;
        context.folders.node += 1;
        const name = `${userRoot(tag, folder % seedUsers)}.f${folder}`;
        await client.createMailbox({ mailbox: { name }, request_id: `${tag}-${name}` });
        context.created.push(name);
        return 1;
      }
      case 'RenameMailbox': {
        // The folders made in turn, each renamed back and forth (`f7` <-> `f7r`), so renames never
        // run out in a slice; a folder whose last rename is still under way is passed over.
        if (context.renaming.size >= context.created.length) return -1;
        let index = mine % context.created.length;
        while (context.renaming.has(index)) {
          index = sequence % context.created.length;
          sequence += 1;
        }
        const name = context.created[index] ?? '';
        context.renaming.add(index);
        const newName = name.endsWith('r') ? name.slice(0, -1) : `${name}r`;
        try {
          await client.renameMailbox({ name, new_name: newName });
          context.created[index] = newName;
        } finally {
          context.renaming.delete(index);
        }
        return 1;
      }
      case 'SetAcl': {
        const name = context.created[mine % context.created.length] ?? '';
        await client.setAcl({ name, identifier: `reader${mine}`, rights: 'lrs' });
        return 1;
      }
      case 'GetMailbox':
        await client.getMailbox({ name: context.created[mine % context.created.length] ?? '' });
        return 1;
    }
  };
  const callers = concurrency * nodes.length;
  // The CPU of a node's write is its own and etcd's (the txn, and the watch events to every node).
  const pids = [...context.nodes.map((node) => node.child.process.pid), ...context.etcdPids];
  const etcdCpu = (): number => context.etcdPids.reduce<number>((sum, pid) => sum + cpuSecondsOf(pid), 0);
  return async (durationMs) => {
    const etcdBefore = etcdCpu();
    const phase = await measuredSlice(pids, () => closedLoop(callers, durationMs, once));
    context.etcdShare.seconds += etcdCpu() - etcdBefore;
    context.etcdShare.operations += phase.measured.operations;
    return phase;
  };
}

/**
 * The raw txn of `operation`'s shape, on keys of its own under the raw prefix, as the node
 * plans it (etcd-keyspace.ts planTxn): the guard on the hierarchy, the uniqueid, the server and
 * `maintenance/swept`; puts of the hierarchy's value (its records so far: a create's grow as the
 * floor's creates go, a rename's or ACL change's are as many as the node's users hold), the
 * uniqueid marker (a create only) and the log entry (a rename's record carries its old name in
 * its history and the log its previous name, as the node's); on failure, the reads the node asks.
 */
function rawTxn(operation: EtcdOperation, context: EtcdContext, sequence: number): TxnRequest {
  const root = context.rawRoot;
  const requestId = `${context.runTag}-raw-${sequence}`;
  const creates = operation === 'CreateMailbox';
  const folder = creates ? context.folders.floor++ : sequence;
  const user = folder % seedUsers;
  const name = `user.raw${user}.f${folder}`;
  const renamed = operation === 'RenameMailbox';
  const record = { ...context.sample, name: renamed ? `${name}r` : name, uniqueid: `raw-${context.runTag}-${folder}`, ...(renamed ? { nameHistory: [name] } : {}) };
  // The user's root and the folders made in it so far, as the node's hierarchy value holds them.
  const folders = creates ? folder : context.folders.node;
  const records = Array.from({ length: 1 + Math.ceil(folders / seedUsers) }, () => record);
  const hierarchy = Buffer.from(JSON.stringify({ requestId, mailboxes: records }));
  const previous = renamed ? { previous: { name, servers: [context.sample.server ?? ''] } } : {};
  const log = Buffer.from(JSON.stringify({ requestId, changes: [{ kind: 'mailbox.put', mailbox: record, ...previous }] }));
  const key = (kind: string, id: string): Buffer => Buffer.from(`${root}${kind}/${id}`);
  const put = (at: Buffer, value: Buffer): RequestOp => ({ request_put: { key: at, value } });
  const hier = key('hier', `user.raw${user}`);
  const uid = key('uid', record.uniqueid);
  const guarded = [hier, uid, key('server', benchServers[0] ?? ''), key('maintenance', 'swept')];
  const success = [put(hier, hierarchy)];
  if (creates) success.push(put(uid, Buffer.from(JSON.stringify({ requestId, uniqueid: record.uniqueid }))));
  success.push(put(Buffer.from(`${root}log`), log));
  // The node's guard: mod_revision below the revision its view was at + 1 (always true here).
  const compare: Compare[] = guarded.map((at) => ({ result: 'LESS', target: 'MOD', key: at, mod_revision: Number.MAX_SAFE_INTEGER }));
  const failure: RequestOp[] = [{ request_range: { key: hier } }, ...guarded.map((at): RequestOp => ({ request_range: { key: at, keys_only: true } }))];
  return { compare, success, failure };
}

/** The raw etcd floor of a write operation, `concurrency` callers. */
function rawSlice(operation: EtcdOperation, concurrency: number, context: EtcdContext): Slice {
  let sequence = 0;
  const once = async (): Promise<number> => {
    const mine = sequence;
    sequence += 1;
    const response = await context.raw.txn(rawTxn(operation, context, mine));
    if (!response.succeeded) throw new Error('raw txn: guard failed');
    return 1;
  };
  return (durationMs) => measuredSlice(context.etcdPids, () => closedLoop(concurrency, durationMs, once));
}

/** The operation and its floor in interleaved rounds (warm-up unmeasured first), as one result. */
async function runOperation(operation: EtcdOperation, concurrency: number, context: EtcdContext): Promise<OperationResult> {
  if (operation !== 'CreateMailbox') await ensureCreated(context);
  const reads = operation === 'GetMailbox';
  const node = reads ? nodeSlice(operation, concurrency, context, context.nodes.length) : nodeSlice(operation, concurrency, context);
  const floor = reads ? nodeSlice(operation, concurrency, context, 1) : rawSlice(operation, concurrency, context);
  const { settings } = context;
  if (settings.warmupMs > 0) {
    await node(settings.warmupMs);
    await floor(settings.warmupMs);
  }
  const sliceMs = settings.durationMs / settings.rounds;
  context.etcdShare = { seconds: 0, operations: 0 };
  let nodePhase: Phase | null = null;
  let floorPhase: Phase | null = null;
  for (let round = 0; round < settings.rounds; round += 1) {
    const nodeRound = await node(sliceMs);
    nodePhase = nodePhase === null ? nodeRound : mergePhases(nodePhase, nodeRound);
    const floorRound = await floor(sliceMs);
    floorPhase = floorPhase === null ? floorRound : mergePhases(floorPhase, floorRound);
  }
  if (nodePhase === null) throw new Error('bench: no rounds measured');
  const label = reads ? `${operation}@${concurrency} x${context.nodes.length} nodes` : `${operation}@${concurrency}`;
  const rss = rssMebibytes(context.nodes[0]?.child.process.pid);
  return resultOf(label, nodePhase, floorPhase, rss, false);
}

/** The etcd mode's table: each operation beside its floor (raw etcd txns, or one node for reads). */
export function printEtcdTable(report: EtcdRunReport): void {
  const header = ['operation', 'ops/s', 'p50 ms', 'p99 ms', 'floor ops/s', 'floor p50/p99', 'x floor', 'cpu us/op', 'of it etcd', 'floor cpu us/op', 'errors'];
  const rows = report.results.map((result, index) => [
    result.operation,
    String(result.opsPerSecond),
    result.p50Ms.toFixed(2),
    result.p99Ms.toFixed(2),
    result.echoOpsPerSecond === null ? '' : String(result.echoOpsPerSecond),
    result.echoP50Ms === null || result.echoP99Ms === null ? '' : `${result.echoP50Ms.toFixed(2)}/${result.echoP99Ms.toFixed(2)}`,
    result.ratioToEcho === null ? '' : result.ratioToEcho.toFixed(2),
    String(result.serverCpuUsPerOp),
    String(report.etcdCpuUsPerOp[index] ?? ''),
    result.echoCpuUsPerOp === null ? '' : String(result.echoCpuUsPerOp),
    `${result.errors}${result.echoErrors ? ` (floor ${result.echoErrors})` : ''}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n${line(widths.map((width) => '-'.repeat(width)))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  process.stdout.write(
    `${report.nodes} node(s) on ${report.etcdMembers} etcd member(s); floor of a write: the raw etcd txn of the same shape, same callers, ` +
      'same cluster; floor of GetMailbox through all nodes: one node with the same callers per node; ' +
      'cpu: every node and the etcd members bench started (of it etcd: what the members spent); floor cpu: the etcd members (writes), every node (reads)\n',
  );
  for (const result of report.results) {
    if (result.firstError !== '') process.stdout.write(`${result.operation}: first error: ${result.firstError}\n`);
    if (result.echoFirstError !== '') process.stdout.write(`${result.operation}: the floor's first error: ${result.echoFirstError}\n`);
  }
}
