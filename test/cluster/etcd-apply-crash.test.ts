/**
 * The etcd follower commits its view without fsync, many revisions per SQLite
 * transaction: a crash may lose the newest of them, rows and applied revision
 * together, and the node replays them from etcd on restart. Here a node is
 * SIGKILLed while it applies a stream of creates, renames, ACL changes and
 * deletes (written through it and through a second node), restarted on its
 * data directory, and its scan must equal the records etcd holds: every
 * hierarchy value under the prefix, read straight from etcd.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';

import { etcdNodesForFile } from '../helpers/etcd-nodes.js';
import { etcdRecordSummaries, scanSummaries } from '../helpers/etcd-view.js';
import { registerServers } from '../helpers/integration.js';
import type { ServerProcess } from '../helpers/server-process.js';

const prefix = '/crash';
const users = 200;
const writersPerNode = 16;
const loadBeforeKillMs = 1500;
const loadAfterKillMs = 1000;

const nodes = etcdNodesForFile('apply-crash');
const { directory } = nodes;

function startNode(dataDir: string): Promise<ServerProcess> {
  return nodes.start(prefix, dataDir);
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
  const expected = await etcdRecordSummaries(nodes.etcd.members[0]?.clientUrl ?? '', prefix);
  expect(expected.length).toBeGreaterThan(users);
  expect(await scanSummaries(restarted.client(), Number(newest))).toEqual(expected);
  expect(await scanSummaries(client, Number(newest))).toEqual(expected);
}, 120_000);
