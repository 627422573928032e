/**
 * MUPDATE on the etcd engine: two real mbdir nodes on one real etcd cluster,
 * each with its own MUPDATE listener. A backend's RESERVE/ACTIVATE through node
 * A's MUPDATE reaches a frontend following node B's UPDATE stream, and a
 * conflicting RESERVE through node B is refused by the shared truth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { literal, MupdateClient, mupdatePort } from '../helpers/mupdate-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let etcd: EtcdCluster;
const nodes: ServerProcess[] = [];
const clients: MupdateClient[] = [];

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
  for (let index = 0; index < 2; index += 1) {
    nodes.push(
      await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/mupdate', '--mupdate-listen', '127.0.0.1:0', '--node-id', `n${index}`]),
    );
  }
  await nodes[0]?.client().putServer({ name: 'backend1' });
  await nodes[0]?.client().putServer({ name: 'backend2' });
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const node of nodes) await node.stop().catch(() => undefined);
  await etcd?.stop();
});

async function login(node: ServerProcess | undefined): Promise<MupdateClient> {
  if (node === undefined) throw new Error('node not started');
  const client = await MupdateClient.login(mupdatePort(node));
  clients.push(client);
  return client;
}

describe('MUPDATE across two nodes on etcd', () => {
  it("a backend's writes through node A appear in an UPDATE stream on node B", async () => {
    const frontend = await login(nodes[1]);
    const dump = await frontend.command('U01', 'UPDATE', 10_000);
    expect(dump.endsWith('U01 OK "streaming starts"\r\n')).toBe(true);
    const start = frontend.received.length;

    const backend = await login(nodes[0]);
    expect(await backend.command('X0', `RESERVE ${literal('user.etcd')} ${literal('backend1!default')}`)).toBe('X0 OK "done"\r\n');
    expect(await backend.command('X1', `ACTIVATE ${literal('user.etcd')} ${literal('backend1!default')} ${literal('etcd\tlrs\t')}`)).toBe('X1 OK "done"\r\n');
    await frontend.waitFor((text) => text.slice(start).includes('U01 MAILBOX {9+}\r\nuser.etcd {16+}\r\nbackend1!default {9+}\r\netcd\tlrs\t\r\n'), 10_000);
    expect(await frontend.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');

    const other = await login(nodes[1]);
    expect(await other.command('X2', 'RESERVE "user.etcd" "backend2!default"')).toBe('X2 NO "mailbox already exists"\r\n');
    expect(await other.command('X3', 'FIND "user.etcd"')).toContain('X3 MAILBOX {9+}\r\nuser.etcd {16+}\r\nbackend1!default');

    await backend.command('X4', 'DELETE "user.etcd"');
    await frontend.waitFor((text) => text.slice(start).includes('U01 DELETE {9+}\r\nuser.etcd\r\n'), 10_000);
  }, 60_000);
});
