/**
 * End to end through the real `mbdir serve` process over gRPC: the rules of
 * DESIGN.md "Rules that matter" as a backend, a proxy and an operator see them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import type { CreateMailboxRequest, CreateMailboxResponse__Output, Mailbox, Mailbox__Output, WatchEvent__Output } from '../../src/client/messages.js';

let server: ServerProcess;
let client: MbdirClient;

async function expectCode(promise: Promise<unknown>, code: string, text?: RegExp): Promise<ClientError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, got success`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClientError);
  const clientError = error as ClientError;
  expect(clientError.codeName).toBe(code);
  if (text !== undefined) expect(clientError.details).toMatch(text);
  return clientError;
}

async function scanAll(): Promise<Mailbox__Output[]> {
  const out: Mailbox__Output[] = [];
  for await (const mailbox of client.scanMailboxes({})) out.push(mailbox);
  return out;
}

const create = (mailbox: Mailbox, extra: Omit<CreateMailboxRequest, 'mailbox'> = {}): Promise<CreateMailboxResponse__Output> =>
  client.createMailbox({ mailbox, ...extra });

beforeAll(async () => {
  server = await startServer();
  client = server.client();
  await client.putServer({ name: 'b1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });
  await client.putServer({ name: 'b2', imap_address: '127.0.0.1:2143', lmtp_address: '127.0.0.1:2024' });
});

afterAll(async () => {
  await server?.stop();
});

describe('create', () => {
  it('creates, accepts a retry, records a replica pair and refuses a fork', async () => {
    const first = await create({ name: 'user.carol', uniqueid: 'carol-1', server: 'b1', acl: [{ identifier: 'carol', rights: 'lrswipkxtecdan' }] });
    expect(first['outcome']).toBe('CREATED');
    const retry = await create({ name: 'user.carol', uniqueid: 'carol-1', server: 'b1' });
    expect(retry['outcome']).toBe('ALREADY_PRESENT');
    expect(retry['revision']).toBe(first['revision']);
    const pair = await create({ name: 'user.carol', uniqueid: 'carol-1', server: 'b2' });
    expect(pair['outcome']).toBe('REPLICA_ADDED');
    expect((pair['mailbox']!)['replicas']).toEqual([{ server: 'b2', partition: 'default' }]);
    await expectCode(create({ name: 'user.carol', uniqueid: 'carol-2', server: 'b2' }), 'ALREADY_EXISTS', /carol-1 on server b1/);
    await expectCode(create({ name: 'user.carol2', uniqueid: 'carol-1', server: 'b1' }), 'ALREADY_EXISTS', /already registered as "user.carol"/);
    const got = await client.getMailbox({ name: 'user.carol' });
    expect((got['mailbox']!)['uniqueid']).toBe('carol-1');
  });

  it('recognises a retried create by its request id even without a uniqueid', async () => {
    const first = await create({ name: 'shared.retry', server: 'b1' }, { request_id: 'req-42' });
    const again = await create({ name: 'shared.retry', server: 'b1' }, { request_id: 'req-42' });
    expect(again['outcome']).toBe('ALREADY_PRESENT');
    expect((again['mailbox']!)['uniqueid']).toBe((first['mailbox']!)['uniqueid']);
    expect(String((first['mailbox']!)['uniqueid'])).toMatch(/^[a-z0-9]{24}$/);
  });

  it('reserves invisibly, then activates', async () => {
    await create({ name: 'user.dave', uniqueid: 'dave-1', server: 'b2', acl: [{ identifier: 'dave', rights: 'lrs' }] }, { reserve_only: true });
    const before = await client.listMailboxes({ user: 'dave', pattern: '*' });
    expect(before['mailboxes']).toEqual([]);
    const activated = await client.activateMailbox({ name: 'user.dave' });
    expect((activated['mailbox']!)['state']).toBe('ACTIVE');
    const after = await client.listMailboxes({ user: 'dave', pattern: '*', min_revision: activated['revision'] });
    expect((after['mailboxes']).map((entry) => (entry['mailbox']!)['name'])).toEqual(['user.dave']);
  });
});

describe('placement', () => {
  it('places a new user on the business home server and sub-folders with the user', async () => {
    await client.putBusiness({ id: 'acme', home_server: 'b2' });
    await client.setUserBusiness({ user: 'erin', business: 'acme' });
    const root = await create({ name: 'user.erin' });
    expect((root['mailbox']!)['server']).toBe('b2');
    const sub = await create({ name: 'user.erin.Sent' });
    expect((sub['mailbox']!)['server']).toBe('b2');
    const resolved = await client.resolveUser({ user: 'erin' });
    expect(resolved).toMatchObject({ server: 'b2', imap_address: '127.0.0.1:2143', lmtp_address: '127.0.0.1:2024', moving: false });
  });

  it('never places on a DRAINING server', async () => {
    await client.putServer({ name: 'b1', imap_address: '127.0.0.1:1143', state: 'DRAINING' });
    for (const user of ['fay', 'gus', 'hal']) {
      const created = await create({ name: `user.${user}` });
      expect((created['mailbox']!)['server']).toBe('b2');
    }
    await client.putServer({ name: 'b1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024', state: 'UP' });
  });
});

describe('rename, ACL, LIST', () => {
  it('renames a whole subtree and the user with it', async () => {
    await create({ name: 'user.ivy', uniqueid: 'ivy-1', server: 'b1', acl: [{ identifier: 'ivy', rights: 'lrswipkxtecdan' }] });
    await create({ name: 'user.ivy.Work', uniqueid: 'ivy-2', server: 'b1' });
    await create({ name: 'user.ivy.Work.2026', uniqueid: 'ivy-3', server: 'b1' });
    const renamed = await client.renameMailbox({ name: 'user.ivy', new_name: 'user.ivo' });
    expect((renamed['mailboxes']).map((mailbox) => mailbox['name'])).toEqual(['user.ivo', 'user.ivo.Work', 'user.ivo.Work.2026']);
    const moved = await client.getMailbox({ uniqueid: 'ivy-3' });
    expect((moved['mailbox']!)['name_history']).toEqual(['user.ivy.Work.2026']);
    await expectCode(client.getMailbox({ name: 'user.ivy.Work' }), 'NOT_FOUND');
    await expectCode(client.renameMailbox({ name: 'user.ivo', new_name: 'user.ivo.Work.x' }), 'INVALID_ARGUMENT', /own subtree/);
    expect((await client.resolveUser({ user: 'ivo' }))['server']).toBe('b1');
  });

  it('lists what the user may see: own, shared, groups and anyone, minus negative rights', async () => {
    await create({ name: 'user.jo', uniqueid: 'jo-1', server: 'b1', acl: [{ identifier: 'jo', rights: 'lrswipkxtecdan' }] });
    await create({ name: 'user.jo.Inbox2', uniqueid: 'jo-2', server: 'b1', acl: [{ identifier: 'jo', rights: 'lrs' }] });
    await create({ name: 'user.kim', uniqueid: 'kim-1', server: 'b1', acl: [{ identifier: 'kim', rights: 'lrswipkxtecdan' }] });
    await create({ name: 'user.kim.Shared', uniqueid: 'kim-2', server: 'b1', acl: [{ identifier: 'kim', rights: 'lrswipkxtecdan' }] });
    await client.setAcl({ name: 'user.kim.Shared', identifier: 'jo', rights: 'lr' });
    await create({ name: 'shared.team', uniqueid: 'team-1', server: 'b1', acl: [{ identifier: 'group:staff', rights: 'lrs' }] });
    await create({ name: 'shared.public', uniqueid: 'pub-1', server: 'b1', acl: [{ identifier: 'anyone', rights: 'lr' }, { identifier: '-jo', rights: 'l' }] });
    const listed = await client.listMailboxes({ user: 'jo', groups: ['group:staff'], pattern: '*' });
    const names = (listed['mailboxes']).map((entry) => (entry['mailbox']!)['name']);
    expect(names).toContain('shared.team');
    expect(names).toContain('user.kim.Shared');
    expect(names).toContain('user.jo');
    expect(names).not.toContain('shared.public');
    expect(names).not.toContain('user.kim');
    const percent = await client.listMailboxes({ user: 'jo', groups: ['group:staff'], pattern: '%' });
    expect((percent['mailboxes']).map((entry) => (entry['mailbox']!)['name'])).toEqual([]);
    const own = await client.listMailboxes({ user: 'jo', reference: 'user.jo.', pattern: '%' });
    expect((own['mailboxes']).map((entry) => (entry['mailbox']!)['name'])).toEqual(['user.jo.Inbox2']);
    const root = (listed['mailboxes']).find((entry) => (entry['mailbox']!)['name'] === 'user.jo');
    expect(root?.['has_children']).toBe(true);
  });

  it('deletes, and a DELETE of an unknown name is an error the server survives', async () => {
    await create({ name: 'shared.gone', uniqueid: 'gone-1', server: 'b1' });
    await client.deleteMailbox({ name: 'shared.gone' });
    await expectCode(client.deleteMailbox({ name: 'shared.gone' }), 'NOT_FOUND', /shared.gone/);
    expect((await client.status())['engine']).toBe('standalone');
  });
});

describe('bad input', () => {
  it('refuses bad names, uniqueids and rights with a message naming the problem, changing nothing', async () => {
    const before = await scanAll();
    await expectCode(create({ name: '', server: 'b1' }), 'INVALID_ARGUMENT', /empty/);
    await expectCode(create({ name: `user.${'x'.repeat(486)}`, server: 'b1' }), 'INVALID_ARGUMENT', /491 bytes/);
    await expectCode(create({ name: 'user.a\u0001b', server: 'b1' }), 'INVALID_ARGUMENT', /control character/);
    await expectCode(create({ name: 'user..a', server: 'b1' }), 'INVALID_ARGUMENT', /empty hierarchy segment/);
    await expectCode(create({ name: 'user.ok', uniqueid: 'bad id!', server: 'b1' }), 'INVALID_ARGUMENT', /uniqueid/);
    await expectCode(create({ name: 'user.ok', server: 'b1', acl: [{ identifier: 'ok', rights: 'lrz' }] }), 'INVALID_ARGUMENT', /"z"/);
    await expectCode(client.setAcl({ name: 'user.nobody', identifier: 'x', rights: 'l' }), 'NOT_FOUND');
    const max = await create({ name: `user.${'y'.repeat(485)}`, uniqueid: 'max-name', server: 'b1' });
    expect(max['outcome']).toBe('CREATED');
    await client.deleteMailbox({ name: `user.${'y'.repeat(485)}` });
    const after = await scanAll();
    expect(after.map((mailbox) => [mailbox['name'], mailbox['uniqueid'], mailbox['revision']])).toEqual(
      before.map((mailbox) => [mailbox['name'], mailbox['uniqueid'], mailbox['revision']]),
    );
  });
});

describe('watch and read-your-writes', () => {
  it('streams a snapshot, then live changes in revision order, and resumes from a revision', async () => {
    const abort = new AbortController();
    const events: WatchEvent__Output[] = [];
    const stream = (async () => {
      for await (const event of client.watch({ from_revision: 0, prefixes: ['user.lee'] }, abort.signal)) {
        events.push(event);
        if (events.filter((item) => item['type'] === 'DELETE').length === 1) abort.abort();
      }
    })();
    await create({ name: 'user.lee', uniqueid: 'lee-1', server: 'b1' });
    await client.renameMailbox({ name: 'user.lee', new_name: 'user.leo' });
    await stream;
    const types = events.map((event) => event['type']);
    expect(types[0]).toBe('SNAPSHOT_END');
    expect(types).toContain('PUT');
    expect(types.at(-1)).toBe('DELETE');
    const revisions = events.slice(1).map((event) => Number(event['revision']));
    expect([...revisions].sort((left, right) => left - right)).toEqual(revisions);
  });

  it('waits for min_revision and gives up at the deadline', async () => {
    const status = await client.status();
    const future = Number(status['applied_revision']) + 1000;
    await expectCode(client.getMailbox({ name: 'user.carol', min_revision: future }, 500), 'DEADLINE_EXCEEDED');
    expect((await client.getMailbox({ name: 'user.carol' }))['mailbox']).toBeTruthy();
  });
});
