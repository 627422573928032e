// The LIST latency diagnostic (MBDIR_LIST_LEGS, src/server/list-legs.ts)
// against a real node with a read thread: a small LIST (limits.listHereCandidatesMax)
// is answered on the main thread and leaves one line there; a larger one leaves
// one line of the main thread's legs and one of the thread's, in order in time
// (handler entered, read about to be posted, thread took it, read, encoded,
// answer back). The files are written when the node stops.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { startServer } from '../helpers/server-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'mbdir-list-legs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Line {
  type: 'call' | 'gc';
  thread: number;
  instants?: number[];
  startMs?: number;
  durationMs?: number;
}

const linesOf = (path: string): Line[] =>
  readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line);

describe('MBDIR_LIST_LEGS', () => {
  it('records a small LIST\'s legs on the main thread, and a larger one\'s there and on its read thread, in order', async () => {
    const legs = join(scratch, 'legs');
    const node = await startServer(['--read-threads', '1'], { env: { MBDIR_LIST_LEGS: legs } });
    const lists = 10;
    // alice's hierarchy is one row more than a LIST answered on the main thread may read.
    const folders = limits.listHereCandidatesMax;
    try {
      const client = node.client();
      await client.putServer({ name: 'backend1' });
      const acl = [{ identifier: 'alice', rights: 'lrs' }];
      await client.createMailbox({ mailbox: { name: 'user.bob', server: 'backend1', acl: [{ identifier: 'bob', rights: 'lrs' }] } });
      await client.createMailbox({ mailbox: { name: 'user.alice', server: 'backend1', acl } });
      for (let index = 0; index < folders; index += 1) {
        await client.createMailbox({ mailbox: { name: `user.alice.f${index}`, server: 'backend1', acl } });
      }
      for (let index = 0; index < lists; index += 1) {
        expect((await client.listMailboxes({ user: 'bob', pattern: '*' })).mailboxes).toHaveLength(1);
        expect((await client.listMailboxes({ user: 'alice', pattern: '*' })).mailboxes).toHaveLength(folders + 1);
      }
    } finally {
      await node.stop();
    }
    const main = linesOf(legs).filter((line) => line.type === 'call');
    const threadFiles = readdirSync(scratch).filter((name) => name.startsWith('legs.thread-'));
    expect(threadFiles).toHaveLength(1);
    const thread = linesOf(join(scratch, threadFiles[0] ?? '')).filter((line) => line.type === 'call');
    // bob's LISTs were answered on the main thread (two instants), alice's on the read thread.
    expect(main.map((call) => call.instants?.length)).toEqual(Array.from({ length: 2 * lists }, (_, index) => (index % 2 === 0 ? 2 : 3)));
    const handedOff = main.filter((call) => call.instants?.length === 3);
    expect(thread).toHaveLength(lists);
    // Sub-millisecond instants of two threads' clocks: allow a millisecond of skew between them.
    const skewMs = 1;
    for (const [index, call] of handedOff.entries()) {
      const [entered = 0, posting = 0, back = 0] = call.instants ?? [];
      const [taken = 0, read = 0, encoded = 0] = thread[index]?.instants ?? [];
      expect(entered).toBeLessThanOrEqual(posting);
      expect(posting).toBeLessThanOrEqual(back);
      expect(taken).toBeLessThanOrEqual(read);
      expect(read).toBeLessThanOrEqual(encoded);
      expect(taken).toBeGreaterThanOrEqual(posting - skewMs);
      expect(encoded).toBeLessThanOrEqual(back + skewMs);
    }
  });
});
