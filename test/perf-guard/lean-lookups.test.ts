/**
 * The bench's lean sender (tools/bench/lean-lookups.ts) against a real node:
 * it speaks HTTP/2 on a plain socket, so what it counts must be what the node
 * answered. Through GetMailbox a mailbox that exists is a success, a missing
 * one an error; through LookupStream each message is answered (a missing name
 * too: its result says so), and a message the node refuses ends the stream, so
 * every call still waiting fails. A burst larger than HTTP/2's default windows
 * (its requests wait for the node's WINDOW_UPDATE) is answered whole, call by
 * call, either way. An answer larger than one frame, read in pieces, counts
 * once; a frame past HTTP/2's default size fails the connection, naming it.
 * The lone caller (lone-caller.ts) on it counts each answer and each
 * refusal, and stops when the node is not there.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMailboxFrame, LeanLookups, requestFrame } from '../../tools/bench/lean-lookups.js';
import { loneCaller, loneCallBatch, type LoneCall } from '../../tools/bench/lone-caller.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess | undefined;
const listedFolders = 400;
const aliceList = (): Buffer => requestFrame('ListMailboxes', { user: 'alice', groups: [], reference: '', pattern: '*' });
let lookups: LeanLookups | undefined;
let streamLookups: LeanLookups | undefined;

beforeAll(async () => {
  node = await startServer();
  const client = node.client();
  await client.putServer({ name: 'backend1' });
  for (const name of ['user.alice', 'user.bob']) await client.createMailbox({ mailbox: { name, server: 'backend1' } });
  // Enough of alice's folders that her LIST's answer spans several HTTP/2 frames (16 kB each).
  for (let folder = 0; folder < listedFolders; folder += 1) {
    await client.createMailbox({ mailbox: { name: `user.alice.folder-with-a-long-name-${folder}`, server: 'backend1' } });
  }
  lookups = new LeanLookups(node.endpoint, 2);
  streamLookups = new LeanLookups(node.endpoint, 2, 'LookupStream');
}, 30_000);

afterAll(async () => {
  lookups?.close();
  streamLookups?.close();
  await node?.stop();
});

/** Sends `frames` in one batch through `sender`; resolves with each call's outcome by tag. */
function sendAll(frames: Buffer[], sender = lookups as LeanLookups): Promise<Array<string | null>> {
  const outcomes: Array<string | null | undefined> = frames.map(() => undefined);
  return new Promise((resolve) => {
    let answered = 0;
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

  it('counts a LIST answer of several frames once, call after call', async () => {
    const client = (node as ServerProcess).client();
    const listed = await client.listMailboxes({ user: 'alice', groups: [], reference: '', pattern: '*' });
    expect(listed.mailboxes.length).toBe(listedFolders + 1);
    const sender = new LeanLookups((node as ServerProcess).endpoint, 1, 'ListMailboxes');
    try {
      const outcomes = await sendAll(Array.from({ length: 50 }, aliceList), sender);
      expect(outcomes).toEqual(Array.from({ length: 50 }, () => null));
    } finally {
      sender.close();
    }
  }, 30_000);

  it('answers every LookupStream message, a missing name included', async () => {
    const lookupFrame = (name: string): Buffer => requestFrame('LookupStream', { name });
    const outcomes = await sendAll([lookupFrame('user.alice'), lookupFrame('user.nobody'), lookupFrame('user.bob')], streamLookups);
    expect(outcomes).toEqual([null, null, null]);
  });

  it('sends a LookupStream burst past the default HTTP/2 windows and gets every answer', async () => {
    const frames = Array.from({ length: 10_000 }, (_, index) => requestFrame('LookupStream', { name: index % 2 === 0 ? 'user.alice' : 'user.bob' }));
    const outcomes = await sendAll(frames, streamLookups);
    expect(outcomes.filter((outcome) => outcome !== null)).toEqual([]);
  }, 30_000);

  it('fails the calls of a LookupStream the node ended, and every call after', async () => {
    const sender = new LeanLookups((node as ServerProcess).endpoint, 1, 'LookupStream');
    try {
      // A message with both name and names is refused: the node ends the stream with INVALID_ARGUMENT.
      const refused = requestFrame('LookupStream', { name: 'user.alice', names: ['user.bob'] });
      const first = await sendAll([refused, requestFrame('LookupStream', { name: 'user.bob' })], sender);
      expect(first[0]).toMatch(/ended the LookupStream/);
      const after = await sendAll([requestFrame('LookupStream', { name: 'user.alice' })], sender);
      expect(after[0]).toMatch(/ended the LookupStream/);
    } finally {
      sender.close();
    }
  });

  it('times a lone caller call by call: answers and refusals counted, no call lost', async () => {
    const sender = new LeanLookups((node as ServerProcess).endpoint, 1, 'GetMailbox');
    let made = 0;
    // Every third request names no mailbox: the node refuses it (NOT_FOUND), and the caller goes on.
    const next = (): LoneCall => {
      made += 1;
      return { frame: getMailboxFrame(made % 3 === 0 ? 'user.nobody' : 'user.alice'), names: 1 };
    };
    const measured = await loneCaller(sender, next, 300);
    sender.close();
    expect(measured.operations).toBeGreaterThan(10);
    expect(measured.errors).toBeGreaterThan(0);
    expect(measured.firstError).toMatch(/gRPC error/);
    expect(measured.names).toBe(measured.operations);
    expect(measured.latency.count).toBe(measured.operations);
    // Requests are made a batch ahead; every one sent was answered, one way or the other.
    expect(made).toBeGreaterThanOrEqual(measured.operations + measured.errors);
    expect(made % loneCallBatch).toBe(0);
  }, 30_000);

  it('stops a lone caller whose node is not there, with why, long before its duration', async () => {
    const stopped = await startServer();
    const endpoint = stopped.endpoint;
    await stopped.stop();
    const sender = new LeanLookups(endpoint, 1, 'GetMailbox');
    const measured = await loneCaller(sender, () => ({ frame: getMailboxFrame('user.alice'), names: 1 }), 600_000);
    sender.close();
    expect(measured.operations).toBe(0);
    expect(measured.errors).toBeGreaterThanOrEqual(1000);
    expect(measured.firstError).toMatch(/connection/);
  }, 30_000);

  it('fails the calls of a connection whose server sends a frame past HTTP/2\'s default size, naming it', async () => {
    // A server that answers anything with one DATA frame header claiming 20,000 bytes (the default limit is 16,384).
    const oversized = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write(Buffer.from([0x00, 0x4e, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])));
    });
    await new Promise<void>((resolve) => oversized.listen(0, '127.0.0.1', resolve));
    const sender = new LeanLookups(`127.0.0.1:${(oversized.address() as AddressInfo).port}`, 1, 'GetMailbox');
    try {
      const outcomes = await sendAll([getMailboxFrame('user.alice')], sender);
      expect(outcomes[0]).toMatch(/20000-byte frame, larger than HTTP\/2's default limit of 16384/);
    } finally {
      sender.close();
      await new Promise((resolve) => oversized.close(resolve));
    }
  });
});
