/**
 * The etcd engine against a real 3-member etcd cluster and real mbdir node
 * processes on loopback ports. One etcd cluster serves the whole file; each
 * test uses its own key prefix, so tests do not see each other's data. Tests
 * that kill etcd members run last and restore the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, type MbdirClient, type Message } from '../../src/client/client.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let etcd: EtcdCluster;
const started: ServerProcess[] = [];

beforeAll(async () => {
  etcd = await EtcdCluster.start(3);
});

afterAll(async () => {
  for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
});

async function startNode(prefix: string, options: { dataDir?: string; extra?: string[] } = {}): Promise<ServerProcess> {
  const node = await startServer(
    ['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', prefix, ...(options.extra ?? [])],
    options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  );
  started.push(node);
  return node;
}

function mailbox(name: string, uniqueid: string, server = 'imap1'): Message {
  return { mailbox: { name, uniqueid, server, partition: 'default' } };
}

async function scanAll(client: MbdirClient, minRevision: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const record of client.stream('ScanMailboxes', { min_revision: minRevision })) {
    lines.push(JSON.stringify(record));
  }
  return lines;
}

async function errorOf(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('etcd engine, 3-member etcd cluster', () => {
  it('a write through node A is read through node B with min_revision, and B streams it on Watch', async () => {
    const [a, b] = [await startNode('/t-basic'), await startNode('/t-basic')];
    const clientA = a.client();
    const clientB = b.client();
    const watch = new AbortController();
    const seen: Message[] = [];
    const watching = (async () => {
      for await (const event of clientB.stream('Watch', { from_revision: 1 }, watch.signal)) {
        seen.push(event);
        if ((event['mailbox'] as Message | undefined)?.['name'] === 'user.alice') break;
      }
    })().catch(() => undefined);
    const created = await clientA.mailbox('CreateMailbox', mailbox('user.alice', 'uid-alice'));
    const revision = Number(created['revision']);
    expect(revision).toBeGreaterThan(0);
    const read = await clientB.mailbox('GetMailbox', { name: 'user.alice', min_revision: revision });
    expect((read['mailbox'] as Message)['uniqueid']).toBe('uid-alice');
    expect(Number((read['mailbox'] as Message)['revision'])).toBe(revision);
    await watching;
    watch.abort();
    expect(seen.some((event) => (event['mailbox'] as Message | undefined)?.['name'] === 'user.alice')).toBe(true);
    const status = await clientB.status();
    expect(status['engine']).toBe('etcd');
    expect((status['etcd_endpoints'] as Message[]).length).toBe(3);
    expect(Number(status['applied_revision'])).toBeGreaterThanOrEqual(revision);
  });

  it('200 names raced through three nodes: one winner each, losers get ALREADY_EXISTS naming it', async () => {
    const nodes = [await startNode('/t-race'), await startNode('/t-race'), await startNode('/t-race')];
    const clients = nodes.map((node) => node.client());
    const names = Array.from({ length: 200 }, (_, index) => `user.race${index}`);
    const attempts = names.flatMap((name) =>
      clients.map(async (client, nodeIndex) => {
        try {
          await client.mailbox('CreateMailbox', mailbox(name, `${name.slice(5)}-n${nodeIndex}`));
          return { name, nodeIndex, won: true, error: '' };
        } catch (error) {
          if (!(error instanceof ClientError)) throw error;
          return { name, nodeIndex, won: false, error: `${error.codeName}: ${error.details}` };
        }
      }),
    );
    const outcomes = await Promise.all(attempts);
    let maxRevision = 0;
    for (const name of names) {
      const mine = outcomes.filter((outcome) => outcome.name === name);
      const winners = mine.filter((outcome) => outcome.won);
      expect(winners.length, name).toBe(1);
      const winnerId = `${name.slice(5)}-n${winners[0]?.nodeIndex}`;
      for (const loser of mine.filter((outcome) => !outcome.won)) {
        expect(loser.error).toMatch(/^ALREADY_EXISTS/);
        expect(loser.error).toContain(winnerId);
      }
      const status = await clients[0]?.status();
      maxRevision = Math.max(maxRevision, Number(status?.['applied_revision'] ?? 0));
    }
    const scans = await Promise.all(clients.map((client) => scanAll(client, maxRevision)));
    expect(scans[0]?.length).toBe(200);
    expect(scans[1]).toEqual(scans[0]);
    expect(scans[2]).toEqual(scans[0]);
  });

  it('a replica pair registered through two nodes is one mailbox with a replica', async () => {
    const [a, b] = [await startNode('/t-replica'), await startNode('/t-replica')];
    await a.client().mailbox('CreateMailbox', mailbox('user.pair', 'uid-pair', 'imap1'));
    const second = await b.client().mailbox('CreateMailbox', mailbox('user.pair', 'uid-pair', 'imap2'));
    expect(second['outcome']).toBe('REPLICA_ADDED');
    const read = await a.client().mailbox('GetMailbox', { name: 'user.pair', min_revision: Number(second['revision']) });
    const record = read['mailbox'] as Message;
    expect(record['server']).toBe('imap1');
    expect((record['replicas'] as Message[]).map((replica) => replica['server'])).toEqual(['imap2']);
  });
});
