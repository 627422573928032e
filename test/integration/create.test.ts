// CreateMailbox against the real server: fresh names, safe retries, replica
// pairs, refused forks, request ids, generated uniqueids, and the two-phase
// RESERVE / ACTIVATE create.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { create, expectError, scanNames } from '../helpers/integration.js';
import type { Mailbox__Output } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });
  await client.putServer({ name: 'backend2', imap_address: '127.0.0.1:2143', lmtp_address: '127.0.0.1:2024' });
});

afterAll(async () => {
  await node?.stop();
});

async function appliedRevision(): Promise<number> {
  return Number((await client.status())['applied_revision']);
}

async function get(name: string): Promise<Mailbox__Output> {
  return (await client.getMailbox({ name }))['mailbox']!;
}

describe('CreateMailbox', () => {
  it('creates a free name and answers CREATED with the revision it committed at', async () => {
    const before = await appliedRevision();
    const response = await create(client, { name: 'user.c1', uniqueid: 'c1-id', server: 'backend1', acl: [{ identifier: 'c1', rights: 'lrs' }] });
    expect(response['outcome']).toBe('CREATED');
    expect(Number(response['revision'])).toBe(before + 1);
    const mailbox = await get('user.c1');
    expect(mailbox).toMatchObject({ uniqueid: 'c1-id', server: 'backend1', partition: 'default', mbtype: 'e', state: 'ACTIVE' });
    expect(Number(mailbox['revision'])).toBe(Number(response['revision']));
    expect(await appliedRevision()).toBe(before + 1);
  });

  it('answers ALREADY_PRESENT to a retry with the same name, uniqueid and server, changing nothing', async () => {
    const first = await create(client, { name: 'user.c2', uniqueid: 'c2-id', server: 'backend1' });
    const before = await appliedRevision();
    const retry = await create(client, { name: 'user.c2', uniqueid: 'c2-id', server: 'backend1' });
    expect(retry['outcome']).toBe('ALREADY_PRESENT');
    expect(Number(retry['revision'])).toBe(before);
    expect(await appliedRevision()).toBe(before);
    const mailbox = await get('user.c2');
    expect(Number(mailbox['revision'])).toBe(Number(first['revision']));
    expect(mailbox['replicas']).toEqual([]);
  });

  it('records the same uniqueid from another server as a replica pair (REPLICA_ADDED)', async () => {
    await create(client, { name: 'user.c3', uniqueid: 'c3-id', server: 'backend1' });
    const paired = await create(client, { name: 'user.c3', uniqueid: 'c3-id', server: 'backend2', partition: 'p2' });
    expect(paired['outcome']).toBe('REPLICA_ADDED');
    const mailbox = await get('user.c3');
    expect(mailbox['server']).toBe('backend1');
    expect(mailbox['replicas']).toEqual([{ server: 'backend2', partition: 'p2' }]);
    expect(Number(mailbox['revision'])).toBe(Number(paired['revision']));
    // The replica's server sees it in its scan; a second report of the pair changes nothing.
    expect(await scanNames(client, { server: 'backend2', prefix: 'user.c3' })).toEqual(['user.c3']);
    const again = await create(client, { name: 'user.c3', uniqueid: 'c3-id', server: 'backend2', partition: 'p2' });
    expect(again['outcome']).toBe('ALREADY_PRESENT');
    expect((await get('user.c3'))['replicas']).toHaveLength(1);
  });

  it('refuses a fork (same name, another uniqueid) naming the holder server and uniqueid', async () => {
    await create(client, { name: 'user.c4', uniqueid: 'c4-id', server: 'backend1' });
    const before = await appliedRevision();
    await expectError(
      create(client, { name: 'user.c4', uniqueid: 'c4-other', server: 'backend2' }),
      'ALREADY_EXISTS',
      /c4-id.*backend1|backend1.*c4-id/,
    );
    expect(await appliedRevision()).toBe(before);
    expect((await get('user.c4'))['uniqueid']).toBe('c4-id');
  });

  it('refuses a uniqueid already registered under another name (that is a rename)', async () => {
    await create(client, { name: 'user.c5', uniqueid: 'c5-id', server: 'backend1' });
    await expectError(
      create(client, { name: 'user.c5x', uniqueid: 'c5-id', server: 'backend1' }),
      'ALREADY_EXISTS',
      /c5-id.*user\.c5/,
    );
    await expectError(client.getMailbox({ name: 'user.c5x' }), 'NOT_FOUND');
  });

  it('generates a uniqueid when none is given', async () => {
    const response = await create(client, { name: 'user.c6', server: 'backend1' });
    const uniqueid = String((response['mailbox']!)['uniqueid']);
    expect(uniqueid).toMatch(/^[a-z0-9]{24}$/);
    expect((await client.getMailbox({ uniqueid }))['mailbox']).toMatchObject({ name: 'user.c6' });
    // Without a request id, a second create without uniqueid is not a retry: it would fork.
    await expectError(create(client, { name: 'user.c6', server: 'backend1' }), 'ALREADY_EXISTS', new RegExp(uniqueid));
  });

  it('recognises a retried create by its request_id', async () => {
    const first = await create(client, { name: 'user.c7', server: 'backend1' }, { request_id: 'req-c7' });
    const before = await appliedRevision();
    const retry = await create(client, { name: 'user.c7', server: 'backend1' }, { request_id: 'req-c7' });
    expect(retry['outcome']).toBe('ALREADY_PRESENT');
    expect((retry['mailbox']!)['uniqueid']).toBe((first['mailbox']!)['uniqueid']);
    expect(await appliedRevision()).toBe(before);
    await expectError(create(client, { name: 'user.c7', server: 'backend1' }, { request_id: 'req-other' }), 'ALREADY_EXISTS');
  });
});

