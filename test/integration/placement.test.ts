// Placement against the real server: create-on-server (sub-folder to the
// user's server, new user to the business's home, else least-loaded UP server
// by users per weight, never DRAINING or DOWN), servers, businesses,
// ResolveUser, PlanRebalance, guarded MoveUser, MarkUserMoving; and the
// Cluster.Status, gRPC health and reflection services.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { create, expectError, scanAll } from '../helpers/integration.js';
import type { ServerLoad__Output } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer();
  client = node.client();
});

afterAll(async () => {
  await node?.stop();
});

async function serverOf(name: string): Promise<string> {
  return String(((await client.getMailbox({ name }))['mailbox']!)['server']);
}

async function loads(): Promise<Map<string, ServerLoad__Output>> {
  const response = await client.listServers({});
  return new Map((response['servers']).map((load) => [String((load['server']!)['name']), load]));
}

describe('create-on-server placement', () => {
  it('refuses with FAILED_PRECONDITION while no server is UP', async () => {
    await expectError(create(client, { name: 'user.early' }), 'FAILED_PRECONDITION', /no UP server/);
    await client.putServer({ name: 'p3', state: 'DRAINING', imap_address: '127.0.0.1:3143' });
    await client.putServer({ name: 'p4', state: 'DOWN' });
    await expectError(create(client, { name: 'user.early' }), 'FAILED_PRECONDITION', /user\.early/);
  });

  it('places new users on the least-loaded UP server by users per weight', async () => {
    await client.putServer({ name: 'p1', weight: 1, imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });
    await client.putServer({ name: 'p2', weight: 3, imap_address: '127.0.0.1:2143', lmtp_address: '[::1]:2024' });
    for (let index = 1; index <= 8; index += 1) await create(client, { name: `user.u${index}` });
    const byServer = await loads();
    expect(byServer.get('p1')?.['users']).toBe(2);
    expect(byServer.get('p2')?.['users']).toBe(6);
    expect(byServer.get('p3')?.['users']).toBe(0);
    expect(byServer.get('p4')?.['users']).toBe(0);
    expect(byServer.get('p2')?.['server']).toMatchObject({ state: 'UP', weight: 3, lmtp_address: '[::1]:2024' });
  });

  it("places a sub-folder on its user's server, whatever the load", async () => {
    const home = await serverOf('user.u1');
    for (const folder of ['Sent', 'Trash', 'Sent.2024']) await create(client, { name: `user.u1.${folder}` });
    for (const folder of ['Sent', 'Trash', 'Sent.2024']) expect(await serverOf(`user.u1.${folder}`)).toBe(home);
    const byServer = await loads();
    expect(Number(byServer.get(home)?.['mailboxes'])).toBeGreaterThanOrEqual(4);
  });

  it("places a new user on their business's home server, but never on a DRAINING one", async () => {
    await client.putBusiness({ id: 'acme', home_server: 'p1' });
    await client.setUserBusiness({ user: 'acmeuser', business: 'acme' });
    await create(client, { name: 'user.acmeuser' });
    expect(await serverOf('user.acmeuser')).toBe('p1');

    await client.putBusiness({ id: 'leaving', home_server: 'p3' });
    await client.setUserBusiness({ user: 'leaver', business: 'leaving' });
    await create(client, { name: 'user.leaver' });
    expect(['p1', 'p2']).toContain(await serverOf('user.leaver'));
  });
});

describe('create-on-server for shared folders and domain users', () => {
  it("places a shared sub-folder on its parent's server", async () => {
    await create(client, { name: 'shared.placed', server: 'p1' });
    await create(client, { name: 'shared.placed.child' });
    expect(await serverOf('shared.placed.child')).toBe('p1');
  });

  it('resolves a domain user to their domain hierarchy', async () => {
    await create(client, { name: 'example.com!user.dora', server: 'p2' });
    await create(client, { name: 'example.com!user.dora.Sent' });
    expect(await serverOf('example.com!user.dora.Sent')).toBe('p2');
    expect(await client.resolveUser({ user: 'dora@example.com' })).toMatchObject({ server: 'p2', lmtp_address: '[::1]:2024' });
    await expectError(client.resolveUser({ user: 'dora' }), 'NOT_FOUND');
  });
});

describe('servers, businesses, users', () => {
  it('refuses a business whose home server is unknown, and a user of an unknown business', async () => {
    await expectError(client.putBusiness({ id: 'ghost', home_server: 'nowhere' }), 'FAILED_PRECONDITION', /"nowhere" is not a registered server.*mbdir server-put/);
    await expectError(client.setUserBusiness({ user: 'u1', business: 'ghost' }), 'NOT_FOUND', /ghost/);
  });

  it('resolves a user to server and addresses, NOT_FOUND for an unknown user', async () => {
    await create(client, { name: 'user.resolved', server: 'p1' });
    const resolved = await client.resolveUser({ user: 'resolved' });
    expect(resolved).toMatchObject({
      user: 'resolved',
      server: 'p1',
      partition: 'default',
      imap_address: '127.0.0.1:1143',
      lmtp_address: '127.0.0.1:1024',
      moving: false,
    });
    await expectError(client.resolveUser({ user: 'nobody-here' }), 'NOT_FOUND', /nobody-here/);
  });
});

