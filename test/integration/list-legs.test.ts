// The LIST latency diagnostic (MBDIR_LIST_LEGS, src/server/list-legs.ts)
// against a real node with a read thread: every ListMailboxes call leaves one
// line of the main thread's legs and one of the thread's, in order in time
// (handler entered, read about to be posted, thread took it, read, encoded, answer back),
// and the files are written when the node stops.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
  it('records each LIST\'s legs on the main thread and on its read thread, in order', async () => {
    const legs = join(scratch, 'legs');
    const node = await startServer(['--read-threads', '1'], { env: { MBDIR_LIST_LEGS: legs } });
    const lists = 20;
    try {
      const client = node.client();
      await client.putServer({ name: 'backend1' });
      await client.createMailbox({ mailbox: { name: 'user.alice', server: 'backend1', acl: [{ identifier: 'alice', rights: 'lrs' }] } });
      for (let index = 0; index < lists; index += 1) {
        const listed = await client.listMailboxes({ user: 'alice', pattern: '*' });
        expect(listed.mailboxes.map((entry) => entry.mailbox?.name)).toEqual(['user.alice']);
      }
    } finally {
      await node.stop();
    }
    const main = linesOf(legs).filter((line) => line.type === 'call');
    const threadFiles = readdirSync(scratch).filter((name) => name.startsWith('legs.thread-'));
    expect(threadFiles).toHaveLength(1);
    const thread = linesOf(join(scratch, threadFiles[0] ?? '')).filter((line) => line.type === 'call');
    expect(main).toHaveLength(lists);
    expect(thread).toHaveLength(lists);
    // Sub-millisecond instants of two threads' clocks: allow a millisecond of skew between them.
    const skewMs = 1;
    for (const [index, call] of main.entries()) {
      const [entered = 0, posted = 0, back = 0] = call.instants ?? [];
      const [taken = 0, read = 0, encoded = 0] = thread[index]?.instants ?? [];
      expect(entered).toBeLessThanOrEqual(posted);
      expect(posted).toBeLessThanOrEqual(back);
      expect(taken).toBeLessThanOrEqual(read);
      expect(read).toBeLessThanOrEqual(encoded);
      expect(taken).toBeGreaterThanOrEqual(posted - skewMs);
      expect(encoded).toBeLessThanOrEqual(back + skewMs);
    }
  });
});
