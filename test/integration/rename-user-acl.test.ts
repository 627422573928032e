// Renaming a user renames their identifier in the ACLs of the moved mailboxes,
// as Cyrus's user_renameacl does (imap/user.c): after `user.alice` ->
// `user.alicia`, `mbdir list alicia` shows her folders and `mbdir list alice`
// does not; the same for a domain user (`alice@example.com`), negative entries
// follow too, and other identifiers and other mailboxes keep theirs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { aclAsSets, create } from '../helpers/integration.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess;
let client: MbdirClient;
const all = 'lrswipkxtecdan';

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });
});

afterAll(async () => {
  await node?.stop();
});

async function listed(user: string): Promise<string[]> {
  const result = await runCli(['--endpoint', node.endpoint, 'list', user]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('(no ')).map((line) => line.split(/\s+/)[0] ?? '');
}

/** `name rights` of each listed mailbox (the CLI prints `rights LETTERS`). */
async function rightsListed(user: string): Promise<string[]> {
  const result = await runCli(['--endpoint', node.endpoint, 'list', user]);
  return result.stdout.split('\n').filter((line) => line !== '').map((line) => `${line.split(/\s+/)[0] ?? ''} ${/rights (\S+)/.exec(line)?.[1] ?? ''}`);
}

async function aclOf(name: string): Promise<Record<string, string>> {
  return aclAsSets(((await client.getMailbox({ name }))['mailbox']!)['acl']);
}

const entries = (acl: Record<string, string>): Message[] => Object.entries(acl).map(([identifier, rights]) => ({ identifier, rights }));

describe('renaming a user renames their ACL identifier', () => {
  it('user.alice -> user.alicia: alicia lists her folders, alice lists none of them', async () => {
    await create(client, { name: 'user.alice', server: 'backend1', acl: entries({ alice: all, bob: 'lr' }) });
    await create(client, { name: 'user.alice.Sent', server: 'backend1', acl: entries({ alice: all, '-alice': 'd' }) });
    await create(client, { name: 'shared.team', server: 'backend1', acl: entries({ alice: 'lrs' }) });
    expect(await listed('alice')).toEqual(['shared.team', 'user.alice', 'user.alice.Sent']);

    const rename = await runCli(['--endpoint', node.endpoint, 'rename', 'user.alice', 'user.alicia']);
    expect(rename.code, rename.stderr).toBe(0);

    expect(await listed('alicia')).toEqual(['user.alicia', 'user.alicia.Sent']);
    // Her rights, not only the owner's implicit ones (lkxan): she may still read and write her mail.
    expect(await rightsListed('alicia')).toEqual([`user.alicia ${all}`, 'user.alicia.Sent lrswipkxtecan']);
    expect(await listed('alice')).toEqual(['shared.team']);
    expect(await aclOf('user.alicia')).toEqual({ alicia: [...all].sort().join(''), bob: 'lr' });
    expect(await aclOf('user.alicia.Sent')).toEqual({ alicia: [...all].sort().join(''), '-alicia': 'd' });
    // Only the moved mailboxes change, as in Cyrus: another mailbox shared with alice keeps her entry.
    expect(await aclOf('shared.team')).toEqual({ alice: 'lrs' });
    // bob's share of the renamed root follows the new name in his LIST.
    expect(await listed('bob')).toEqual(['user.alicia']);
  });

  it('a domain user: example.com!user.carol -> example.com!user.caro renames carol@example.com only', async () => {
    await create(client, { name: 'example.com!user.carol', server: 'backend1', acl: entries({ 'carol@example.com': all, carol: 'lr' }) });
    await create(client, { name: 'example.com!user.carol.Work', server: 'backend1', acl: entries({ 'carol@example.com': all }) });
    await client.renameMailbox({ name: 'example.com!user.carol', new_name: 'example.com!user.caro' });
    expect(await listed('caro@example.com')).toEqual(['example.com!user.caro', 'example.com!user.caro.Work']);
    expect(await listed('carol@example.com')).toEqual([]);
    // `carol` without a domain is another user: her entry stays.
    expect(await aclOf('example.com!user.caro')).toEqual({ 'caro@example.com': [...all].sort().join(''), carol: 'lr' });
  });

  it('a sub-folder renamed within a user, or a shared folder, changes no identifier', async () => {
    await create(client, { name: 'user.dan', server: 'backend1', acl: entries({ dan: all }) });
    await create(client, { name: 'user.dan.Old', server: 'backend1', acl: entries({ dan: all }) });
    await client.renameMailbox({ name: 'user.dan.Old', new_name: 'user.dan.New' });
    expect(await aclOf('user.dan.New')).toEqual({ dan: [...all].sort().join('') });
  });
});
