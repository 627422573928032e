/**
 * The standalone engine's group commit on a real SQLite file (synchronous=FULL):
 * writes that arrive together share one transaction, each gets its own
 * revision, and a write that is refused (its decision throws, or its changes
 * fail to apply) takes nothing of the others with it, even when a later write
 * in the batch depends on an earlier one. A started engine checkpoints the WAL
 * from a worker thread, not inside the writers' COMMIT, and flushes it off the
 * event loop before answering; a flush that fails stops every later write.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { conflict } from '../../src/model/errors.js';
import type { ChangeEvent, MailboxRecord } from '../../src/model/records.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { checkpointEveryChanges, walBackstopCheckpointPages, walRestartFrames } from '../../src/store/checkpointer.js';
import { Store } from '../../src/store/store.js';

function record(name: string, uniqueid: string): MailboxRecord {
  return {
    uniqueid, name, server: 'backend1', partition: 'default', replicas: [], acl: [], mbtype: 'e', state: 'ACTIVE',
    uidvalidity: 1, createdmodseq: 0, foldermodseq: 0, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
  };
}

describe('group commit', () => {
  let dataDir: string;
  let store: Store;
  let engine: StandaloneEngine;
  let directory: Directory;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mbdir-group-commit-'));
    store = new Store({ dataDir, synchronous: 'FULL' });
    engine = new StandaloneEngine(store);
    directory = new Directory(store, engine);
    await directory.putServer({ name: 'backend1', imapAddress: '127.0.0.1:143', lmtpAddress: '127.0.0.1:24', pop3Address: '', state: 'UP', weight: 1, datacenter: '' });
  });

  afterEach(async () => {
    await engine.close();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a failed decision and a failed apply alone; the others commit at consecutive revisions', async () => {
    const before = engine.appliedRevision();
    const applied: ChangeEvent[] = [];
    engine.onApplied((events) => applied.push(...events));
    // Issued in one tick: one batch. The fourth write fails inside SQLite (two records of one name)
    // after its first change was written, so the batch is rolled back and run again without it.
    const settled = await Promise.allSettled([
      directory.createMailbox({ name: 'user.a', uniqueid: 'a-id' }),
      directory.createMailbox({ name: 'user.e', uniqueid: 'e-id' }),
      engine.commit(() => {
        throw conflict('refused by its decision');
      }),
      engine.commit(() => ({
        changes: [
          { kind: 'mailbox.put', mailbox: record('user.twice', 'twice-1') },
          { kind: 'mailbox.put', mailbox: record('user.twice', 'twice-2') },
        ],
        result: null,
      })),
      directory.createMailbox({ name: 'user.e', uniqueid: 'e-other-id' }),
      directory.createMailbox({ name: 'user.d', uniqueid: 'd-id' }),
    ]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    const revisions = settled.map((outcome) => (outcome.status === 'fulfilled' ? (outcome.value as { revision: number }).revision : null));
    expect(revisions).toEqual([before + 1, before + 2, null, null, null, before + 3]);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/refused by its decision/);
    expect(String((settled[3] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/);
    // The second create of user.e saw the first one, committed in the same batch.
    expect(String((settled[4] as PromiseRejectedResult).reason)).toMatch(/held by uniqueid e-id/);

    expect(engine.appliedRevision()).toBe(before + 3);
    expect(store.mailboxByName('user.twice')).toBeUndefined();
    expect(store.mailboxByUniqueid('twice-1')).toBeUndefined();
    expect(['user.a', 'user.e', 'user.d'].map((name) => store.mailboxByName(name)?.revision)).toEqual([before + 1, before + 2, before + 3]);
    expect(applied.map((event) => [event.revision, event.change.kind === 'mailbox.put' ? event.change.mailbox.name : ''])).toEqual([
      [before + 1, 'user.a'],
      [before + 2, 'user.e'],
      [before + 3, 'user.d'],
    ]);
    expect(store.changesSince(before, 10).map((event) => event.revision)).toEqual([before + 1, before + 2, before + 3]);

    // What was acknowledged is on disk: a fresh store on the same file reads it back.
    await engine.close();
    store.close();
    store = new Store({ dataDir, synchronous: 'FULL' });
    engine = new StandaloneEngine(store);
    expect(store.revision()).toBe(before + 3);
    expect(store.mailboxByName('user.d')?.uniqueid).toBe('d-id');
  });

  it('once started under FULL, answers writes after an off-loop flush, in revision order, and keeps them', async () => {
    await engine.start();
    const before = engine.appliedRevision();
    const applied: number[] = [];
    engine.onApplied((events) => applied.push(...events.map((event) => event.revision)));
    // Three waves that overlap: later batches commit while an earlier flush is still running.
    const waves = [0, 1, 2].map(async (wave) => {
      await new Promise((resolve) => setTimeout(resolve, wave));
      return Promise.all(Array.from({ length: 100 }, (_, index) => directory.createMailbox({ name: `user.f${wave}x${index}` })));
    });
    const revisions = (await Promise.all(waves)).flat().map((created) => created.revision);
    const expected = Array.from({ length: 300 }, (_, index) => before + 1 + index);
    expect([...revisions].sort((a, b) => a - b)).toEqual(expected);
    expect(applied).toEqual(expected);
    await engine.close();
    store.close();
    store = new Store({ dataDir, synchronous: 'FULL' });
    engine = new StandaloneEngine(store);
    expect(store.revision()).toBe(before + 300);
    expect(store.mailboxCount()).toBe(300);
  });

  it('refuses every write, naming the cause, once the WAL cannot be flushed; reads go on', async () => {
    await engine.start();
    await directory.createMailbox({ name: 'user.kept' });
    // The WAL file vanishing under a serving node (an operator's rm, a broken disk): nothing committed
    // from now on may be acknowledged as durable.
    rmSync(join(dataDir, 'mbdir.sqlite-wal'));
    await expect(directory.createMailbox({ name: 'user.lost' })).rejects.toThrow(/could not flush the directory's write-ahead log to disk.*restart the node/);
    await expect(directory.createMailbox({ name: 'user.later' })).rejects.toMatchObject({ kind: 'Unavailable' });
    expect(store.mailboxByName('user.kept')?.name).toBe('user.kept');
  });

  it('refuses writes when the WAL path names another file than the one SQLite writes', async () => {
    await engine.start();
    await directory.createMailbox({ name: 'user.before' });
    const wal = join(dataDir, 'mbdir.sqlite-wal');
    rmSync(wal);
    writeFileSync(wal, ''); // a new, empty file at the same path: flushing it would save nothing
    await expect(directory.createMailbox({ name: 'user.after' })).rejects.toThrow(/no longer the write-ahead log this node writes/);
  });

  it('copies committed pages into the database file from the background once started', async () => {
    await engine.start();
    const databaseFile = join(dataDir, 'mbdir.sqlite');
    const sizeBefore = statSync(databaseFile).size;
    // More changes than one background checkpoint waits for, far fewer WAL pages than SQLite's own backstop.
    expect(1100).toBeGreaterThan(checkpointEveryChanges);
    for (let round = 0; round < 11; round += 1) {
      await Promise.all(Array.from({ length: 100 }, (_, index) => directory.createMailbox({ name: `user.w${round}x${index}` })));
    }
    const deadline = Date.now() + 20_000;
    while (statSync(databaseFile).size <= sizeBefore && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statSync(databaseFile).size).toBeGreaterThan(sizeBefore);
    await engine.close();
    store.close();
    store = new Store({ dataDir, synchronous: 'FULL' });
    engine = new StandaloneEngine(store);
    expect(store.mailboxCount()).toBe(1100);
  });

  it('restarts the WAL under steady writes instead of letting it grow to the backstop', async () => {
    await engine.start();
    const wal = join(dataDir, 'mbdir.sqlite-wal');
    let largestWal = 0;
    // Names spread over the whole index, as real users' are: each create touches pages of its own.
    // 8,000 such creates write about four times the backstop's pages: without restarts the WAL reaches it.
    const name = (index: number): string => `user.${createHash('sha256').update(String(index)).digest('hex').slice(0, 12)}`;
    for (let created = 0; created < 8000; created += 32) {
      await Promise.all(Array.from({ length: 32 }, (_, index) => directory.createMailbox({ name: name(created + index) })));
      largestWal = Math.max(largestWal, statSync(wal).size);
    }
    expect(largestWal).toBeGreaterThan(walRestartFrames * 4096); // far enough for restarts to be prepared
    expect(largestWal).toBeLessThan((walBackstopCheckpointPages * 4096) / 2);
    expect(store.checkpointCounts().holds).toBeGreaterThanOrEqual(2);
    expect(store.mailboxCount()).toBe(8000);
  }, 90_000);
});
