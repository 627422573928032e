/**
 * The remaining RPCs end to end: lookups (unary and streaming), scans with
 * filters, SyncServer's difference, the rebalance plan, guarded moves, the
 * moving mark, status, the gRPC health service and reflection.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import type { LookupResult__Output, LookupStreamResponse__Output, Mailbox__Output, ScanMailboxesRequest } from '../../src/client/messages.js';

let server: ServerProcess;
let client: MbdirClient;

const names = (mailboxes: readonly Mailbox__Output[]): string[] => mailboxes.map((mailbox) => mailbox.name);

async function scan(request: ScanMailboxesRequest): Promise<Mailbox__Output[]> {
  const out: Mailbox__Output[] = [];
  for await (const item of client.scanMailboxes(request)) out.push(item);
  return out;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'OK',
    (error: unknown) => (error instanceof ClientError ? error.codeName : String(error)),
  );
}

beforeAll(async () => {
  server = await startServer();
  client = server.client();
  for (const name of ['s1', 's2', 's3']) {
    await client.putServer({ name, imap_address: `127.0.0.${name.slice(1)}:143`, lmtp_address: `127.0.0.${name.slice(1)}:24` });
  }
  const mailboxes = [
    ['user.amy', 'amy-1', 's1'],
    ['user.amy.Sent', 'amy-2', 's1'],
    ['user.ben', 'ben-1', 's2'],
    ['example.com!user.cat', 'cat-1', 's1'],
    ['shared.news', 'news-1', 's3'],
  ];
  for (const [name = '', uniqueid = '', location = ''] of mailboxes) {
    await client.createMailbox({ mailbox: { name, uniqueid, server: location, acl: [{ identifier: 'anyone', rights: 'lr' }] } });
  }
  await client.createMailbox({ mailbox: { name: 'user.ben', uniqueid: 'ben-1', server: 's3' } });
});

afterAll(async () => {
  await server?.stop();
});

describe('lookups and scans', () => {
  it('looks names up in order, found or not', async () => {
    const response = await client.lookupMailboxes({ names: ['user.ben', 'user.nobody', 'user.amy'] });
    const results = response['results'];
    expect(results.map((result) => [result['name'], result['found']])).toEqual([
      ['user.ben', true],
      ['user.nobody', false],
      ['user.amy', true],
    ]);
  });

  it('streams lookups in order', async () => {
    const stream = client.lookupStream();
    const answers: LookupResult__Output[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (message: LookupStreamResponse__Output) => answers.push(...message.results));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (const name of ['user.amy.Sent', 'user.none', 'shared.news']) stream.write({ name });
    stream.end();
    await done;
    expect(answers.map((answer) => [answer['name'], answer['found']])).toEqual([
      ['user.amy.Sent', true],
      ['user.none', false],
      ['shared.news', true],
    ]);
  });

  it('scans in Cyrus order, by server (replicas included) and by prefix', async () => {
    expect(names(await scan({}))).toEqual([
      'example.com!user.cat',
      'shared.news',
      'user.amy',
      'user.amy.Sent',
      'user.ben',
    ]);
    expect(names(await scan({ server: 's3' }))).toEqual(['shared.news', 'user.ben']);
    expect(names(await scan({ prefix: 'user.amy' }))).toEqual(['user.amy', 'user.amy.Sent']);
  });

  it('shows a domain user only their domain', async () => {
    const listed = await client.listMailboxes({ user: 'cat@example.com', pattern: '*' });
    expect((listed['mailboxes']).map((entry) => (entry['mailbox']!)['name'])).toEqual(['example.com!user.cat']);
  });
});

describe('SyncServer', () => {
  it('reports the difference on a dry run without applying it, then applies it', async () => {
    const list = [
      { name: 'user.amy', uniqueid: 'amy-1', acl: [{ identifier: 'anyone', rights: 'lr' }] },
      { name: 'user.amy.Drafts', uniqueid: 'amy-3' },
      { name: 'user.ben', uniqueid: 'ben-9' },
    ];
    const dry = await client.syncServer('s1', true, [list as never]);
    expect(dry).toMatchObject({ applied: false, added_count: 1, removed_count: 2, conflicting_count: 1, unchanged: 1 });
    expect(names(dry['removed'])).toEqual(['example.com!user.cat', 'user.amy.Sent']);
    expect(String((dry['conflicting'])[0]?.['reason'])).toMatch(/ben-1 on server s2/);
    expect(await codeOf(client.getMailbox({ name: 'user.amy.Drafts' }))).toBe('NOT_FOUND');
    const applied = await client.syncServer('s1', false, [list as never]);
    expect(applied).toMatchObject({ applied: true, added_count: 1, removed_count: 2, conflicting_count: 1 });
    expect(names(await scan({ server: 's1' }))).toEqual(['user.amy', 'user.amy.Drafts']);
    expect(((await client.getMailbox({ name: 'user.ben' }))['mailbox']!)['uniqueid']).toBe('ben-1');
  });
});

describe('rebalance primitives', () => {
  it('plans misplaced users, marks a move, refuses a wrong guard and commits a right one', async () => {
    await client.putBusiness({ id: 'globex', home_server: 's2' });
    await client.setUserBusiness({ user: 'amy', business: 'globex' });
    const plan = await client.planRebalance({});
    expect(plan['moves']).toEqual([expect.objectContaining({ user: 'amy', from_server: 's1', to_server: 's2', reason: 'business-home' })]);
    const mark = await client.markUserMoving({ user: 'amy', from_server: 's1', to_server: 's2' });
    expect((await client.resolveUser({ user: 'amy' }))['moving']).toBe(true);
    expect(await codeOf(client.moveUser({ user: 'amy', from_server: 's3', to_server: 's2' }))).toBe('FAILED_PRECONDITION');
    await client.createMailbox({ mailbox: { name: 'user.amy.New', uniqueid: 'amy-4', server: 's1' } });
    const stale = client.moveUser({
      user: 'amy',
      from_server: 's1',
      to_server: 's2',
      expect_revision: mark['hierarchy_revision'],
      expect_mailboxes: mark['hierarchy_mailboxes'],
    });
    expect(await codeOf(stale)).toBe('ALREADY_EXISTS');
    const moved = await client.moveUser({ user: 'amy', from_server: 's1', to_server: 's2' });
    expect((moved['mailboxes']).every((mailbox) => mailbox['server'] === 's2')).toBe(true);
    const resolved = await client.resolveUser({ user: 'amy' });
    expect(resolved).toMatchObject({ server: 's2', moving: false, imap_address: '127.0.0.2:143' });
    expect((await client.planRebalance({}))['total']).toBe(0);
  });

  it('plans a DRAINING server empty, to the least-loaded UP server', async () => {
    await client.createMailbox({ mailbox: { name: 'user.dan', uniqueid: 'dan-1', server: 's3' } });
    await client.putServer({ name: 's3', imap_address: '127.0.0.3:143', state: 'DRAINING' });
    const plan = await client.planRebalance({});
    expect(plan['moves']).toEqual([expect.objectContaining({ user: 'dan', from_server: 's3', to_server: 's1', reason: 'draining' })]);
    const servers = await client.listServers({});
    const loads = Object.fromEntries((servers['servers']).map((load) => [(load['server']!)['name'], load['users']]));
    expect(loads).toEqual({ s1: 0, s2: 2, s3: 1 });
  });
});

describe('service plumbing', () => {
  it('answers status, the gRPC health check and reflection', async () => {
    expect(await client.status()).toMatchObject({ engine: 'standalone' });
    const health = new grpc.Client(server.endpoint, grpc.credentials.createInsecure());
    const serving = await new Promise<Buffer>((resolve, reject) => {
      health.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (value: Buffer) => value,
        (value: Buffer) => value,
        Buffer.alloc(0),
        (error, value) => (error === null && value !== undefined ? resolve(value) : reject(error)),
      );
    });
    expect([...serving]).toEqual([0x08, 0x01]); // status: SERVING
    health.close();
  });

  it('lists the health service and every mbdir.v1 service through reflection (what `grpcurl list` asks)', async () => {
    const listed = await reflect(server.endpoint, { list_services: '*' });
    const names = ((listed['list_services_response'] as Message)['service'] as Message[]).map((service) => service['name']);
    expect(names).toEqual(expect.arrayContaining(['grpc.health.v1.Health', 'mbdir.v1.Mailboxes', 'mbdir.v1.Placement', 'mbdir.v1.Cluster']));
    // `grpcurl describe grpc.health.v1.Health` asks for the file that declares it.
    const described = await reflect(server.endpoint, { file_containing_symbol: 'grpc.health.v1.Health' });
    expect(described['error_response']).toBeFalsy();
    expect((described['file_descriptor_response'] as Message)['file_descriptor_proto']).not.toHaveLength(0);
  });
});

/** One request through @grpc/reflection's own v1 protocol, as grpcurl sends it; its one answer. */
async function reflect(endpoint: string, request: Message): Promise<Message> {
  const reflectionRoot = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
  const definition = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [reflectionRoot], keepCase: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const reflection = new loaded.grpc.reflection.v1.ServerReflection(endpoint, grpc.credentials.createInsecure());
  try {
    const call = (reflection as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<Message, Message> }).ServerReflectionInfo();
    const answer = new Promise<Message>((resolve, reject) => {
      call.once('data', resolve);
      call.once('error', reject);
    });
    call.write(request);
    const response = await answer;
    call.end();
    return response;
  } finally {
    reflection.close();
  }
}
