/**
 * The sizing rule of docs/cluster.md, measured: the bench's directory shape
 * (users of 20 folders, businesses, a few shares) written into a real etcd
 * exactly as nodes write it (planTxn's keys and values), then history
 * compacted and the member defragmented, so the file holds only live keys.
 * Prints keys per user and bytes per user (key and value bytes, and etcd's
 * file), and checks them against the figures docs/cluster.md states.
 * MBDIR_SIZING_USERS sets the users (default 2,000: 42,000 keys, seconds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../src/model/records.js';
import { EtcdClient } from '../../src/replication/etcd-client.js';
import { Keyspace, planTxn } from '../../src/replication/etcd-keyspace.js';
import { Store } from '../../src/store/store.js';
import { defaultShape, generateMailboxes, generatePlacement, type DirectoryShape } from '../../tools/bench/generate.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';

const users = Number(process.env['MBDIR_SIZING_USERS'] ?? 2_000);
const shape: DirectoryShape = { ...defaultShape, users, businesses: Math.max(1, users / 100), publicFolders: 0 };
/** Users written by one transaction (21 puts and 22 guards each, under etcd --max-txn-ops). */
const usersPerTxn = 5;
/** The figures docs/cluster.md states (and the band a measurement may stray from them). */
const documented = { keysPerUser: 22, etcdBytesPerUser: 12_000, tolerance: 0.35 };

let etcd: EtcdCluster;
let client: EtcdClient;

beforeAll(async () => {
  etcd = await EtcdCluster.start(1);
  client = new EtcdClient([etcd.endpoints()]);
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

/** Compacts all history and defragments the one member: the file then holds live keys only. */
async function settle(): Promise<{ dbSize: number; dbSizeInUse: number }> {
  await client.compact(await etcd.revision(), true);
  await client.defragment(etcd.endpoints());
  return etcd.database(0);
}

describe(`etcd footprint of ${users} users of ${shape.foldersPerUser} folders`, () => {
  it('matches the keys and bytes per user of the sizing rule', async () => {
    const keyspace = new Keyspace('/sizing');
    const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
    const empty = await settle();
    let written = 0;
    let rawBytes = 0;
    let head = await etcd.revision();
    const send = async (changes: Change[]): Promise<void> => {
      // Decided on a view as current as etcd: the guards pass, as they do for a node that keeps up.
      const txn = planTxn(keyspace, store, changes, `sizing-${written}`, head);
      for (const op of txn.success) {
        // The log key is overwritten by every write: not part of what stays.
        if ('request_put' in op && !op.request_put.key.equals(Buffer.from(keyspace.logKey()))) {
          rawBytes += op.request_put.key.length + op.request_put.value.length;
        }
      }
      const response = await client.txn(txn);
      expect(response.succeeded).toBe(true);
      head = response.header.revision;
      written += 1;
    };
    const placement = generatePlacement(shape);
    for (let start = 0; start < placement.length; start += 100) await send(placement.slice(start, start + 100));
    let batch: Change[] = [];
    let usersInBatch = 0;
    for (const mailbox of generateMailboxes(shape)) {
      if (mailbox.name.split('.').length === 2) usersInBatch += 1;
      if (usersInBatch > usersPerTxn) {
        await send(batch);
        batch = [];
        usersInBatch = 1;
      }
      batch.push({ kind: 'mailbox.put', mailbox });
    }
    await send(batch);
    const keys = (await etcd.keyCount('/sizing/')) - 1; // less the log key
    const full = await settle();
    const keysPerUser = keys / users;
    const etcdBytesPerUser = (full.dbSize - empty.dbSize) / users;
    console.log(
      `sizing ${users} users x ${shape.foldersPerUser} folders: ${keys} keys (${keysPerUser.toFixed(2)} a user); ` +
        `keys and values ${(rawBytes / users).toFixed(0)} bytes a user; etcd file ${(etcdBytesPerUser).toFixed(0)} bytes a user ` +
        `(${((full.dbSize - empty.dbSize) / keys).toFixed(0)} a key; file ${full.dbSize} bytes, in use ${full.dbSizeInUse})`,
    );
    expect(keysPerUser).toBeCloseTo(documented.keysPerUser, 0);
    expect(etcdBytesPerUser).toBeGreaterThan(documented.etcdBytesPerUser * (1 - documented.tolerance));
    expect(etcdBytesPerUser).toBeLessThan(documented.etcdBytesPerUser * (1 + documented.tolerance));
  }, 180_000);
});
