// Bad input against the real server: every refusal carries the right gRPC
// code and a message naming the problem, the server keeps serving, and the
// directory is unchanged (a scan before and after is identical, the revision
// does not move).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { create, expectError, scanAll } from '../helpers/integration.js';
import type { LookupResult__Output, LookupStreamResponse__Output, Mailbox__Output, WatchEvent__Output } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;
let scanBefore: Mailbox__Output[];
let revisionBefore: unknown;

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1' });
  await create(client, { name: 'user.held', uniqueid: 'held-id', server: 'backend1', acl: [{ identifier: 'held', rights: 'lrs' }] });
  await create(client, { name: 'user.held.Sent', uniqueid: 'held-sent', server: 'backend1' });
  scanBefore = await scanAll(client, { include_reserved: true });
  revisionBefore = (await client.status())['applied_revision'];
});

afterAll(async () => {
  await node?.stop();
});

const longName = `user.${'x'.repeat(486)}`; // 491 bytes

describe('bad names', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /name is empty/],
    ['491 bytes', longName, /491 bytes, longer than the limit of 490/],
    ['a control character', 'user.a\x01b', /control character/],
    ['a newline', 'user.a\nb', /control character/],
    ['an empty segment', 'user..a', /empty hierarchy segment/],
    ['a trailing separator', 'user.a.', /empty hierarchy segment/],
    ['an empty domain', '!user.a', /empty domain/],
  ];
  for (const [what, name, message] of cases) {
    it(`refuses a name with ${what} everywhere a name is taken`, async () => {
      await expectError(create(client, { name, uniqueid: 'bad-name', server: 'backend1' }), 'INVALID_ARGUMENT', message);
      await expectError(client.getMailbox({ name }), 'INVALID_ARGUMENT', message);
      await expectError(client.deleteMailbox({ name }), 'INVALID_ARGUMENT', message);
      await expectError(client.setAcl({ name, identifier: 'x', rights: 'l' }), 'INVALID_ARGUMENT', message);
      await expectError(client.renameMailbox({ name: 'user.held', new_name: name }), 'INVALID_ARGUMENT', message);
      await expectError(client.lookupMailboxes({ names: ['user.held', name] }), 'INVALID_ARGUMENT', message);
    });
  }

  it('accepts a name of exactly 490 bytes', async () => {
    const name = `shared.${'y'.repeat(483)}`;
    expect(Buffer.byteLength(name)).toBe(490);
    await create(client, { name, uniqueid: 'at-limit', server: 'backend1' });
    await client.deleteMailbox({ name });
    scanBefore = await scanAll(client, { include_reserved: true });
    revisionBefore = (await client.status())['applied_revision'];
  });
});

