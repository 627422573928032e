/**
 * The bench's lean GetMailbox sender (tools/bench/lean-lookups.ts) against a
 * real node: it speaks HTTP/2 on a plain socket, so what it counts must be what
 * the node answered. A mailbox that exists is a success, a missing one an
 * error, and a burst larger than HTTP/2's default windows (its requests wait
 * for the node's WINDOW_UPDATE) is answered whole, call by call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMailboxFrame, LeanLookups } from '../../tools/bench/lean-lookups.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess | undefined;
let lookups: LeanLookups | undefined;

beforeAll(async () => {
  node = await startServer();
  const client = node.client();
  await client.putServer({ name: 'backend1' });
  for (const name of ['user.alice', 'user.bob']) await client.createMailbox({ mailbox: { name, server: 'backend1' } });
  lookups = new LeanLookups(node.endpoint, 2);
}, 30_000);

afterAll(async () => {
  lookups?.close();
  await node?.stop();
});

/** Sends `frames` in one batch; resolves with each call's outcome by tag. */
function sendAll(frames: Buffer[]): Promise<Array<string | null>> {
  const outcomes: Array<string | null | undefined> = frames.map(() => undefined);
  return new Promise((resolve) => {
    let answered = 0;
    const sender = lookups as LeanLookups;
    sender.onAnswer((tag, error) => {
      expect(outcomes[tag], `call ${tag} answered twice`).toBeUndefined();
      outcomes[tag] = error;
      answered += 1;
      if (answered === frames.length) resolve(outcomes as Array<string | null>);
    });
    frames.forEach((frame, tag) => sender.add(tag, frame));
    sender.send();
  });
}

describe('bench lean lookups', () => {
  it('counts a found mailbox as answered and a missing one as an error', async () => {
    const outcomes = await sendAll([getMailboxFrame('user.alice'), getMailboxFrame('user.nobody'), getMailboxFrame('user.bob')]);
    expect(outcomes[0]).toBeNull();
    expect(outcomes[1]).toMatch(/gRPC error/);
    expect(outcomes[2]).toBeNull();
  });

  it('sends a burst past the default HTTP/2 windows and gets every answer', async () => {
    // 10,000 requests of 17 bytes on 2 connections: 85 kB of DATA a connection, past HTTP/2's
    // initial 64 kB connection window, and more streams than the node allows open at once.
    const frames = Array.from({ length: 10_000 }, (_, index) => getMailboxFrame(index % 2 === 0 ? 'user.alice' : 'user.bob'));
    const outcomes = await sendAll(frames);
    expect(outcomes.filter((outcome) => outcome !== null)).toEqual([]);
  }, 30_000);
});
