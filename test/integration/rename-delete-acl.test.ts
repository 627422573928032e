// RenameMailbox (whole subtree, user rename), DeleteMailbox and SetAcl
// against the real server, with the reverse ACL index seen through LIST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { create, expectError, scanAll, scanNames } from '../helpers/integration.js';
import type { Mailbox__Output } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });
});

afterAll(async () => {
  await node?.stop();
});

async function get(name: string): Promise<Mailbox__Output> {
  return (await client.getMailbox({ name }))['mailbox']!;
}

async function makeAll(names: string[]): Promise<void> {
  for (const name of names) await create(client, { name, uniqueid: `id-${name.replace(/[^A-Za-z0-9]/g, '-')}`, server: 'backend1' });
}

async function listNames(user: string, pattern = '*'): Promise<string[]> {
  const response = await client.listMailboxes({ user, pattern });
  return (response['mailboxes']).map((entry) => String((entry['mailbox']!)['name']));
}

describe('RenameMailbox', () => {
  it('moves the whole subtree, keeps uniqueids and records the name history', async () => {
    await makeAll(['shared.ra', 'shared.ra.Sent', 'shared.ra.Sent.Old', 'shared.ra2']);
    const response = await client.renameMailbox({ name: 'shared.ra', new_name: 'shared.rb' });
    const renamed = response['mailboxes'];
    expect(renamed.map((mailbox) => mailbox['name'])).toEqual(['shared.rb', 'shared.rb.Sent', 'shared.rb.Sent.Old']);
    expect(await scanNames(client, { prefix: 'shared.ra' })).toEqual([]);
    const names = (await scanAll(client)).map((mailbox) => String(mailbox['name'])).filter((name) => name.startsWith('shared.r'));
    expect(names).toEqual(['shared.ra2', 'shared.rb', 'shared.rb.Sent', 'shared.rb.Sent.Old']);
    const sent = await get('shared.rb.Sent');
    expect(sent['uniqueid']).toBe('id-shared-ra-Sent');
    expect(sent['name_history']).toEqual(['shared.ra.Sent']);
    expect(Number(sent['revision'])).toBe(Number(response['revision']));
    await expectError(client.getMailbox({ name: 'shared.ra.Sent' }), 'NOT_FOUND', /shared\.ra\.Sent/);
  });

  it('refuses a target that is taken, for the root or any child, changing nothing', async () => {
    await makeAll(['shared.rc', 'shared.rc.Sent', 'shared.rd', 'shared.re.Sent']);
    await expectError(client.renameMailbox({ name: 'shared.rc', new_name: 'shared.rd' }), 'ALREADY_EXISTS', /shared\.rd/);
    const before = await scanAll(client);
    await expectError(
      client.renameMailbox({ name: 'shared.rc', new_name: 'shared.re' }),
      'ALREADY_EXISTS',
      /shared\.re\.Sent/,
    );
    expect(await scanAll(client)).toEqual(before);
  });

  it('refuses to rename a mailbox into its own subtree', async () => {
    await makeAll(['shared.rf']);
    await expectError(
      client.renameMailbox({ name: 'shared.rf', new_name: 'shared.rf.Inner' }),
      'INVALID_ARGUMENT',
      /own subtree/,
    );
    await expectError(client.renameMailbox({ name: 'shared.nothing', new_name: 'shared.rg' }), 'NOT_FOUND', /shared\.nothing/);
  });

  it('renaming user.a renames the user: resolve and business follow', async () => {
    await client.putBusiness({ id: 'acme', home_server: 'backend1' });
    await makeAll(['user.olduser', 'user.olduser.Sent']);
    await client.setUserBusiness({ user: 'olduser', business: 'acme' });
    await client.renameMailbox({ name: 'user.olduser', new_name: 'user.newuser' });
    const resolved = await client.resolveUser({ user: 'newuser' });
    expect(resolved).toMatchObject({ user: 'newuser', server: 'backend1', imap_address: '127.0.0.1:1143', business: 'acme' });
    await expectError(client.resolveUser({ user: 'olduser' }), 'NOT_FOUND', /olduser/);
    expect(await listNames('newuser', 'user.newuser*')).toEqual(['user.newuser', 'user.newuser.Sent']);
  });
});

