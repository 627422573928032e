/**
 * Writes sent together and hierarchy values from the cache, against a real
 * etcd (one member for the file). Independent writes planned in one turn go
 * as one etcd request and commit at one revision; a write touching a key
 * another of them puts goes apart, and etcd's guard lets only one of the two
 * win. A plan made from a node's cache on a view older than another node's
 * write to the same hierarchy is refused by etcd; once the view applied that
 * write (through the cache's apply path) the plan holds every record. Then
 * two node processes write to the same few hierarchies with many callers
 * each: every hierarchy value in etcd equals both nodes' scans.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { ChangeEvent, MailboxRecord } from '../../src/model/records.js';
import { EtcdClient, type WatchResponse } from '../../src/replication/etcd-client.js';
import { Keyspace, planTxn } from '../../src/replication/etcd-keyspace.js';
import { EtcdWriteBatcher } from '../../src/replication/etcd-write-batcher.js';
import { HierarchyCache } from '../../src/replication/hierarchy-cache.js';
import { Store } from '../../src/store/store.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import type { Message } from '../helpers/message.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { mailboxRecord as record } from '../helpers/records.js';

let etcd: EtcdCluster;
let client: EtcdClient;
const started: ServerProcess[] = [];

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
  client = new EtcdClient([etcd.endpoints()]);
}, 60_000);

afterAll(async () => {
  for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
  client?.close();
  await etcd?.stop();
});

/** The names in etcd's value of hierarchy `hierarchy` under `prefix`. */
async function namesInEtcd(prefix: string, hierarchy: string): Promise<string[]> {
  const found = await client.range({ key: Buffer.from(`${prefix}/hier/${hierarchy}`) });
  const value = JSON.parse(found.kvs[0]?.value.toString() ?? '{"mailboxes":[]}') as { mailboxes: MailboxRecord[] };
  return value.mailboxes.map((mailbox) => mailbox.name).sort();
}

/** The keys of the watch events of revision `revision` in [key, end), in the order etcd sends them. */
function watchedKeys(key: string, end: string, revision: number): Promise<string[]> {
  const stream = client.openWatch();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`no watch events of revision ${revision} in 5 s`));
    }, 5000);
    stream.on('error', () => undefined);
    stream.on('data', (response: WatchResponse) => {
      const keys = response.events.filter((event) => event.kv.mod_revision === revision).map((event) => event.kv.key.toString());
      if (keys.length === 0) return;
      clearTimeout(timer);
      stream.cancel();
      resolve(keys);
    });
    stream.write({ create_request: { key: Buffer.from(key), range_end: Buffer.from(end), start_revision: revision } });
  });
}

/** Applies a committed change to `store` and its cache as the follower does. */
function applyAsFollower(store: Store, cache: HierarchyCache, mailbox: MailboxRecord, revision: number): void {
  const change = { kind: 'mailbox.put' as const, mailbox: { ...mailbox } };
  store.applyCommits([{ changes: [change], revision }]);
  const events: ChangeEvent[] = [{ revision, change }];
  cache.applied(events, revision);
}

