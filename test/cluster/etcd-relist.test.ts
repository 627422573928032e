/**
 * The relist of the etcd engine on a real 1-member etcd and real nodes: a node
 * on an empty data directory loads a keyspace of many pages (and of more keys
 * than one relist window spans) and its scan equals the records etcd holds; a
 * node stopped past a compaction, while records were deleted, renamed, changed,
 * added and a swept hierarchy vanished, relists to etcd's state; a node
 * SIGKILLed mid-relist restarts, relists again before serving, and equals
 * etcd. Each view is compared with every hierarchy value read from etcd.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { EtcdClient } from '../../src/replication/etcd-client.js';
import { Keyspace } from '../../src/replication/etcd-keyspace.js';
import { bulkLoadIncompleteKey, relistIncompleteKey } from '../../src/store/store.js';
import { fillEtcdKeyspace } from '../../tools/bench/etcd-join.js';
import { defaultShape } from '../../tools/bench/generate.js';
import { etcdNodesForFile } from '../helpers/etcd-nodes.js';
import { etcdRecordSummaries, scanSummaries } from '../helpers/etcd-view.js';
import { registerServers } from '../helpers/integration.js';
import { mbdirEntry, type ServerProcess } from '../helpers/server-process.js';


/** Users of the filled keyspace: more hierarchy keys than a relist window spans, so windows narrow. */
const filledUsers = Math.ceil(limits.etcdRelistPageKeysMax * limits.etcdRelistWindowPagesMax * 1.5);
const filledShape = { ...defaultShape, users: filledUsers, foldersPerUser: 4, publicFolders: 3, seed: 7 };
/** Users written through a node: more hierarchies than one relist page. */
const writtenUsers = limits.etcdRelistPageKeysMax + 30;

const nodes = etcdNodesForFile('relist');
const { directory, started } = nodes;

function startNode(prefix: string, dataDir: string): Promise<ServerProcess> {
  return nodes.start(prefix, dataDir, 40_000);
}

/** Creates `count` users (a root and a folder each) through `client`, 8 at a time; the newest revision. */
async function createUsers(client: MbdirClient, tag: string, count: number): Promise<number> {
  let newest = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_unused, lane) => {
      for (let index = lane; index < count; index += 8) {
        for (const name of [`user.${tag}${index}`, `user.${tag}${index}.Sent`]) {
          newest = Math.max(newest, Number((await client.createMailbox({ mailbox: { name, server: 'imap1', partition: 'default' } }))['revision']));
        }
      }
    }),
  );
  return newest;
}