describe('rebalance plan and moves', () => {
  it('plans users away from their business home and off DRAINING servers', async () => {
    await client.putBusiness({ id: 'blue', home_server: 'p1' });
    await create(client, { name: 'user.misplaced', server: 'p2' });
    await client.setUserBusiness({ user: 'misplaced', business: 'blue' });
    await create(client, { name: 'user.drained', server: 'p3' });
    const plan = await client.planRebalance({});
    const moves = new Map((plan['moves']).map((move) => [String(move['user']), move]));
    expect(moves.get('misplaced')).toMatchObject({ from_server: 'p2', to_server: 'p1', reason: 'business-home', business: 'blue' });
    expect(moves.get('drained')).toMatchObject({ from_server: 'p3', reason: 'draining' });
    expect(['p1', 'p2']).toContain(moves.get('drained')?.['to_server']);
    expect(moves.has('acmeuser')).toBe(false);
    expect(Number(plan['total'])).toBe(moves.size);
  });

  it('refuses a move from the wrong server with FAILED_PRECONDITION, changing nothing', async () => {
    await create(client, { name: 'user.mover', server: 'p2' });
    await create(client, { name: 'user.mover.Sent' });
    const before = await scanAll(client);
    await expectError(
      client.moveUser({ user: 'mover', from_server: 'p1', to_server: 'p2' }),
      'FAILED_PRECONDITION',
      /mover.*p1/,
    );
    await expectError(client.moveUser({ user: 'mover', from_server: 'p2', to_server: 'p4' }), 'FAILED_PRECONDITION', /DOWN/);
    expect(await scanAll(client)).toEqual(before);
  });

  it('marks a user moving, then moves the whole hierarchy and clears the mark', async () => {
    const marked = await client.markUserMoving({ user: 'mover', from_server: 'p2', to_server: 'p1' });
    expect(Number(marked['hierarchy_mailboxes'])).toBe(2);
    expect(await client.resolveUser({ user: 'mover' })).toMatchObject({ server: 'p2', moving: true, moving_to: 'p1' });
    const moved = await client.moveUser({ user: 'mover', from_server: 'p2', to_server: 'p1' });
    expect((moved['mailboxes']).map((mailbox) => [mailbox['name'], mailbox['server']])).toEqual([
      ['user.mover', 'p1'],
      ['user.mover.Sent', 'p1'],
    ]);
    const resolved = await client.resolveUser({ user: 'mover', min_revision: moved['revision'] });
    expect(resolved).toMatchObject({ server: 'p1', imap_address: '127.0.0.1:1143', moving: false });
    expect(await serverOf('user.mover.Sent')).toBe('p1');
  });
});

describe('Cluster.Status, health and reflection', () => {
  it('reports engine, node id, applied revision and mailbox count', async () => {
    const status = await client.status();
    const scanned = await scanAll(client, { include_reserved: true });
    expect(status).toMatchObject({ engine: 'standalone', mailboxes: scanned.length });
    expect(String(status['node_id'])).not.toBe('');
    expect(Number(status['applied_revision'])).toBeGreaterThan(0);
  });

  it('answers the standard gRPC health check with SERVING', async () => {
    const Health = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health');
    const health = new Health(node.endpoint, grpc.credentials.createInsecure()) as unknown as {
      Check(request: Message, callback: (error: grpc.ServiceError | null, response: Message) => void): void;
      close(): void;
    };
    try {
      for (const service of ['', 'mbdir.v1.Mailboxes', 'mbdir.v1.Placement', 'mbdir.v1.Cluster']) {
        const response = await new Promise<Message>((resolve, reject) =>
          health.Check({ service }, (error, answer) => (error === null ? resolve(answer) : reject(error))),
        );
        expect(response['status']).toBe('SERVING');
      }
    } finally {
      health.close();
    }
  });

  it('offers server reflection listing the mbdir.v1 services', async () => {
    const require = createRequire(import.meta.url);
    const protoPath = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const definition = protoLoader.loadSync(protoPath, { keepCase: true, defaults: true, oneofs: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const reflection = new loaded.grpc.reflection.v1.ServerReflection(node.endpoint, grpc.credentials.createInsecure());
    try {
      const call = (reflection as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<Message, Message> }).ServerReflectionInfo();
      const answer = new Promise<Message>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
      });
      call.write({ list_services: '' });
      const response = await answer;
      call.end();
      const services = ((response['list_services_response'] as Message)['service'] as Message[]).map((entry) => entry['name']);
      expect(services).toEqual(expect.arrayContaining(['mbdir.v1.Mailboxes', 'mbdir.v1.Placement', 'mbdir.v1.Cluster']));
    } finally {
      reflection.close();
    }
  });
});
