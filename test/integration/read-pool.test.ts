// The read pool (src/store/read-pool.ts) with real worker threads and a real
// data directory: a thread that dies under a read is replaced and the read
// answers from the new one; threads that die on every read make the read fail
// with UNAVAILABLE naming the exit, and the pool still stops cleanly; a full
// pool refuses; after close() nothing runs. Uses the built read thread (dist/).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { DirectoryError } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { ReadPool } from '../../src/store/read-pool.js';
import { Store } from '../../src/store/store.js';
import { repoRoot } from '../helpers/server-process.js';

const realThread = pathToFileURL(join(repoRoot, 'dist/src/server/read-worker.js'));
const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-read-pool-'));

/**
 * A read thread that, the first time it runs for the data directory, says it is
 * ready and dies on its first read (exit code 3), leaving a marker file; every
 * later one is the real read thread.
 */
const crashOnce = threadScript('crash-once.mjs', `
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
const marker = ${JSON.stringify(join(dataDir, 'read-thread-crashed'))};
if (existsSync(marker)) await import(${JSON.stringify(realThread.href)});
else {
  parentPort.on('message', (message) => {
    if (message.type !== 'read') return;
    writeFileSync(marker, '');
    process.exit(3);
  });
  parentPort.postMessage({ type: 'ready' });
}`);

/** A read thread that dies on every read (exit code 4). */
const crashAlways = threadScript('crash-always.mjs', `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (message) => {
  if (message.type === 'read') process.exit(4);
});
parentPort.postMessage({ type: 'ready' });`);

function threadScript(name: string, source: string): URL {
  const path = join(dataDir, name);
  writeFileSync(path, source);
  return pathToFileURL(path);
}
let revision = 0;

beforeAll(async () => {
  const store = new Store({ dataDir, synchronous: 'NORMAL' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  await directory.putServer({ name: 'b1', imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress: '10.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
  for (let index = 0; index < 50; index += 1) revision = (await directory.createMailbox({ name: `user.u${index}`, server: 'b1' })).revision;
  await engine.close();
  store.close();
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const scanAll = { server: '', afterKeyHex: '', limit: 1000 };

describe('the read pool', () => {
  it('replaces a thread that dies under a read, and the read answers from the new one', async () => {
    const exits: number[] = [];
    const pool = await ReadPool.start({ threads: 1, dataDir, cacheMebibytes: 2, script: crashOnce, onThreadExit: (info) => exits.push(info.code) });
    try {
      const answer = (await pool.run('scanPage', scanAll, revision)) as { value: { mailboxes: unknown[] }; revision: number };
      expect(answer.value.mailboxes).toHaveLength(50);
      expect(answer.revision).toBe(revision);
      expect(exits).toEqual([3]);
      expect(pool.restarts).toBe(1);
      const again = (await pool.run('scanPage', scanAll, 0)) as { value: { mailboxes: unknown[] } };
      expect(again.value.mailboxes).toHaveLength(50);
    } finally {
      await pool.close();
    }
  });

  it('fails a read whose threads die every time with UNAVAILABLE naming the exit, and still stops', async () => {
    const pool = await ReadPool.start({ threads: 2, dataDir, cacheMebibytes: 2, script: crashAlways });
    const failure = await pool.run('scanPage', scanAll, 0).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DirectoryError);
    expect((failure as DirectoryError).kind).toBe('Unavailable');
    expect((failure as Error).message).toMatch(/read thread exited \(code 4\) while answering, twice; retry/);
    await pool.close();
    await expect(pool.run('scanPage', scanAll, 0)).rejects.toThrow(/the node is stopping/);
  });

  it('answers a rule error as the same typed error, an unknown read as an error naming it, and refuses past readPoolPendingMax', async () => {
    const pool = await ReadPool.start({ threads: 1, dataDir, cacheMebibytes: 2, script: realThread });
    try {
      const refused = await pool.run('list', { user: 'u1', groups: [], reference: '', pattern: '*', pageSize: 99_999, pageToken: '' }, 0).catch((error: unknown) => error);
      expect((refused as DirectoryError).kind).toBe('InvalidArgument');
      expect((refused as Error).message).toMatch(/page_size 99999 is larger than the limit/);
      await expect(pool.run('drop-table', {}, 0)).rejects.toThrow(/unknown read "drop-table"/);
      const burst = Array.from({ length: limits.readPoolPendingMax }, () => pool.run('scanPage', { ...scanAll, limit: 1 }, 0));
      await expect(pool.run('scanPage', scanAll, 0)).rejects.toThrow(/4096 heavy reads already wait for this node's read threads/);
      await Promise.all(burst);
      expect(pool.pending()).toBe(0);
      const late = await pool.run('scanPage', scanAll, revision + 1).catch((error: unknown) => error);
      expect((late as DirectoryError).kind).toBe('Unavailable');
      expect((late as Error).message).toMatch(new RegExp(`snapshot stayed older than revision ${revision + 1}`));
    } finally {
      await pool.close();
    }
  });
});
