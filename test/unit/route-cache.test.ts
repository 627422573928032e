// RouteCache: remembered routes are never stale. Every kind of write that can
// change a user's route is made through a real directory (standalone engine,
// in-memory SQLite) after the route was remembered, and the next answer must be
// what SQLite says. Also its bound and what it does not remember.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { routeUser } from '../../src/directory/placement-rules.js';
import { RouteCache } from '../../src/directory/route-cache.js';
import { notFound } from '../../src/model/errors.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

describe('routes remembered by the directory follow every change', () => {
  const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  /** The cached answer and SQLite's own, as text, for comparison. */
  const both = (user: string): [string, string] => {
    const answer = (read: () => { server: string; lmtpAddress: string }): string => {
      try {
        const route = read();
        return `${route.server} ${route.lmtpAddress}`;
      } catch (error) {
        return (error as Error).message;
      }
    };
    return [answer(() => directory.routeUser(user, 'lmtp')), answer(() => routeUser(store, user, 'lmtp'))];
  };
  const server = (name: string, lmtpAddress: string) =>
    directory.putServer({ name, imapAddress: '10.0.0.9:143', pop3Address: '', lmtpAddress, state: 'UP', weight: 1, datacenter: '' });

  beforeAll(async () => {
    await server('b1', '10.0.0.1:24');
    await server('b2', '10.0.0.2:24');
    await directory.createMailbox({ name: 'user.alice', server: 'b1' });
    await directory.createMailbox({ name: 'example.com!user.bob', server: 'b1' });
  });
  afterAll(async () => {
    await engine.close();
    store.close();
  });

  it('a create, a move mark and its clearing, a move, a server change, a rename and a delete', async () => {
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['create', () => directory.createMailbox({ name: 'user.carol', server: 'b2' })],
      ['mark moving', () => directory.markUserMoving({ user: 'alice', fromServer: 'b1', toServer: 'b2', clear: false })],
      ['clear the mark', () => directory.markUserMoving({ user: 'alice', fromServer: 'b1', toServer: 'b2', clear: true })],
      ['move', async () => {
        const root = store.mailboxByName('user.alice');
        await directory.moveUser({ user: 'alice', fromServer: 'b1', toServer: 'b2', partition: '', expectRevision: root?.revision ?? 0, expectMailboxes: 1 });
      }],
      ['server address', () => server('b2', '10.0.0.22:24')],
      ['rename', () => directory.renameMailbox('user.carol', 'user.dora')],
      ['delete', () => directory.deleteMailbox('example.com!user.bob')],
    ];
    const users = ['alice', 'bob@example.com', 'carol', 'dora', 'nobody'];
    for (const user of users) both(user);
    for (const [what, step] of steps) {
      await step();
      for (const user of users) {
        const [cached, read] = both(user);
        expect({ what, user, cached }).toEqual({ what, user, cached: read });
      }
    }
    expect(both('alice')[0]).toBe('b2 10.0.0.22:24');
    expect(both('dora')[0]).toBe('b2 10.0.0.22:24');
    expect(both('carol')[0]).toBe('user "carol" has no mailbox');
    expect(both('bob@example.com')[0]).toBe('user "bob@example.com" has no mailbox');
  });
});

describe('RouteCache', () => {
  const route = (server: string) => ({ user: 'u', server, imapAddress: '', pop3Address: '', lmtpAddress: '' });

  it('keeps at most its bound, dropping the oldest', () => {
    const cache = new RouteCache(3);
    let reads = 0;
    const read = (user: string) => cache.route(user, 'lmtp', () => ((reads += 1), route(user)));
    for (const user of ['a', 'b', 'c', 'd']) read(user);
    expect(cache.size).toBe(3);
    read('b');
    expect(reads).toBe(4);
    read('a');
    expect(reads).toBe(5);
  });

  it('remembers a typed refusal but not an untyped failure', () => {
    const cache = new RouteCache(10);
    let reads = 0;
    const refuse = () => {
      reads += 1;
      throw notFound('no such user');
    };
    expect(() => cache.route('x', 'lmtp', refuse)).toThrow('no such user');
    expect(() => cache.route('x', 'lmtp', refuse)).toThrow('no such user');
    expect(reads).toBe(1);
    const fail = () => {
      reads += 1;
      throw new Error('disk I/O error');
    };
    expect(() => cache.route('y', 'lmtp', fail)).toThrow('disk I/O error');
    expect(() => cache.route('y', 'lmtp', fail)).toThrow('disk I/O error');
    expect(reads).toBe(3);
  });
});
