/**
 * Fail-over of writes between etcd members (issue W0 item 7), against a real
 * 3-member etcd cluster and a real mbdir node. A write whose txn was never sent
 * (the member it went to refused the connection) goes to another member within
 * the same call; a failure message says what is true (which endpoint refused,
 * whether quorum is known lost) and carries no raw grpc-js text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let etcd: EtcdCluster;
let node: ServerProcess | undefined;
/** The member the node is attached to: a follower, first in the node's endpoint list. */
let attached = -1;
/** Callers writing at once while the member is killed. */
const writersAtOnce = 12;

beforeAll(async () => {
  etcd = await EtcdCluster.start(3);
  const leader = await etcd.leader();
  attached = [0, 1, 2].find((index) => index !== leader) ?? 0;
  const order = [attached, ...[0, 1, 2].filter((index) => index !== attached)];
  const endpoints = order.map((index) => etcd.members[index]?.clientUrl).join(',');
  node = await startServer(['--engine', 'etcd', '--etcd-endpoints', endpoints, '--etcd-prefix', '/t-failover']);
  await registerServers(node.client(), ['imap1']);
});

afterAll(async () => {
  await node?.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
});

function mailbox(name: string): Message {
  return { mailbox: { name, uniqueid: `id-${name.replaceAll('.', '-')}`, server: 'imap1', partition: 'default' } };
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

describe('etcd write fail-over', () => {
  it('the member the node is attached to is killed under write load: no write is refused while quorum holds', async () => {
    const client = (node as ServerProcess).client();
    await client.createMailbox(mailbox('user.before'));
    const failures: string[] = [];
    let created = 0;
    let writing = true;
    let sequence = 0;
    // No retry here: the node itself must take each write to a member that answers, also
    // when many calls meet the refused member at once.
    const writer = async (): Promise<void> => {
      while (writing) {
        try {
          await client.createMailbox(mailbox(`user.w${(sequence += 1)}`));
          created += 1;
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const writers = Array.from({ length: writersAtOnce }, () => writer());
    while (created < 20) await new Promise((resolve) => setTimeout(resolve, 10));
    await etcd.kill(attached);
    const killedAt = created;
    while (created < killedAt + 100) await new Promise((resolve) => setTimeout(resolve, 10));
    writing = false;
    await Promise.all(writers);
    // A write in flight when the member died may have committed: that one may say it cannot tell.
    // None may claim quorum is lost, and none that was never sent may fail.
    const wrong = failures.filter((failure) => !/whether it committed cannot be told/.test(failure));
    expect(wrong).toEqual([]);
    expect(failures.length).toBeLessThanOrEqual(writersAtOnce);
    const later = await client.createMailbox(mailbox('user.later'));
    expect(later['outcome']).toBe('CREATED');
  });

  it('with quorum really lost, the message says so and names the refusing endpoint, without grpc-js text', async () => {
    const client: MbdirClient = (node as ServerProcess).client();
    const second = [0, 1, 2].find((index) => index !== attached && etcd.members[index]?.process !== undefined) ?? 0;
    await etcd.kill(second);
    const error = await errorOf(client.createMailbox(mailbox('user.lost')));
    expect(error.codeName).toBe('UNAVAILABLE');
    expect(error.details).toMatch(/quorum (is )?lost/);
    expect(error.details).toContain(etcd.members[attached]?.clientUrl ?? 'none');
    expect(error.details).not.toMatch(/Resolution note|Last error/);
    etcd.startMember(attached);
    etcd.startMember(second);
    await etcd.waitHealthy();
  });
});
