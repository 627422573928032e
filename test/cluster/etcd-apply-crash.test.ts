/**
 * The etcd follower commits its view without fsync, many revisions per SQLite
 * transaction: a crash may lose the newest of them, rows and applied revision
 * together, and the node replays them from etcd on restart. Here a node is
 * SIGKILLed while it applies a stream of creates, renames, ACL changes and
 * deletes (written through it and through a second node), restarted on its
 * data directory, and its scan must equal the records etcd holds: every
 * hierarchy value under the prefix, read straight from etcd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';

type Message = Record<string, unknown>;
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const prefix = '/crash';
const users = 200;
const writersPerNode = 16;
const loadBeforeKillMs = 1500;
const loadAfterKillMs = 1000;

let etcd: EtcdCluster;
const started: ServerProcess[] = [];
const directory = mkdtempSync(join(tmpdir(), 'mbdir-apply-crash-'));

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
}, 60_000);

afterAll(async () => {
  for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function startNode(dataDir: string): Promise<ServerProcess> {
  const node = await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', prefix], { dataDir });
  started.push(node);
  return node;
}

/** One record as both sides show it: what a lost change would make differ. */
function summary(record: Message): string {
  const acl = ((record['acl'] as Message[] | undefined) ?? []).map((entry) => `${String(entry['identifier'])}=${String(entry['rights'])}`);
  return `${String(record['name'])} ${String(record['uniqueid'])} ${String(record['server'])} r${Number(record['revision'])} [${acl.join(',')}]`;
}

async function scanOf(client: MbdirClient, minRevision: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const record of client.scanMailboxes({ min_revision: minRevision })) lines.push(summary(record as unknown as Message));
  return lines.sort();
}

/** Every mailbox record in etcd's hierarchy values under the prefix (revision 0 reads as the key's mod_revision). */
async function etcdRecords(): Promise<string[]> {
  const url = `${etcd.members[0]?.clientUrl ?? ''}/v3/kv/range`;
  const key = Buffer.from(`${prefix}/hier/`);
  const end = Buffer.from(key);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  const response = await fetch(url, { method: 'POST', body: JSON.stringify({ key: key.toString('base64'), range_end: end.toString('base64') }) });
  const body = (await response.json()) as { kvs?: Array<{ value: string; mod_revision: string }> };
  const lines: string[] = [];
  for (const kv of body.kvs ?? []) {
    const value = JSON.parse(Buffer.from(kv.value, 'base64').toString()) as { mailboxes: Message[] };
    for (const record of value.mailboxes) {
      const revision = Number(record['revision']) === 0 ? Number(kv.mod_revision) : Number(record['revision']);
      lines.push(summary({ ...record, revision }));
    }
  }
  return lines.sort();
}

/** Writes through `client` until `signal` stops it: folders created, then renamed, given an ACL, some deleted. */
async function writeLoad(client: MbdirClient, tag: string, signal: { stop: boolean }): Promise<number> {
  let next = 0;
  let newest = 0;
  const writer = async (): Promise<void> => {
    while (!signal.stop) {
      const index = next;
      next += 1;
      const name = `user.u${index % users}.${tag}${index}`;
      try {
        newest = Math.max(newest, (await client.createMailbox({ mailbox: { name } })).revision);
        if (index % 3 === 0) await client.setAcl({ name, identifier: `reader${index}`, rights: 'lrs' });
        if (index % 4 === 0) await client.renameMailbox({ name, new_name: `${name}r` });
        else if (index % 5 === 0) await client.deleteMailbox({ name });
      } catch {
        // The node killed under load refuses its calls: that is the test. A refusal may come
        // without I/O; pausing lets the timers that end the load run.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: writersPerNode }, writer));
  return newest;
}

it('a node SIGKILLed while applying under write load restarts with a view equal to etcd', async () => {
  const victim = await startNode(join(directory, 'victim'));
  const survivor = await startNode(join(directory, 'survivor'));
  const client = survivor.client();
  await registerServers(client, ['imap1', 'imap2']);
  for (let user = 0; user < users; user += 1) await client.createMailbox({ mailbox: { name: `user.u${user}` } });
  const signal = { stop: false };
  const load = Promise.all([writeLoad(victim.client(), 'a', signal), writeLoad(client, 'b', signal)]);
  await new Promise((resolve) => setTimeout(resolve, loadBeforeKillMs));
  await victim.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, loadAfterKillMs));
  signal.stop = true;
  await load;
  const newest = (await client.status())['applied_revision'];
  const restarted = await startNode(join(directory, 'victim'));
  const expected = await etcdRecords();
  expect(expected.length).toBeGreaterThan(users);
  expect(await scanOf(restarted.client(), Number(newest))).toEqual(expected);
  expect(await scanOf(client, Number(newest))).toEqual(expected);
}, 120_000);
