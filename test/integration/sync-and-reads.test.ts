// SyncServer (added / removed / updated / conflicting, dry run) and the
// reads: GetMailbox by name and uniqueid, LookupMailboxes, LookupStream, and
// ScanMailboxes in Cyrus sort-key order with --server and --prefix.
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { limits } from '../../src/model/limits.js';
import { compareNames } from '../../src/model/names.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { create, expectError, scanAll, scanNames } from '../helpers/integration.js';
import type { LookupResult__Output, LookupStreamResponse__Output, Mailbox__Output } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  for (const name of ['sync1', 'sync2', 'scan1', 'scan2']) await client.putServer({ name });
});

afterAll(async () => {
  await node?.stop();
});

function entry(name: string, uniqueid: string, acl: Record<string, string> = {}): Message {
  return { name, uniqueid, acl: Object.entries(acl).map(([identifier, rights]) => ({ identifier, rights })) };
}

const names = (mailboxes: readonly Mailbox__Output[]): string[] => mailboxes.map((mailbox) => mailbox.name).sort();

describe('SyncServer', () => {
  beforeAll(async () => {
    await create(client, entry('user.s1', 's1', { s1: 'lrs' }), {});
    await client.deleteMailbox({ name: 'user.s1' });
    for (const [name, uniqueid] of [['user.s1', 's1'], ['user.s2', 's2'], ['user.s3', 's3']] as const) {
      await create(client, { ...entry(name, uniqueid, { [name.slice(5)]: 'lrs' }), server: 'sync1' });
    }
    await create(client, { ...entry('user.s5', 's5-held'), server: 'sync2' });
  });

  const backendList = [
    entry('user.s1', 's1', { s1: 'lrs' }), // unchanged
    entry('user.s2', 's2', { s2: 'lrsw' }), // updated: another ACL
    entry('user.s4', 's4'), // added
    entry('user.s5', 's5-fork'), // conflicting: held by sync2 under another uniqueid
    // user.s3 is not listed: removed
  ];

  it('reports the difference on a dry run and changes nothing', async () => {
    const before = await scanAll(client);
    const revisionBefore = (await client.status())['applied_revision'];
    const report = await client.syncServer('sync1', true, [backendList.slice(0, 2), backendList.slice(2)] as never);
    expect(report['applied']).toBe(false);
    expect(names(report['added'])).toEqual(['user.s4']);
    expect(names(report['updated'])).toEqual(['user.s2']);
    expect(names(report['removed'])).toEqual(['user.s3']);
    expect((report['conflicting']).map((conflict) => (conflict['mailbox']!)['name'])).toEqual(['user.s5']);
    expect((report['conflicting'])[0]?.['reason']).toMatch(/s5-held.*sync2|sync2.*s5-held/);
    expect(report).toMatchObject({ unchanged: 1, added_count: 1, updated_count: 1, removed_count: 1, conflicting_count: 1 });
    expect(await scanAll(client)).toEqual(before);
    expect((await client.status())['applied_revision']).toBe(revisionBefore);
  });

  it('applies the difference, leaving the conflict to the other server', async () => {
    const report = await client.syncServer('sync1', false, [backendList] as never);
    expect(report['applied']).toBe(true);
    expect(report).toMatchObject({ added_count: 1, updated_count: 1, removed_count: 1, conflicting_count: 1, unchanged: 1 });
    expect(await scanNames(client, { server: 'sync1' })).toEqual(['user.s1', 'user.s2', 'user.s4']);
    const s2 = (await client.getMailbox({ name: 'user.s2' }))['mailbox']!;
    expect(s2['acl']).toEqual([{ identifier: 's2', rights: 'lrsw' }]);
    expect(Number(s2['revision'])).toBeLessThanOrEqual(Number(report['revision']));
    await expectError(client.getMailbox({ name: 'user.s3' }), 'NOT_FOUND');
    expect(((await client.getMailbox({ name: 'user.s5' }))['mailbox']!)['uniqueid']).toBe('s5-held');

    const again = await client.syncServer('sync1', false, [backendList] as never);
    expect(again).toMatchObject({ added_count: 0, updated_count: 0, removed_count: 0, conflicting_count: 1, unchanged: 3 });
  });

  it('records a mailbox another server lists under the same uniqueid as a replica', async () => {
    const report = await client.syncServer('sync2', false, [[entry('user.s5', 's5-held'), entry('user.s1', 's1', { s1: 'lrs' })]] as never);
    expect(names(report['added'])).toEqual(['user.s1']);
    const s1 = (await client.getMailbox({ name: 'user.s1' }))['mailbox']!;
    expect(s1['server']).toBe('sync1');
    expect(s1['replicas']).toEqual([{ server: 'sync2', partition: 'default' }]);
    expect(await scanNames(client, { server: 'sync2' })).toEqual(['user.s1', 'user.s5']);
  });
});

describe('SyncServer renames', () => {
  it('takes a known uniqueid listed under a new name as a rename of the backend own mailbox', async () => {
    await create(client, { ...entry('user.sr', 'sr-id'), server: 'scan2' });
    await create(client, { ...entry('user.sr.Sent', 'sr-sent'), server: 'scan2' });
    const report = await client.syncServer('scan2', false, [[entry('user.sr2', 'sr-id'), entry('user.sr2.Sent', 'sr-sent')]] as never);
    expect(report).toMatchObject({ added_count: 0, updated_count: 2, removed_count: 0, conflicting_count: 0 });
    const renamed = (await client.getMailbox({ uniqueid: 'sr-sent' }))['mailbox']!;
    expect(renamed).toMatchObject({ name: 'user.sr2.Sent', name_history: ['user.sr.Sent'] });
    await expectError(client.getMailbox({ name: 'user.sr' }), 'NOT_FOUND');
    // Clean up: scan2 lists nothing, so its mailboxes go.
    const emptied = await client.syncServer('scan2', false, [] as never);
    expect(emptied['removed_count']).toBe(2);
  });
});

