/**
 * The etcd-cluster procedures of docs/operations.md, on a real etcd and real
 * nodes: a node started on an empty data directory rebuilds its copy from etcd
 * and answers the same scan as a node that was there all along; a node
 * restored from another node's backup catches up from the backup's revision
 * with the writes made since, and answers the same scan too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { etcdNodesForFile } from '../helpers/etcd-nodes.js';
import { registerServers } from '../helpers/integration.js';
import { runCli, type ServerProcess } from '../helpers/server-process.js';

const nodes = etcdNodesForFile('rebuild');
const { directory, started } = nodes;
const prefix = '/rebuild';

function startNode(dataDir: string): Promise<ServerProcess> {
  return nodes.start(prefix, dataDir);
}

async function scan(client: MbdirClient, minRevision: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const record of client.scanMailboxes({ min_revision: minRevision })) lines.push(JSON.stringify(record));
  return lines;
}

/** Creates, renames and deletes a few mailboxes; resolves with the revision of the last write. */
async function writeSome(client: MbdirClient, tag: string, count: number): Promise<number> {
  await registerServers(client, ['imap1']);
  let revision = 0;
  for (let index = 0; index < count; index += 1) {
    const answer = await client.createMailbox({ mailbox: { name: `user.${tag}${index}`, server: 'imap1', partition: 'default' } });
    revision = Number(answer['revision']);
  }
  revision = Number((await client.renameMailbox({ name: `user.${tag}0`, new_name: `user.${tag}renamed` }))['revision']);
  revision = Number((await client.deleteMailbox({ name: `user.${tag}1` }))['revision']);
  return revision;
}

describe('rebuilding a node of an etcd cluster', () => {
  it('a node on an empty data directory answers the same scan as the node that wrote', async () => {
    const first = await startNode(join(directory, 'first'));
    const client = first.client();
    const revision = await writeSome(client, 'a', 30);
    const rebuilt = await startNode(join(directory, 'empty'));
    const expected = await scan(client, revision);
    expect(expected.length).toBe(29);
    expect(await scan(rebuilt.client(), revision)).toEqual(expected);
  }, 60_000);

  it('a node restored from a backup catches up with the writes made since', async () => {
    const [first] = started;
    if (first === undefined) throw new Error('the first test starts the node');
    const file = join(directory, 'first.backup');
    const backup = await runCli(['--endpoint', first.endpoint, 'backup', '--out', file]);
    expect(backup.code).toBe(0);
    const after = await writeSome(first.client(), 'b', 10);
    const restoreDir = join(directory, 'restored');
    expect((await runCli(['restore', file, '--data-dir', restoreDir])).code).toBe(0);
    const restored = await startNode(restoreDir);
    expect(await scan(restored.client(), after)).toEqual(await scan(first.client(), after));
  }, 60_000);
});