describe('bad uniqueids, rights and fields', () => {
  it('refuses bad uniqueids', async () => {
    await expectError(create(client, { name: 'user.u', uniqueid: 'has space', server: 'backend1' }), 'INVALID_ARGUMENT', /uniqueid "has space"/);
    await expectError(create(client, { name: 'user.u', uniqueid: 'a/b', server: 'backend1' }), 'INVALID_ARGUMENT', /outside \[A-Za-z0-9\._-\]/);
    await expectError(create(client, { name: 'user.u', uniqueid: 'u'.repeat(65), server: 'backend1' }), 'INVALID_ARGUMENT', /65 characters/);
    await expectError(client.getMailbox({ uniqueid: 'bad id' }), 'INVALID_ARGUMENT', /uniqueid/);
    await expectError(client.activateMailbox({ name: 'user.held', uniqueid: 'bad id' }), 'INVALID_ARGUMENT', /uniqueid/);
  });

  it('refuses unknown rights letters in an ACL and in SetAcl', async () => {
    const acl = [{ identifier: 'someone', rights: 'lrQ' }];
    await expectError(create(client, { name: 'user.u', uniqueid: 'u-id', server: 'backend1', acl }), 'INVALID_ARGUMENT', /"Q"/);
    await expectError(client.setAcl({ name: 'user.held', identifier: 'someone', rights: '+lr!' }), 'INVALID_ARGUMENT', /"!"/);
    await expectError(client.setAcl({ name: 'user.held', identifier: '', rights: 'lr' }), 'INVALID_ARGUMENT', /identifier is empty/);
    await expectError(client.setAcl({ name: 'user.held', identifier: 'two words', rights: 'lr' }), 'INVALID_ARGUMENT', /identifier/);
  });

  it('refuses bad servers, partitions, mbtypes and addresses', async () => {
    await expectError(create(client, { name: 'user.u', server: 'bad server' }), 'INVALID_ARGUMENT', /server "bad server"/);
    await expectError(create(client, { name: 'user.u', server: 'backend1', partition: 'a b' }), 'INVALID_ARGUMENT', /partition/);
    await expectError(create(client, { name: 'user.u', server: 'backend1', mbtype: 'E!' }), 'INVALID_ARGUMENT', /mbtype/);
    await expectError(client.putServer({ name: 'b2', imap_address: 'localhost:143' }), 'INVALID_ARGUMENT', /numeric IP/);
    await expectError(client.putServer({ name: 'b2', imap_address: '10.0.0.1:99999' }), 'INVALID_ARGUMENT', /imap_address/);
  });

  it('refuses bad LIST arguments', async () => {
    await expectError(client.listMailboxes({ user: '', pattern: '*' }), 'INVALID_ARGUMENT', /user id is empty/);
    await expectError(client.listMailboxes({ user: 'a!b', pattern: '*' }), 'INVALID_ARGUMENT', /"!"/);
    await expectError(client.listMailboxes({ user: 'held', pattern: '*a'.repeat(40) }), 'INVALID_ARGUMENT', /wildcards/);
    await expectError(client.listMailboxes({ user: 'held', pattern: '*', page_token: '!!' }), 'INVALID_ARGUMENT', /page_token/);
    await expectError(client.listMailboxes({ user: 'held', pattern: '*', page_size: 1_000_000 }), 'INVALID_ARGUMENT', /page_size/);
  });

  it('refuses bad stream arguments', async () => {
    await expectError(scanAll(client, { prefix: 'user..x' }), 'INVALID_ARGUMENT', /prefix/);
    await expectError(
      client.syncServer('backend1', false, [[{ name: 'user.ok1', uniqueid: 'ok1' }, { name: 'user.bad\x02', uniqueid: 'bad2' }]] as never),
      'INVALID_ARGUMENT',
      /control character/,
    );
    await expectError(client.syncServer('bad server', true, [] as never), 'INVALID_ARGUMENT', /server "bad server"/);
    const events: WatchEvent__Output[] = [];
    const watching = (async () => {
      for await (const event of client.watch({ from_revision: 0, prefixes: ['user..x'] })) events.push(event);
    })();
    await expectError(watching, 'INVALID_ARGUMENT', /watch prefix/);
    expect(events).toEqual([]);
    const lookups = client.lookupStream();
    const results: LookupResult__Output[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      lookups.on('data', (message: LookupStreamResponse__Output) => results.push(...message.results));
      lookups.on('error', reject);
      lookups.on('status', () => resolve());
    });
    lookups.write({ name: 'user.held' });
    lookups.write({ name: 'user..bad' });
    lookups.end();
    await expectError(ended, 'INVALID_ARGUMENT', /empty hierarchy segment/);
    expect(results.map((result) => result['found'])).toEqual([true]);
  }, 15_000);
});

describe('unknown mailboxes and conflicts', () => {
  it('answers NOT_FOUND naming the mailbox', async () => {
    await expectError(client.getMailbox({ name: 'user.ghost' }), 'NOT_FOUND', /user\.ghost/);
    await expectError(client.deleteMailbox({ name: 'user.ghost' }), 'NOT_FOUND', /user\.ghost/);
    await expectError(client.renameMailbox({ name: 'user.ghost', new_name: 'user.ghost2' }), 'NOT_FOUND', /user\.ghost/);
    await expectError(client.setAcl({ name: 'user.ghost', identifier: 'x', rights: 'l' }), 'NOT_FOUND', /user\.ghost/);
    await expectError(client.activateMailbox({ name: 'user.ghost' }), 'NOT_FOUND', /user\.ghost/);
    await expectError(client.moveUser({ user: 'ghost', from_server: 'backend1', to_server: 'backend1' }), 'INVALID_ARGUMENT');
  });

  it('answers ALREADY_EXISTS naming the holder', async () => {
    await expectError(create(client, { name: 'user.held', uniqueid: 'other', server: 'backend1' }), 'ALREADY_EXISTS', /held-id/);
    await expectError(client.renameMailbox({ name: 'user.held.Sent', new_name: 'user.held' }), 'ALREADY_EXISTS', /held-id/);
  });
});

describe('after all the bad input', () => {
  it('still serves, and the directory is exactly as before', async () => {
    expect(await scanAll(client, { include_reserved: true })).toEqual(scanBefore);
    expect((await client.status())['applied_revision']).toBe(revisionBefore);
    expect(node.process.exitCode).toBeNull();
    const created = await create(client, { name: 'user.after', server: 'backend1' });
    expect(created['outcome']).toBe('CREATED');
  });
});
