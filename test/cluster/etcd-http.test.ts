// The HTTP adapter on the etcd engine: two mbdir nodes on one etcd member. A
// server's pop3_address written through one node travels the etcd keyspace and
// is answered by the other node's /v1/resolve and /auth; a move marked on one
// node turns the other's /auth answer into a retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let etcd: EtcdCluster;
const nodes: ServerProcess[] = [];
let writer: MbdirClient;

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
  for (let index = 0; index < 2; index += 1) {
    nodes.push(await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/http-test', '--http-listen', '127.0.0.1:0']));
  }
  writer = (nodes[0] as ServerProcess).client();
});

afterAll(async () => {
  for (const node of nodes) await node.stop();
  await etcd?.stop();
});

function readerHttp(): string {
  return (nodes[1] as ServerProcess).servingAddress('HTTP');
}

async function authStatus(user: string, protocol: string): Promise<[string | null, string | null]> {
  const response = await fetch(`http://${readerHttp()}/auth`, { headers: { 'Auth-User': user, 'Auth-Pass': 'pw', 'Auth-Protocol': protocol, 'Auth-Login-Attempt': '1' } });
  return [response.headers.get('auth-status'), response.headers.get('auth-port')];
}

describe('HTTP resolve on the etcd engine', () => {
  it("answers another node's writes, pop3_address included, and a move marked there", async () => {
    await writer.putServer({ name: 'b1', imap_address: '127.0.0.1:1143', pop3_address: '127.0.0.1:1110' });
    await writer.putServer({ name: 'b2', imap_address: '127.0.0.1:2143', pop3_address: '127.0.0.1:2110' });
    const created = await writer.createMailbox({ mailbox: { name: 'user.alice', server: 'b1' } });
    const resolved = await fetch(`http://${readerHttp()}/v1/resolve?user=alice&min_revision=${String(created['revision'])}`);
    expect(await resolved.json()).toMatchObject({ server: 'b1', pop3_address: '127.0.0.1:1110', availability: 'ready' });
    expect(await authStatus('alice', 'pop3')).toEqual(['OK', '1110']);

    const marked = await writer.markUserMoving({ user: 'alice', from_server: 'b1', to_server: 'b2' });
    await fetch(`http://${readerHttp()}/v1/resolve?user=alice&min_revision=${String(marked['revision'])}`);
    expect((await authStatus('alice', 'imap'))[0]).toBe('[UNAVAILABLE] Mailbox temporarily unavailable, try again shortly');

    const moved = await writer.moveUser({ user: 'alice', from_server: 'b1', to_server: 'b2' });
    await fetch(`http://${readerHttp()}/v1/resolve?user=alice&min_revision=${String(moved['revision'])}`);
    expect(await authStatus('alice', 'imap')).toEqual(['OK', '2143']);
  });
});
