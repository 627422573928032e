// ListMailboxes against the real server: IMAP patterns (`*`, `%`, reference),
// ACL visibility (user, groups, anyone, negative rights), shared folders of
// other users, my_rights, has_children, pagination and domain users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { create } from '../helpers/integration.js';
import type { ListMailboxesRequest, ListedMailbox__Output } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;

const all = 'lrswipkxtecdan';
const fixtures: Array<[string, Record<string, string>]> = [
  ['user.alice', { alice: all }],
  ['user.alice.Sent', { alice: all }],
  ['user.alice.Sent.2024', {}],
  ['user.alice.Trash', { alice: all }],
  ['user.alice-x', { 'alice-x': all, alice: 'lr' }],
  ['user.bob', { bob: all }],
  ['user.bob.Projects', { bob: all, alice: 'lr' }],
  ['user.bob.Private', { bob: all }],
  ['shared.support', { anyone: 'lrs' }],
  ['shared.support.Tickets', { anyone: 'lr' }],
  ['shared.staff', { 'group:staff': 'lrs' }],
  ['shared.secret', { anyone: 'lrs', '-alice': 'l' }],
  ['shared.readable', { anyone: 'r' }],
  ['example.com!user.alice', { 'alice@example.com': all }],
  ['example.com!user.alice.Sent', {}],
  ['example.com!shared.news', { anyone: 'lrs' }],
  ['example.com!user.zed', { 'zed@example.com': all }],
];

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1' });
  for (const [name, acl] of fixtures) {
    const entries = Object.entries(acl).map(([identifier, rights]) => ({ identifier, rights }));
    await create(client, { name, server: 'backend1', acl: entries });
  }
});

afterAll(async () => {
  await node?.stop();
});

async function list(request: ListMailboxesRequest): Promise<ListedMailbox__Output[]> {
  const response = await client.listMailboxes(request);
  expect(response['next_page_token']).toBe('');
  return response['mailboxes'];
}

async function listNames(request: ListMailboxesRequest): Promise<string[]> {
  return (await list(request)).map((entry) => String((entry['mailbox']!)['name']));
}