describe('reads', () => {
  beforeAll(async () => {
    // Created out of order, with names whose Cyrus order differs from plain string order.
    for (const [name, uniqueid] of [
      ['user.ann-b', 'ann-b'],
      ['user.ann.Sent', 'ann-sent'],
      ['user.ann', 'ann'],
      ['user.ann.Sent.2024', 'ann-sent-2024'],
      ['user.anna', 'anna'],
    ] as const) {
      await create(client, { name, uniqueid, server: 'scan1' });
    }
    await create(client, { name: 'user.ann.Sent', uniqueid: 'ann-sent', server: 'scan2' });
    await create(client, { name: 'shared.scan', uniqueid: 'shared-scan', server: 'scan2' });
  });

  it('gets a mailbox by name and by uniqueid', async () => {
    const byName = await client.getMailbox({ name: 'user.ann.Sent' });
    const byId = await client.getMailbox({ uniqueid: 'ann-sent' });
    expect(byId['mailbox']).toEqual(byName['mailbox']);
    expect(byName['mailbox']).toMatchObject({ name: 'user.ann.Sent', server: 'scan1', replicas: [{ server: 'scan2', partition: 'default' }] });
    await expectError(client.getMailbox({ uniqueid: 'no-such-id' }), 'NOT_FOUND', /no-such-id/);
    await expectError(client.getMailbox({ name: 'user.no-such' }), 'NOT_FOUND', /user\.no-such/);
  });

  it('looks up several names, found or not, in request order', async () => {
    const response = await client.lookupMailboxes({ names: ['user.anna', 'user.nobody', 'user.ann'] });
    const results = response['results'];
    expect(results.map((result) => [result['name'], result['found']])).toEqual([
      ['user.anna', true],
      ['user.nobody', false],
      ['user.ann', true],
    ]);
    expect(results[2]?.mailbox?.uniqueid).toBe('ann');
    expect(results[1]?.['mailbox']).toBeNull();
  });

  it('answers LookupStream requests in order', async () => {
    const stream = client.lookupStream();
    const results: LookupResult__Output[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (message: LookupStreamResponse__Output) => results.push(...message.results));
      stream.on('status', () => resolve());
      stream.on('error', reject);
    });
    const asked = ['user.ann', 'user.nobody', 'shared.scan', 'user.ann-b'];
    for (const name of asked) stream.write({ name });
    stream.end();
    await done;
    expect(results.map((result) => [result['name'], result['found']])).toEqual([
      ['user.ann', true],
      ['user.nobody', false],
      ['shared.scan', true],
      ['user.ann-b', true],
    ]);
  }, 10_000);

  it('answers batched LookupStream messages one response each, in order, and refuses name with names', async () => {
    const stream = client.lookupStream();
    const responses: LookupStreamResponse__Output[] = [];
    const done = new Promise<grpc.ServiceError>((resolve) => {
      stream.on('data', (message: LookupStreamResponse__Output) => responses.push(message));
      stream.on('error', resolve);
    });
    stream.write({ names: ['shared.scan', 'user.nobody', 'user.ann'] });
    stream.write({ name: 'user.ann-b' });
    stream.write({ name: 'user.ann', names: ['user.ann'] });
    const error = await done;
    expect(error.details).toMatch(/name or names, not both/);
    expect(responses.map((response) => response.results.map((result) => [result.name, result.found]))).toEqual([
      [['shared.scan', true], ['user.nobody', false], ['user.ann', true]],
      [['user.ann-b', true]],
    ]);
  }, 10_000);

  it('refuses a LookupStream message of more than lookupNamesMax names, and one with no name at all', async () => {
    const refusal = async (message: Message): Promise<string> => {
      const stream = client.lookupStream();
      const error = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.on('data', () => undefined);
      stream.write(message);
      return (await error).details;
    };
    const tooMany = Array.from({ length: limits.lookupNamesMax + 1 }, (_u, index) => `user.ann.f${index}`);
    expect(await refusal({ names: tooMany })).toMatch(/names has 1001 entries, more than the limit of 1000/);
    expect(await refusal({})).toMatch(/needs name or names/);
  }, 10_000);

  it('scans in Cyrus sort-key order, filtered by server (replicas included) and prefix', async () => {
    const everything = await scanNames(client);
    expect([...everything].sort(compareNames)).toEqual(everything);
    expect(await scanNames(client, { server: 'scan1' })).toEqual([
      'user.ann',
      'user.ann.Sent',
      'user.ann.Sent.2024',
      'user.ann-b',
      'user.anna',
    ]);
    expect(await scanNames(client, { server: 'scan2' })).toEqual(['shared.scan', 'user.ann.Sent']);
    expect(await scanNames(client, { prefix: 'user.ann' })).toEqual(['user.ann', 'user.ann.Sent', 'user.ann.Sent.2024']);
    expect(await scanNames(client, { prefix: 'user.ann.Sent', server: 'scan2' })).toEqual(['user.ann.Sent']);
    expect(await scanNames(client, { server: 'no-such-server' })).toEqual([]);
  });
});
