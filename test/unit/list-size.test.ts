// How large a LIST is before it runs (StoreQueries.listCandidatesAtMost): the
// caller's own hierarchy plus each identifier's reverse-ACL rows, counted in the
// indexes, against a bound; exactly at the bound it is small, one row past it it
// is not, whichever read the rows come from (own, a group, `anyone`, a share),
// and a group's rows count the same read from the ACL cache or from the index.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { callerIdentifiers } from '../../src/model/acl.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
const directory = new Directory(store, new StandaloneEngine(store));
afterAll(() => store.close());

const own = 5;
const grouped = 4;
const open = 3;
const shared = 2;

beforeAll(async () => {
  await directory.putServer({ name: 'be1', imapAddress: '', pop3Address: '', lmtpAddress: '', state: 'UP', weight: 1, datacenter: '' });
  const create = (name: string, acl: Array<{ identifier: string; rights: string }>) => directory.createMailbox({ name, server: 'be1', acl });
  await create('user.alice', [{ identifier: 'alice', rights: 'lrs' }]);
  for (let index = 1; index < own; index += 1) await create(`user.alice.f${index}`, [{ identifier: 'alice', rights: 'lrs' }]);
  for (let index = 0; index < grouped; index += 1) await create(`shared.g${index}`, [{ identifier: 'group:sales', rights: 'lrs' }]);
  for (let index = 0; index < open; index += 1) await create(`shared.a${index}`, [{ identifier: 'anyone', rights: 'lr' }]);
  for (let index = 0; index < shared; index += 1) await create(`user.bob.s${index}`, [{ identifier: 'alice', rights: 'lr' }]);
});

const total = own + grouped + open + shared;
const atMost = (limit: number): boolean => store.listCandidatesAtMost('alice', callerIdentifiers('alice', ['group:sales']), limit);

describe('the size of a LIST before it runs', () => {
  it('is small at its bound and not one row past it', () => {
    expect(atMost(total)).toBe(true);
    expect(atMost(total - 1)).toBe(false);
    expect(atMost(0)).toBe(false);
  });

  it('counts the group\'s rows the same once the ACL cache holds them', () => {
    expect(directory.listMailboxesHere({ user: 'alice', groups: ['group:sales'], reference: '', pattern: '*', pageSize: 0, pageToken: '' })?.value.mailboxes)
      .toHaveLength(total);
    expect(atMost(total)).toBe(true);
    expect(atMost(total - 1)).toBe(false);
  });

  it('is small for a caller who sees nothing but the open folders', () => {
    expect(store.listCandidatesAtMost('carol', callerIdentifiers('carol', []), open)).toBe(true);
    expect(store.listCandidatesAtMost('carol', callerIdentifiers('carol', []), open - 1)).toBe(false);
  });
});