describe('DeleteMailbox', () => {
  it('deletes one mailbox (not its children) and answers the record as it was', async () => {
    await makeAll(['shared.da', 'shared.da.Child']);
    const response = await client.deleteMailbox({ name: 'shared.da' });
    expect((response['mailbox']!)['uniqueid']).toBe('id-shared-da');
    await expectError(client.getMailbox({ name: 'shared.da' }), 'NOT_FOUND');
    expect((await get('shared.da.Child'))['name']).toBe('shared.da.Child');
  });

  it('answers NOT_FOUND for an unknown name and keeps serving', async () => {
    await expectError(client.deleteMailbox({ name: 'shared.no-such' }), 'NOT_FOUND', /shared\.no-such/);
    await expectError(client.deleteMailbox({ name: 'shared.no-such' }), 'NOT_FOUND');
    expect((await client.status())['engine']).toBe('standalone');
    await makeAll(['shared.after-delete']);
    expect((await get('shared.after-delete'))['state']).toBe('ACTIVE');
  });
});

describe('SetAcl and the reverse ACL index', () => {
  it('replaces, adds, removes letters, and empty rights remove the entry', async () => {
    await makeAll(['shared.acl']);
    const acl = async (): Promise<unknown> => (await get('shared.acl'))['acl'];
    expect(await listNames('carol', 'shared.acl')).toEqual([]);

    await client.setAcl({ name: 'shared.acl', identifier: 'carol', rights: 'lr' });
    expect(await acl()).toEqual([{ identifier: 'carol', rights: 'lr' }]);
    expect(await listNames('carol', 'shared.acl')).toEqual(['shared.acl']);

    await client.setAcl({ name: 'shared.acl', identifier: 'carol', rights: '+sw' });
    expect(await acl()).toEqual([{ identifier: 'carol', rights: 'lrsw' }]);

    await client.setAcl({ name: 'shared.acl', identifier: 'carol', rights: '-l' });
    expect(await acl()).toEqual([{ identifier: 'carol', rights: 'rsw' }]);
    expect(await listNames('carol', 'shared.acl')).toEqual([]);

    await client.setAcl({ name: 'shared.acl', identifier: 'carol', rights: 'il' });
    expect(await acl()).toEqual([{ identifier: 'carol', rights: 'li' }]);

    const removed = await client.setAcl({ name: 'shared.acl', identifier: 'carol', rights: '' });
    expect((removed['mailbox']!)['acl']).toEqual([]);
    expect(await listNames('carol', 'shared.acl')).toEqual([]);
  });

  it('indexes groups and negative entries so LIST follows them', async () => {
    await makeAll(['shared.aclg']);
    await client.setAcl({ name: 'shared.aclg', identifier: 'group:ops', rights: 'lr' });
    const asOps = await client.listMailboxes({ user: 'dan', groups: ['group:ops'], pattern: 'shared.aclg' });
    expect((asOps['mailboxes']).map((entry) => (entry['mailbox']!)['name'])).toEqual(['shared.aclg']);
    await client.setAcl({ name: 'shared.aclg', identifier: '-dan', rights: 'l' });
    const denied = await client.listMailboxes({ user: 'dan', groups: ['group:ops'], pattern: 'shared.aclg' });
    expect(denied['mailboxes']).toEqual([]);
    const other = await client.listMailboxes({ user: 'eve', groups: ['group:ops'], pattern: 'shared.aclg' });
    expect(other['mailboxes']).toHaveLength(1);
  });

  it('answers NOT_FOUND for an unknown mailbox and INVALID_ARGUMENT for a bad letter', async () => {
    await expectError(client.setAcl({ name: 'shared.nope', identifier: 'carol', rights: 'lr' }), 'NOT_FOUND', /shared\.nope/);
    await makeAll(['shared.aclbad']);
    await expectError(client.setAcl({ name: 'shared.aclbad', identifier: 'carol', rights: 'lrZ' }), 'INVALID_ARGUMENT', /"Z"/);
    expect((await get('shared.aclbad'))['acl']).toEqual([]);
  });
});