describe('etcd writes sent together', () => {
  it('independent writes share one request and one revision; a write on a key another puts goes apart and one of the two wins', async () => {
    const keyspace = new Keyspace('/batch');
    const batcher = new EtcdWriteBatcher(client, keyspace);
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const plan = (name: string, uniqueid: string) => planTxn(keyspace, store, [{ kind: 'mailbox.put', mailbox: record(name, uniqueid) }], `rq-${uniqueid}`, 0);
    const [ann, bob, annSent] = await Promise.all([
      batcher.txn(plan('user.ann', 'a1'), new Set()),
      batcher.txn(plan('user.bob', 'b1'), new Set()),
      batcher.txn(plan('user.ann.Sent', 'a2'), new Set()), // same hierarchy value as user.ann
    ]);
    expect(bob.succeeded).toBe(true);
    expect([ann.succeeded, annSent.succeeded].filter(Boolean)).toHaveLength(1);
    if (ann.succeeded) expect(ann.header.revision).toBe(bob.header.revision);
    else expect(annSent.header.revision).not.toBe(bob.header.revision);
    // Each write's log went under its own slot; the plain log key holds the newest revision.
    const logs = await client.range({ key: Buffer.from('/batch/log'), range_end: Buffer.from('/batch/log0') });
    expect(logs.kvs.map((kv) => kv.key.toString()).sort()).toContain('/batch/log/1');
    const newest = Math.max(ann.header.revision, annSent.header.revision, bob.header.revision);
    expect(logs.kvs.find((kv) => kv.key.toString() === '/batch/log')?.mod_revision).toBe(newest);
    // The watch gives the batch's revision slots first and its own log last: a node of an
    // earlier version (which keeps the last log of a revision) then meets a value it cannot
    // apply, instead of applying one slot's changes alone (docs/cluster.md, upgrading).
    const batchRevision = bob.header.revision;
    const watched = await watchedKeys('/batch/log', '/batch/log0', batchRevision);
    expect(watched.at(-1)).toBe('/batch/log');
    expect(watched.slice(0, -1).every((key) => key.startsWith('/batch/log/'))).toBe(true);
    store.close();
  });

  it("a plan from the cache on a view older than another node's write to the hierarchy is refused; after the apply it holds every record", async () => {
    const keyspace = new Keyspace('/stale');
    const mine = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const cache = new HierarchyCache();
    const root = record('user.sam', 's0');
    const first = await client.txn(planTxn(keyspace, mine, [{ kind: 'mailbox.put', mailbox: root }], 'rq-s0', 0, cache));
    applyAsFollower(mine, cache, root, first.header.revision);
    expect([...cache.get(mine, 'user.sam').keys()]).toEqual(['s0']);
    // Another node, whose view is current, adds a folder to the same hierarchy.
    const other = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    other.applyCommits([{ changes: [{ kind: 'mailbox.put', mailbox: { ...root } }], revision: first.header.revision }]);
    const drafts = record('user.sam.Drafts', 's1');
    const theirs = await client.txn(planTxn(keyspace, other, [{ kind: 'mailbox.put', mailbox: drafts }], 'rq-s1', first.header.revision));
    expect(theirs.succeeded).toBe(true);
    // This node, not caught up, plans from its cache: the guard on the hierarchy refuses it.
    const sent = record('user.sam.Sent', 's2');
    const stale = await client.txn(planTxn(keyspace, mine, [{ kind: 'mailbox.put', mailbox: sent }], 'rq-s2', mine.revision(), cache));
    expect(stale.succeeded).toBe(false);
    expect(await namesInEtcd('/stale', 'user.sam')).toEqual(['user.sam', 'user.sam.Drafts']);
    // Caught up through the apply path, the next plan keeps the other node's folder.
    applyAsFollower(mine, cache, drafts, theirs.header.revision);
    const retried = await client.txn(planTxn(keyspace, mine, [{ kind: 'mailbox.put', mailbox: sent }], 'rq-s2', mine.revision(), cache));
    expect(retried.succeeded).toBe(true);
    expect(await namesInEtcd('/stale', 'user.sam')).toEqual(['user.sam', 'user.sam.Drafts', 'user.sam.Sent']);
    mine.close();
    other.close();
  });

  it('two nodes writing the same few hierarchies with many callers: every hierarchy value equals both scans', async () => {
    const nodes = [];
    for (let index = 0; index < 2; index += 1) {
      const node = await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/shared']);
      started.push(node);
      nodes.push(node);
    }
    const [a, b] = nodes.map((node) => node.client()) as [MbdirClient, MbdirClient];
    await registerServers(a, ['imap1', 'imap2']);
    const users = 4;
    for (let user = 0; user < users; user += 1) await a.createMailbox({ mailbox: { name: `user.h${user}` } });
    let next = 0;
    // A write that lost every race (the bounded retries) did not commit: the caller retries it.
    const retried = async (call: () => Promise<unknown>): Promise<void> => {
      for (;;) {
        try {
          await call();
          return;
        } catch (error) {
          if (!(error instanceof ClientError && /races in a row/.test(error.message))) throw error;
        }
      }
    };
    const writer = async (through: MbdirClient, tag: string): Promise<void> => {
      while (next < 240) {
        const index = next;
        next += 1;
        const name = `user.h${index % users}.${tag}${index}`;
        await retried(() => through.createMailbox({ mailbox: { name } }));
        if (index % 3 === 0) await retried(() => through.setAcl({ name, identifier: `reader${index}`, rights: 'lrs' }));
        if (index % 4 === 0) await retried(() => through.renameMailbox({ name, new_name: `${name}r` }));
        else if (index % 5 === 0) await retried(() => through.deleteMailbox({ name }));
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, index) => writer(index % 2 === 0 ? a : b, index % 2 === 0 ? 'a' : 'b')));
    const newest = Math.max(Number((await a.status())['applied_revision']), Number((await b.status())['applied_revision']));
    for (const through of [a, b]) {
      const scanned = new Map<string, string[]>();
      for await (const mailbox of through.scanMailboxes({ min_revision: newest })) {
        const name = String((mailbox as unknown as Message)['name']);
        const hierarchy = name.split('.').slice(0, 2).join('.');
        scanned.set(hierarchy, [...(scanned.get(hierarchy) ?? []), name]);
      }
      for (let user = 0; user < users; user += 1) {
        const hierarchy = `user.h${user}`;
        expect(await namesInEtcd('/shared', hierarchy)).toEqual((scanned.get(hierarchy) ?? []).sort());
      }
    }
  }, 120_000);
});