/** Which unfinished-work marks a stopped node's database holds. */
function marks(dataDir: string): { relist: boolean; bulkLoad: boolean } {
  const db = new Database(join(dataDir, 'mbdir.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const mark = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    return { relist: mark.get(relistIncompleteKey) !== undefined, bulkLoad: mark.get(bulkLoadIncompleteKey) !== undefined };
  } finally {
    db.close();
  }
}

describe('relisting etcd into a node', () => {
  it('a node on an empty data directory relists many pages of hierarchies, and its view equals etcd', async () => {
    const writer = await startNode('/written', join(directory, 'writer'));
    await registerServers(writer.client(), ['imap1']);
    let revision = await createUsers(writer.client(), 'w', writtenUsers);
    await writer.client().deleteMailbox({ name: 'user.w1.Sent' });
    revision = Number((await writer.client().renameMailbox({ name: 'user.w2', new_name: 'user.w2renamed' }))['revision']);
    const fresh = await startNode('/written', join(directory, 'fresh'));
    const expected = await etcdRecordSummaries(nodes.etcd.members[0]?.clientUrl ?? '', '/written');
    expect(expected.length).toBe(writtenUsers * 2 - 1);
    // Served at once: the relist ran before the node printed where it serves.
    expect(await scanSummaries(fresh.client())).toEqual(expected);
    expect(await scanSummaries(writer.client(), revision)).toEqual(expected);
  }, 60_000);

  it('a node stopped past a compaction relists deletes, renames, changes, creates and a swept hierarchy', async () => {
    const writer = started[0];
    if (writer === undefined) throw new Error('the first test starts the writer');
    const dataDir = join(directory, 'stopped');
    let node = await startNode('/written', dataDir);
    const stoppedAt = await nodes.etcd.revision();
    expect(await scanSummaries(node.client(), stoppedAt)).toEqual(await etcdRecordSummaries(nodes.etcd.members[0]?.clientUrl ?? '', '/written'));
    await node.stop('SIGTERM');
    const client = writer.client();
    await client.deleteMailbox({ name: 'user.w3.Sent' });
    await client.deleteMailbox({ name: 'user.w4.Sent' });
    await client.deleteMailbox({ name: 'user.w4' });
    await client.renameMailbox({ name: 'user.w5', new_name: 'user.w5moved' });
    await client.renameMailbox({ name: 'user.w6.Sent', new_name: 'user.w6.Archive' });
    await client.setAcl({ name: 'user.w7', identifier: 'reader', rights: 'lrs' });
    await client.createMailbox({ mailbox: { name: 'user.w4', server: 'imap1', partition: 'default' } });
    await createUsers(client, 'late', 3);
    // The sweep removes an emptied hierarchy's tombstone: its key is gone, not merely empty.
    await client.deleteMailbox({ name: 'user.w8.Sent' });
    await client.deleteMailbox({ name: 'user.w8' });
    const etcdClient = new EtcdClient([nodes.etcd.endpoints()]);
    try {
      await etcdClient.txn({ compare: [], success: [{ request_delete_range: { key: Buffer.from(new Keyspace('/written').key('hier', 'user.w8')) } }], failure: [] });
    } finally {
      etcdClient.close();
    }
    const last = await nodes.etcd.revision();
    await nodes.etcd.compact(last);
    node = await startNode('/written', dataDir);
    const expected = await etcdRecordSummaries(nodes.etcd.members[0]?.clientUrl ?? '', '/written');
    expect(expected.some((line) => line.startsWith('user.w8 '))).toBe(false);
    expect(await scanSummaries(node.client(), last)).toEqual(expected);
    expect(node.stderr()).toMatch(/compacted past this node; relisting/);
  }, 60_000);

  it('a node SIGKILLed mid-relist relists again before serving, and its view equals etcd', async () => {
    const prefix = '/filled';
    const etcdClient = new EtcdClient([nodes.etcd.endpoints()]);
    try {
      await fillEtcdKeyspace(etcdClient, new Keyspace(prefix), { shape: filledShape, deletedUsers: 200 });
    } finally {
      etcdClient.close();
    }
    const dataDir = join(directory, 'killed');
    // Spawned here, not through startServer: it is killed before it prints where it serves.
    const child = spawn(
      process.execPath,
      [mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'info', '--synchronous', 'NORMAL',
        '--engine', 'etcd', '--etcd-endpoints', nodes.etcd.endpoints(), '--etcd-prefix', prefix],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Killed as soon as it says it bulk loads: the journal is off, the load half written.
      await new Promise<void>((resolve, reject) => {
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('bulk loading the empty local copy')) resolve();
        });
        child.once('exit', () => reject(new Error(`the node exited before its relist: ${stderr}`)));
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(marks(dataDir)).toEqual({ relist: true, bulkLoad: true });
    const restarted = await startNode(prefix, dataDir);
    const expected = await etcdRecordSummaries(nodes.etcd.members[0]?.clientUrl ?? '', prefix);
    expect(expected.length).toBe(filledUsers * filledShape.foldersPerUser + filledShape.publicFolders);
    expect(await scanSummaries(restarted.client())).toEqual(expected);
    expect(marks(dataDir)).toEqual({ relist: false, bulkLoad: false });
  }, 60_000);
});
