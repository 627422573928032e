/**
 * Replays the real Cyrus 3.6 backend<->master session of the fixture
 * (test/fixtures/cyrus-3.6/mupdate-backend-session.txt: `ctl_mboxlist -m`,
 * then a backend's per-change connections) against the real `mbdir serve
 * --mupdate-listen`: every client block is sent byte for byte, and every
 * server block must come back byte for byte, with two intended differences:
 * - the banner names mbdir and offers no COMPRESS;
 * - a location sent as `backend1!` (Cyrus's rename quirk) keeps the partition
 *   on record, so LIST shows `backend1!default` where Cyrus echoed `backend1!`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MupdateClient, mupdatePort } from '../helpers/mupdate-client.js';
import { repoRoot, startServer, type ServerProcess } from '../helpers/server-process.js';

interface Block {
  conn: number;
  direction: 'S>C' | 'C>S';
  text: string;
}

/** The fixture's blocks, consecutive blocks of one connection and direction joined (a marker may fall mid-line). */
function fixtureBlocks(): Block[] {
  const text = readFileSync(join(repoRoot, 'test/fixtures/cyrus-3.6/mupdate-backend-session.txt'), 'latin1');
  const blocks: Block[] = [];
  const marker = /--- conn (\d+) (S>C|C>S)\n/g;
  let match = marker.exec(text);
  while (match !== null) {
    const start = marker.lastIndex;
    const next = marker.exec(text);
    const body = text.slice(start, next === null ? text.length : next.index);
    const last = blocks.at(-1);
    const conn = Number(match[1]);
    const direction = match[2] as Block['direction'];
    if (last !== undefined && last.conn === conn && last.direction === direction) last.text += body;
    else blocks.push({ conn, direction, text: body });
    match = next;
  }
  return blocks;
}

/** What mbdir is meant to answer where Cyrus answered `expected` (the differences the header names). */
function intended(expected: string): string {
  return expected.replace(/\{9\+\}\r\nbackend1! \{/g, '{16+}\r\nbackend1!default {');
}

let node: ServerProcess;
const clients: MupdateClient[] = [];

beforeAll(async () => {
  node = await startServer(['--mupdate-listen', '127.0.0.1:0']);
  await node.client().putServer({ name: 'backend1' });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await node?.stop();
});

describe('the Cyrus 3.6 fixture session replayed against mbdir', () => {
  it('gets the same answers, byte for byte, but for the intended differences', async () => {
    const blocks = fixtureBlocks();
    const conns = [...new Set(blocks.map((block) => block.conn))];
    expect(conns).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    let answers = 0;
    for (const conn of conns) {
      const [banner, ...rest] = blocks.filter((block) => block.conn === conn);
      expect(banner?.text).toContain('* OK MUPDATE "mupdate.local" "Cyrus IMAP"');
      const client = await MupdateClient.connect(mupdatePort(node));
      clients.push(client);
      await client.waitFor(/\* OK MUPDATE "[^"]*" "mbdir" .*\r\n/);
      let position = client.received.length;
      for (const block of rest) {
        if (block.direction === 'C>S') {
          client.send(block.text);
          continue;
        }
        const expected = intended(block.text);
        await client.waitFor((received) => received.length - position >= expected.length, 10_000);
        expect(client.received.slice(position, position + expected.length), `conn ${conn}`).toBe(expected);
        position += expected.length;
        answers += 1;
      }
      await client.waitFor(() => client.closed);
      expect(client.received.length, `conn ${conn}: nothing after bye-bye`).toBe(position);
    }
    expect(answers).toBeGreaterThan(200);
  });
});
