// The directory's mailbox count (Status) is the sum of the placement counters
// apply keeps (one row per server), instead of a count(*) per call (0.5 s of
// the event loop at 2M). It must stay exact: after creates, updates, deletes,
// a rolled-back write and a bulk load it equals what SQLite counts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Change, MailboxRecord } from '../../src/model/records.js';
import { connectionOf } from '../../src/store/connection.js';
import { Store } from '../../src/store/store.js';
import { mailboxRecord as record } from '../helpers/records.js';

let dataDir: string;
let store: Store;
let revision = 0;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'mbdir-count-'));
  store = new Store({ dataDir, synchronous: 'NORMAL' });
  revision = store.revision();
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const counted = (): number => (connectionOf(store).prepare('SELECT count(*) AS n FROM mailboxes').get() as { n: number }).n;
const apply = (changes: Change[]): void => store.transaction(() => store.apply(changes, (revision += 1)));
const put = (mailbox: MailboxRecord): Change => ({ kind: 'mailbox.put', mailbox });

it('stays what SQLite counts through creates, updates, deletes, a rollback and a bulk load', () => {
  expect(store.mailboxCount()).toBe(0);
  apply([put(record('user.a', 'ua')), put(record('user.b', 'ub')), put(record('user.c', 'uc'))]);
  expect(store.mailboxCount()).toBe(3);
  apply([put({ ...record('user.a', 'ua'), server: 'imap2' })]); // an update: no new row
  expect(store.mailboxCount()).toBe(3);
  apply([{ kind: 'mailbox.delete', mailbox: record('user.b', 'ub') }]);
  apply([{ kind: 'mailbox.delete', mailbox: record('user.nobody', 'unobody') }]); // deletes nothing
  expect(store.mailboxCount()).toBe(2);
  expect(store.mailboxCount()).toBe(counted());

  // A write rolled back, as when a later change of a batch fails: its counts go with it.
  expect(() =>
    store.transaction(() => {
      store.apply([put(record('user.d', 'ud'))], revision + 1);
      throw new Error('a later change of the batch failed');
    }),
  ).toThrow(/later change/);
  expect(store.revision()).toBe(revision);
  expect(store.mailboxCount()).toBe(2);

  store.bulkPutMailboxes([record('user.e', 'ue'), record('user.f', 'uf')], (revision += 1));
  expect(store.mailboxCount()).toBe(4);
  expect(store.mailboxCount()).toBe(counted());
});