describe('ListMailboxes', () => {
  it('lists with `*` everything the user may see, in Cyrus sort-key order', async () => {
    expect(await listNames({ user: 'alice', pattern: '*' })).toEqual([
      'shared.support',
      'shared.support.Tickets',
      'user.alice',
      'user.alice.Sent',
      'user.alice.Sent.2024',
      'user.alice.Trash',
      // `user.alice-x` sorts after alice's subtree: 0x1F (the separator's key byte) < '-'.
      'user.alice-x',
      'user.bob.Projects',
    ]);
  });

  it('matches `%` within one level only, and joins reference and pattern', async () => {
    expect(await listNames({ user: 'alice', pattern: 'user.%' })).toEqual(['user.alice', 'user.alice-x']);
    expect(await listNames({ user: 'alice', pattern: 'user.alice.%' })).toEqual(['user.alice.Sent', 'user.alice.Trash']);
    expect(await listNames({ user: 'alice', reference: 'user.alice.', pattern: '%' })).toEqual(['user.alice.Sent', 'user.alice.Trash']);
    expect(await listNames({ user: 'alice', reference: 'user.alice.', pattern: '*' })).toEqual([
      'user.alice.Sent',
      'user.alice.Sent.2024',
      'user.alice.Trash',
    ]);
    expect(await listNames({ user: 'alice', pattern: 'shared.support' })).toEqual(['shared.support']);
    expect(await listNames({ user: 'alice', pattern: '%' })).toEqual([]);
  });

  it('shows group mailboxes only to members of the group', async () => {
    expect(await listNames({ user: 'alice', pattern: 'shared.*' })).not.toContain('shared.staff');
    expect(await listNames({ user: 'alice', groups: ['group:staff'], pattern: 'shared.*' })).toContain('shared.staff');
  });

  it('applies `anyone`, and negative rights hide a mailbox from that user only', async () => {
    const bob = await listNames({ user: 'bob', pattern: 'shared.*' });
    expect(bob).toEqual(['shared.secret', 'shared.support', 'shared.support.Tickets']);
    expect(await listNames({ user: 'alice', pattern: 'shared.*' })).toEqual(['shared.support', 'shared.support.Tickets']);
    // A mailbox whose rights lack `l` is never listed.
    expect(bob).not.toContain('shared.readable');
  });

  it('lists shared folders of other users but not their private ones', async () => {
    const names = await listNames({ user: 'alice', pattern: 'user.bob.*' });
    expect(names).toEqual(['user.bob.Projects']);
    expect(await listNames({ user: 'bob', pattern: 'user.bob*' })).toEqual(['user.bob', 'user.bob.Private', 'user.bob.Projects']);
  });

  it('lists a mailbox reached through several identifiers once, with the union of their rights', async () => {
    await create(client, {
      name: 'team.twice',
      server: 'backend1',
      acl: [{ identifier: 'anyone', rights: 'l' }, { identifier: 'carol', rights: 'lr' }, { identifier: 'group:ops', rights: 'ls' }],
    });
    const entries = await list({ user: 'carol', groups: ['group:ops'], pattern: 'team.*' });
    expect(entries.map((entry) => [(entry['mailbox']!)['name'], entry['my_rights']])).toEqual([['team.twice', 'lrs']]);
  });

  it('sees at once a group or anyone mailbox shared, unshared, renamed and deleted (nothing stale is kept between LISTs)', async () => {
    const names = (): Promise<string[]> => listNames({ user: 'dave', groups: ['group:cache'], pattern: 'cache.*' });
    await create(client, { name: 'cache.team', server: 'backend1', acl: [{ identifier: 'group:cache', rights: 'lr' }] });
    expect(await names()).toEqual(['cache.team']);
    await client.setAcl({ name: 'cache.team', identifier: 'group:cache', rights: '' });
    expect(await names()).toEqual([]);
    await client.setAcl({ name: 'cache.team', identifier: 'group:cache', rights: 'lr' });
    expect(await names()).toEqual(['cache.team']);
    await client.renameMailbox({ name: 'cache.team', new_name: 'cache.renamed' });
    expect(await names()).toEqual(['cache.renamed']);
    await create(client, { name: 'cache.public', server: 'backend1', acl: [{ identifier: 'anyone', rights: 'l' }] });
    expect(await names()).toEqual(['cache.public', 'cache.renamed']);
    await client.deleteMailbox({ name: 'cache.renamed' });
    await client.setAcl({ name: 'cache.public', identifier: 'anyone', rights: '' });
    expect(await names()).toEqual([]);
  });

  it('answers my_rights and has_children', async () => {
    const entries = await list({ user: 'alice', pattern: '*' });
    const byName = new Map(entries.map((entry) => [String((entry['mailbox']!)['name']), entry]));
    expect(byName.get('user.alice')?.['my_rights']).toBe(all);
    expect(byName.get('user.bob.Projects')?.['my_rights']).toBe('lr');
    expect(byName.get('shared.support')?.['my_rights']).toBe('lrs');
    expect(byName.get('user.alice')?.['has_children']).toBe(true);
    expect(byName.get('user.alice.Sent')?.['has_children']).toBe(true);
    expect(byName.get('user.alice.Sent.2024')?.['has_children']).toBe(false);
    expect(byName.get('shared.support')?.['has_children']).toBe(true);
    expect(byName.get('user.bob.Projects')?.['has_children']).toBe(false);
  });

  it("keeps a shared mailbox's has_children current as children come, go, move and get renamed", async () => {
    const hasChildren = async (): Promise<unknown> => {
      const entries = await list({ user: 'erin', groups: ['group:kids'], pattern: 'kids.*' });
      return entries.find((entry) => (entry['mailbox']!)['name'] === 'kids.parent')?.['has_children'];
    };
    await create(client, { name: 'kids.parent', server: 'backend1', acl: [{ identifier: 'group:kids', rights: 'lr' }] });
    expect(await hasChildren()).toBe(false);
    // A child erin cannot see still makes the parent \HasChildren, as in Cyrus.
    await create(client, { name: 'kids.parent.hidden', server: 'backend1', acl: [] });
    expect(await hasChildren()).toBe(true);
    await client.renameMailbox({ name: 'kids.parent.hidden', new_name: 'kids.elsewhere' });
    expect(await hasChildren()).toBe(false);
    await client.renameMailbox({ name: 'kids.elsewhere', new_name: 'kids.parent.back' });
    expect(await hasChildren()).toBe(true);
    await client.deleteMailbox({ name: 'kids.parent.back' });
    expect(await hasChildren()).toBe(false);
  });

  it('pages with page_size and page_token, covering the whole list exactly once', async () => {
    const whole = await listNames({ user: 'alice', pattern: '*' });
    const paged: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const response = await client.listMailboxes({ user: 'alice', pattern: '*', page_size: 3, page_token: token });
      const names = (response['mailboxes']).map((entry) => String((entry['mailbox']!)['name']));
      expect(names.length).toBeLessThanOrEqual(3);
      paged.push(...names);
      token = String(response['next_page_token']);
      pages += 1;
    } while (token !== '' && pages < 10);
    expect(paged).toEqual(whole);
    expect(pages).toBe(Math.ceil(whole.length / 3));
  });

  it('shows a domain user only the names of their domain, with the domain in the name', async () => {
    expect(await listNames({ user: 'alice@example.com', pattern: '*' })).toEqual([
      'example.com!shared.news',
      'example.com!user.alice',
      'example.com!user.alice.Sent',
    ]);
    expect(await listNames({ user: 'alice@example.com', pattern: 'user.%' })).toEqual(['example.com!user.alice']);
    const plain = await listNames({ user: 'alice', pattern: '*' });
    expect(plain.some((name) => name.includes('!'))).toBe(false);
    expect(await listNames({ user: 'alice@other.org', pattern: '*' })).toEqual([]);
  });

  it('answers the revision it read at and honours min_revision already reached', async () => {
    const status = await client.status();
    const response = await client.listMailboxes({
      user: 'alice',
      pattern: 'user.alice',
      min_revision: status['applied_revision'],
    });
    expect(Number(response['revision'])).toBe(Number(status['applied_revision']));
  });
});
