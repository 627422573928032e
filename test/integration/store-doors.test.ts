/**
 * The store's doors: the reads (StoreQueries) work on a read-only connection
 * of their own, as a reader thread opens one, and see what the Store commits;
 * a write through `transaction` that throws leaves nothing behind, neither
 * rows nor counters nor cached answers, and the revision is read again.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxRecord } from '../../src/model/records.js';
import { StoreQueries } from '../../src/store/queries.js';
import { Store } from '../../src/store/store.js';

function mailbox(uniqueid: string, name: string, acl: MailboxRecord['acl'] = []): MailboxRecord {
  return {
    uniqueid, name, server: 'imap1', partition: 'default', replicas: [], acl, mbtype: 'e', state: 'ACTIVE',
    uidvalidity: 1, createdmodseq: 1, foldermodseq: 1, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
  };
}

let dataDir: string;
let store: Store;
let reader: Database.Database;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'mbdir-doors-'));
  store = new Store({ dataDir, synchronous: 'NORMAL' });
  reader = new Database(store.path, { readonly: true, fileMustExist: true });
});

afterAll(() => {
  reader.close();
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the store doors', () => {
  it('answers reads on a read-only connection of its own, as the store wrote them', () => {
    const shared = [{ identifier: 'group:staff', rights: 'lr' }];
    store.transaction(() =>
      store.apply([
        { kind: 'mailbox.put', mailbox: mailbox('a1', 'user.ann') },
        { kind: 'mailbox.put', mailbox: mailbox('a2', 'user.ann.Sent') },
        { kind: 'mailbox.put', mailbox: mailbox('b1', 'user.bob.Shared', shared) },
      ], store.revision() + 1),
    );
    const queries = new StoreQueries(reader);
    expect(queries.mailboxByName('user.ann.Sent')?.uniqueid).toBe('a2');
    expect(queries.subtree('user.ann', 10).map((found) => found.name)).toEqual(['user.ann', 'user.ann.Sent']);
    expect(queries.listCandidates('ann', ['ann', 'group:staff'], 10, () => new Error('too many')).map((row) => row.mailbox.name)).toEqual([
      'user.ann', 'user.ann.Sent', 'user.bob.Shared',
    ]);
    expect(queries.placementCounts()).toEqual([{ server: 'imap1', users: 1, mailboxes: 3 }]);
    expect(queries.storedRevision()).toBe(store.revision());
    expect(() => reader.exec("DELETE FROM mailboxes WHERE name = 'user.ann'")).toThrow(/readonly/);
  });

  it('rolls a throwing transaction back whole: rows, counters, cached LIST answers and the revision', () => {
    const revision = store.revision();
    const listed = () => store.listCandidates('carl', ['group:staff'], 10, () => new Error('too many')).map((row) => row.mailbox.name);
    expect(listed()).toEqual(['user.bob.Shared']); // now cached
    expect(() =>
      store.transaction(() => {
        store.apply([{ kind: 'mailbox.put', mailbox: mailbox('b2', 'user.bob.More', [{ identifier: 'group:staff', rights: 'lr' }]) }], revision + 1);
        expect(listed()).toEqual(['user.bob.Shared', 'user.bob.More']);
        throw new Error('a later change failed');
      }),
    ).toThrow(/later change/);
    expect(store.revision()).toBe(revision);
    expect(listed()).toEqual(['user.bob.Shared']);
    expect(store.mailboxByName('user.bob.More')).toBeUndefined();
    expect(store.placementCounts()).toEqual([{ server: 'imap1', users: 1, mailboxes: 3 }]);
  });
});
