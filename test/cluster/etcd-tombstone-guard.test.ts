/**
 * Removing a tombstone must not let a stale write through. A mailbox is
 * created and deleted in a real etcd; the sweep removes its two tombstones;
 * then a write decided on a view from before the delete (which still holds the
 * mailbox) is sent. Its guard on the removed keys reads "never written" and
 * would pass; the guard on `maintenance/swept` refuses it, as the tombstone
 * would have. Without that guard, the same transaction resurrects the mailbox:
 * the test shows that too. And a tombstone written again between the sweep's
 * read and its removal is kept while the others of its batch go. One etcd
 * member for the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { EtcdClient, type TxnRequest, type TxnResponse } from '../../src/replication/etcd-client.js';
import { Keyspace, planTxn } from '../../src/replication/etcd-keyspace.js';
import { EtcdMaintenance } from '../../src/replication/etcd-maintenance.js';
import { Store } from '../../src/store/store.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { mailboxRecord as record } from '../helpers/records.js';

let etcd: EtcdCluster;
let client: EtcdClient;
const keyspace = new Keyspace('/guard');

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
  client = new EtcdClient([etcd.endpoints()]);
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

describe('the sweep of tombstones', () => {
  it('refuses a write decided on a view older than the sweep, which the removed tombstone would have refused', async () => {
    const mailbox = record('user.ghost', 'ghost-1');
    const created = await client.txn(planTxn(keyspace, new Store({ dataDir: ':memory:', synchronous: 'OFF' }), [{ kind: 'mailbox.put', mailbox }], 'rq-create', 0));
    expect(created.succeeded).toBe(true);
    // A node's view at the create: it holds the mailbox.
    const stale = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    stale.transaction(() => stale.apply([{ kind: 'mailbox.put', mailbox }], created.header.revision));
    const held = stale.mailboxByName('user.ghost') as MailboxRecord;
    const deleted = await client.txn(planTxn(keyspace, stale, [{ kind: 'mailbox.delete', mailbox: held }], 'rq-delete', created.header.revision));
    expect(deleted.succeeded).toBe(true);

    const maintenance = new EtcdMaintenance(
      client,
      keyspace,
      // Every node applied the delete; no change log, so the sweep scans uid/ and hier/.
      { appliedRevision: () => deleted.header.revision, oldestRetainedRevision: () => Number.MAX_SAFE_INTEGER, changesSince: () => [] },
      { nodeId: 'sweeper', intervalSeconds: 3600, leaseSeconds: 10, compactRetentionRevisions: 0, defragment: false },
      createLogger('silent'),
    );
    await maintenance.runCycle();
    await maintenance.close();
    expect(await etcd.keyCount('/guard/uid/')).toBe(0);
    expect(await etcd.keyCount('/guard/hier/')).toBe(0);
    expect((await maintenance.lastRun())?.sweptTombstones).toBe(2);

    // The stale view changes the ACL of the mailbox it still holds.
    const write = planTxn(keyspace, stale, [{ kind: 'mailbox.put', mailbox: { ...held, acl: [{ identifier: 'anyone', rights: 'lrs' }] } }], 'rq-stale', created.header.revision);
    expect((await client.txn(write)).succeeded).toBe(false);
    // Without the swept guard, etcd takes it: the deleted mailbox would come back.
    const unguarded = { ...write, compare: write.compare.filter((compare) => !compare.key.toString().endsWith('/maintenance/swept')) };
    expect(unguarded.compare.length).toBe(write.compare.length - 1);
    expect((await client.txn(unguarded)).succeeded).toBe(true);
  });

  it('keeps a tombstone written again between its read and its removal, and still removes the others', async () => {
    const sweepKeyspace = new Keyspace('/rewrite');
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    let revision = 0;
    for (const index of [1, 2, 3]) {
      const mailbox = record(`user.r${index}`, `r-${index}`);
      const created = await client.txn(planTxn(sweepKeyspace, store, [{ kind: 'mailbox.put', mailbox }], `c${index}`, revision));
      store.transaction(() => store.apply([{ kind: 'mailbox.put', mailbox }], created.header.revision));
      const deleted = await client.txn(planTxn(sweepKeyspace, store, [{ kind: 'mailbox.delete', mailbox: store.mailboxByName(`user.r${index}`) as MailboxRecord }], `d${index}`, created.header.revision));
      store.transaction(() => store.apply([{ kind: 'mailbox.delete', mailbox }], deleted.header.revision));
      revision = deleted.header.revision;
    }
    // A client that, just before the first removal, writes uid/r-2 again (as a new create would).
    const rewritten = Buffer.from('/rewrite/uid/r-2');
    class RacingClient extends EtcdClient {
      private raced = false;
      override async txn(request: TxnRequest, skip?: ReadonlySet<string>): Promise<TxnResponse> {
        if (!this.raced && request.success.some((op) => 'request_delete_range' in op)) {
          this.raced = true;
          await super.txn({ compare: [], success: [{ request_put: { key: rewritten, value: Buffer.from('{"requestId":"again","uniqueid":"r-2"}') } }], failure: [] });
        }
        return super.txn(request, skip);
      }
    }
    const racing = new RacingClient([etcd.endpoints()]);
    const maintenance = new EtcdMaintenance(
      racing,
      sweepKeyspace,
      { appliedRevision: () => revision, oldestRetainedRevision: () => Number.MAX_SAFE_INTEGER, changesSince: () => [] },
      { nodeId: 'sweeper', intervalSeconds: 3600, leaseSeconds: 10, compactRetentionRevisions: 0, defragment: false },
      createLogger('silent'),
    );
    try {
      await maintenance.runCycle();
      await maintenance.close();
      // Six tombstones read; the one written again stays, the five others are gone.
      expect((await maintenance.lastRun())?.sweptTombstones).toBe(5);
    } finally {
      racing.close();
    }
    expect(await etcd.keyCount('/rewrite/hier/')).toBe(0);
    expect(await etcd.keyCount('/rewrite/uid/')).toBe(1);
    expect(await etcd.get('/rewrite/uid/r-2')).toContain('"again"');
  });
});
