/**
 * A backend writes only inside hierarchies homed on its own server (or where it
 * is a declared replica), over gRPC with real tokens: backend:b1 can neither
 * plant `user.bob.Evil` in bob's hierarchy on b2 (it would show in bob's LIST
 * and block bob's MoveUser) nor rename its own folder into another server's
 * user. Its own hierarchies, a new user, and a folder an admin placed on b1
 * explicitly stay writable; an admin may still place a sub-folder elsewhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { create, expectError } from '../helpers/integration.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-hierarchy-'));
const tokenFile = join(directory, 'tokens');
let server: ServerProcess;
let admin: MbdirClient;
let b1: MbdirClient;
let b2: MbdirClient;

async function token(name: string, role: string): Promise<string> {
  const result = await runCli(['token', 'add', '--tokens', tokenFile, '--name', name, '--role', role]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

const all = 'lrswipkxtecdan';

beforeAll(async () => {
  const tokens = { ops: await token('ops', 'admin'), b1: await token('b1', 'backend:b1'), b2: await token('b2', 'backend:b2') };
  server = await startServer(['--tokens', tokenFile]);
  admin = server.client(tokens.ops);
  b1 = server.client(tokens.b1);
  b2 = server.client(tokens.b2);
  await admin.putServer({ name: 'b1', imap_address: '127.0.0.1:1143' });
  await admin.putServer({ name: 'b2', imap_address: '127.0.0.1:2143' });
  await create(b2, { name: 'user.bob', uniqueid: 'bob', server: 'b2', acl: [{ identifier: 'bob', rights: all }] });
  await create(b2, { name: 'user.dave', uniqueid: 'dave', server: 'b2', acl: [{ identifier: 'dave', rights: all }] });
  await create(b1, { name: 'user.carol', uniqueid: 'carol', server: 'b1', acl: [{ identifier: 'carol', rights: all }] });
  await create(b1, { name: 'user.carol.Drafts', uniqueid: 'carol-drafts', server: 'b1' });
});

afterAll(async () => {
  await server?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function listNames(user: string): Promise<string[]> {
  const answer = await admin.listMailboxes({ user, pattern: '*' });
  return (answer['mailboxes']).map((entry) => String((entry['mailbox']!)['name']));
}

describe('a backend principal and other servers\' hierarchies', () => {
  it('refuses backend:b1 a folder in bob\'s hierarchy on b2: not in bob\'s LIST, and bob still moves', async () => {
    await expectError(
      create(b1, { name: 'user.bob.Evil', uniqueid: 'evil', server: 'b1', acl: [{ identifier: 'bob', rights: 'lrs' }] }),
      'PERMISSION_DENIED',
      /backend:b1 .*"user\.bob\.Evil" would be in the hierarchy of "user\.bob", on b2/,
    );
    expect(await listNames('bob')).toEqual(['user.bob']);
    // Without a server the create follows the user to b2: still not b1's to write.
    await expectError(create(b1, { name: 'user.bob.Evil2', uniqueid: 'evil2' }), 'PERMISSION_DENIED');
    const moved = await admin.moveUser({ user: 'bob', from_server: 'b2', to_server: 'b1' });
    expect((moved['mailboxes']).map((mailbox) => mailbox['server'])).toEqual(['b1']);
    await admin.moveUser({ user: 'bob', from_server: 'b1', to_server: 'b2' });
  });

  it('refuses backend:b1 a rename of its own folder into another server\'s user', async () => {
    await expectError(
      b1.renameMailbox({ name: 'user.carol.Drafts', new_name: 'user.dave.Drafts' }),
      'PERMISSION_DENIED',
      /"user\.dave\.Drafts" would be in the hierarchy of "user\.dave", on b2/,
    );
    expect(await listNames('dave')).toEqual(['user.dave']);
    expect((await admin.getMailbox({ name: 'user.carol.Drafts' }))['mailbox']).toMatchObject({ server: 'b1' });
  });

  it('lets backend:b1 write its own hierarchies and new users, and rename within them', async () => {
    await create(b1, { name: 'user.carol.Sent', uniqueid: 'carol-sent', server: 'b1' });
    await b1.renameMailbox({ name: 'user.carol.Sent', new_name: 'user.carol.Outbox' });
    await create(b1, { name: 'user.erin', uniqueid: 'erin', server: 'b1', acl: [{ identifier: 'erin', rights: all }] });
    await b1.renameMailbox({ name: 'user.erin', new_name: 'user.erina' });
    expect(await listNames('carol')).toEqual(['user.carol', 'user.carol.Drafts', 'user.carol.Outbox']);
  });

  it('lets a declared replica write in the hierarchy it replicates', async () => {
    await create(b2, { name: 'user.rep', uniqueid: 'rep', server: 'b2' });
    await create(b1, { name: 'user.rep', uniqueid: 'rep', server: 'b1' }); // b1 joins as a replica
    const folder = await create(b1, { name: 'user.rep.Sub', uniqueid: 'rep-sub', server: 'b1' });
    expect(folder['outcome']).toBe('CREATED');
  });

  it('lets an admin place a sub-folder on another server explicitly, and that backend keep it up', async () => {
    await create(admin, { name: 'user.bob.Archive', uniqueid: 'bob-archive', server: 'b1' });
    await b1.setAcl({ name: 'user.bob.Archive', identifier: 'bob', rights: 'lrs' });
    expect(await listNames('bob')).toEqual(['user.bob', 'user.bob.Archive']);
  });

  it('reports a SyncServer entry in another server\'s hierarchy as a conflict, and syncs the rest', async () => {
    const held = [
      ['user.carol', 'carol'], ['user.carol.Drafts', 'carol-drafts'], ['user.carol.Outbox', 'carol-sent'], ['user.erina', 'erin'],
      ['user.rep', 'rep'], ['user.rep.Sub', 'rep-sub'], ['user.bob.Archive', 'bob-archive'],
    ];
    const listing = [...held, ['user.bob.Evil', 'evil'], ['user.carol.New', 'carol-new']].map(([name, uniqueid]) => ({ name, uniqueid }));
    const report = await b1.syncServer('b1', false, [listing] as never);
    const conflicting = report['conflicting'];
    expect(conflicting.map((entry) => (entry['mailbox']!)['name'])).toEqual(['user.bob.Evil']);
    expect(conflicting[0]?.['reason']).toMatch(/in the hierarchy of "user\.bob", on b2/);
    expect((report['added']).map((mailbox) => mailbox['name'])).toEqual(['user.carol.New']);
    expect(report['removed_count']).toBe(0);
    expect(await listNames('bob')).toEqual(['user.bob', 'user.bob.Archive']);
  });
});