describe('two-phase create (reserve_only, ActivateMailbox)', () => {
  it('holds the name RESERVED, invisible to LIST and scans, until activated', async () => {
    const reserved = await create(
      client,
      { name: 'user.r1', uniqueid: 'r1-id', server: 'backend1', acl: [{ identifier: 'r1', rights: 'lrswipkxtecdan' }] },
      { reserve_only: true },
    );
    expect(reserved['outcome']).toBe('CREATED');
    expect((await get('user.r1'))['state']).toBe('RESERVED');
    const listed = await client.listMailboxes({ user: 'r1', pattern: '*' });
    expect(listed['mailboxes']).toEqual([]);
    expect(await scanNames(client, { prefix: 'user.r1' })).toEqual([]);
    expect(await scanNames(client, { prefix: 'user.r1', include_reserved: true })).toEqual(['user.r1']);
    // The reservation holds the name against a fork.
    await expectError(create(client, { name: 'user.r1', uniqueid: 'r1-other', server: 'backend2' }), 'ALREADY_EXISTS', /r1-id/);

    await expectError(client.activateMailbox({ name: 'user.r1', uniqueid: 'wrong-id' }), 'ALREADY_EXISTS', /r1-id/);
    const activated = await client.activateMailbox({ name: 'user.r1', uniqueid: 'r1-id' });
    expect((activated['mailbox']!)['state']).toBe('ACTIVE');
    expect(Number(activated['revision'])).toBeGreaterThan(Number(reserved['revision']));
    const after = await client.listMailboxes({ user: 'r1', pattern: '*' });
    expect((after['mailboxes']).map((entry) => (entry['mailbox']!)['name'])).toEqual(['user.r1']);
  });

  it('replaces the ACL on activation when one is given', async () => {
    await create(client, { name: 'user.r2', uniqueid: 'r2-id', server: 'backend1', acl: [{ identifier: 'r2', rights: 'lr' }] }, { reserve_only: true });
    const activated = await client.activateMailbox({ name: 'user.r2', acl: [{ identifier: 'anyone', rights: 'rl' }] });
    expect((activated['mailbox']!)['acl']).toEqual([{ identifier: 'anyone', rights: 'lr' }]);
    expect(await get('user.r2')).toMatchObject({ state: 'ACTIVE', acl: [{ identifier: 'anyone', rights: 'lr' }] });
  });

  it('records replicas given on create, and drops one naming the primary server', async () => {
    const response = await create(client, {
      name: 'user.c8',
      uniqueid: 'c8-id',
      server: 'backend1',
      replicas: [{ server: 'backend2', partition: '' }, { server: 'backend1', partition: 'x' }],
    });
    expect((response['mailbox']!)['replicas']).toEqual([{ server: 'backend2', partition: 'default' }]);
  });

  it('answers NOT_FOUND when activating a name never reserved', async () => {
    await expectError(client.activateMailbox({ name: 'user.never-reserved' }), 'NOT_FOUND', /user\.never-reserved/);
  });
});

describe('reservation expiry (a node started with a short hidden --reservation-ttl-ms)', () => {
  const ttlMs = 300;
  let shortNode: ServerProcess;
  let short: MbdirClient;

  beforeAll(async () => {
    shortNode = await startServer(['--reservation-ttl-ms', String(ttlMs)]);
    short = shortNode.client();
    await short.putServer({ name: 'backend1' });
  });

  afterAll(async () => {
    await shortNode?.stop();
  });

  // The reservation's deadline is set before the answer is sent: once the
  // client has waited the TTL after the answer, it has lapsed on the server.
  const waitPastTtl = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, ttlMs * 2));

  it('refuses to activate a lapsed reservation, with NOT_FOUND saying it expired', async () => {
    await create(short, { name: 'user.lapsed', uniqueid: 'lapsed-id', server: 'backend1' }, { reserve_only: true });
    await waitPastTtl();
    await expectError(short.activateMailbox({ name: 'user.lapsed', uniqueid: 'lapsed-id' }), 'NOT_FOUND', /expired/);
    expect((await short.listMailboxes({ user: 'lapsed', pattern: '*' }))['mailboxes']).toEqual([]);
  });

  it('frees the name and the uniqueid of a lapsed reservation for a new create', async () => {
    await create(short, { name: 'user.freed', uniqueid: 'freed-id', server: 'backend1' }, { reserve_only: true });
    await expectError(create(short, { name: 'user.freed', uniqueid: 'other-id', server: 'backend1' }), 'ALREADY_EXISTS');
    await waitPastTtl();
    const taken = await create(short, { name: 'user.freed', uniqueid: 'other-id', server: 'backend1' });
    expect(taken['outcome']).toBe('CREATED');
    expect(((await short.getMailbox({ name: 'user.freed' }))['mailbox']!)).toMatchObject({
      uniqueid: 'other-id',
      state: 'ACTIVE',
    });
    await expectError(short.getMailbox({ uniqueid: 'freed-id' }), 'NOT_FOUND');
  });

  it('keeps an activated reservation past the TTL', async () => {
    await create(short, { name: 'user.kept', uniqueid: 'kept-id', server: 'backend1' }, { reserve_only: true });
    await short.activateMailbox({ name: 'user.kept' });
    await waitPastTtl();
    await expectError(create(short, { name: 'user.kept', uniqueid: 'other-kept', server: 'backend1' }), 'ALREADY_EXISTS', /kept-id/);
  });
});
