/**
 * The shared Watch memory budget through the real server (issue W0 item 5):
 * Watch streams from a snapshot whose clients never read pin pages of records;
 * past the budget (lowered by a test variable) the node lets go of those pages
 * (read again when the client reads: its snapshot comes whole, nothing
 * repeated), and when live changes queue up past it too, cuts the slowest off
 * with RESOURCE_EXHAUSTED saying where to resume, while a client that reads
 * gets its whole snapshot and lookups keep answering.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { services } from '../../src/api/proto.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const users = 60;
const foldersPerUser = 20;
const stalledCount = 8;
/** About two stalled pages (read and encoded on the read thread, about 40 kB each): the node must cut some off, not all. */
const heldBytesMax = 100_000;

let dataDir: string;
let node: ServerProcess;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mbdir-watch-budget-'));
  const generated = await runCli(['bench', 'generate', '--users', String(users), '--folders', String(foldersPerUser), '--data-dir', dataDir]);
  expect(generated.code, generated.stderr).toBe(0);
  node = await startServer([], { dataDir, env: { MBDIR_TEST_WATCH_HELD_BYTES_MAX: String(heldBytesMax) } });
});

afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

type WatchClient = grpc.Client & { Watch(request: object): grpc.ClientReadableStream<Message> };

it('stalled snapshot watchers past the budget let go of their pages; live changes past it cut the slowest off, resumable; a reader and lookups are served', async () => {
  // gRPC's default 64 KiB window: a client that stops reading stops the node's sends at once.
  const channel = new services.Mailboxes(node.endpoint, grpc.credentials.createInsecure(), {}) as unknown as WatchClient;
  const snapshotSize = users * foldersPerUser + 20; // the generator's public folders too
  // Each outcome is heard from the start: grpc-js reports a status even on a paused stream.
  const outcomes: Array<Promise<string>> = [];
  const stalled = Array.from({ length: stalledCount }, () => {
    const call = channel.Watch({ from_revision: 0 });
    const names = new Set<string>();
    let events = 0;
    outcomes.push(
      new Promise<string>((resolve) => {
        call.on('data', (event: Message) => {
          if (event['type'] === 'SNAPSHOT') {
            events += 1;
            names.add(String((event['mailbox'] as Message)['name']));
          }
          if (event['type'] === 'SNAPSHOT_END') resolve(`complete ${events} events, ${names.size} names`);
        });
        call.on('error', (error: grpc.ServiceError) => resolve(`${grpc.status[error.code]}: ${error.details}`));
      }),
    );
    call.pause();
    return call;
  });
  // The stalled ones fill their windows and block first (their pages are read on the node's read thread).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const client = new MbdirClient({ endpoint: node.endpoint, deadlineMs: 10_000 });
  try {
    // A client that reads gets its whole snapshot.
    let snapshot = 0;
    for await (const event of client.watch({})) {
      if (event['type'] === 'SNAPSHOT_END') break;
      snapshot += 1;
    }
    expect(snapshot).toBe(snapshotSize);
    const read = await client.getMailbox({ name: 'user.u0000001' });
    expect((read['mailbox']!)['name']).toBe('user.u0000001');
    // Live changes queue on every stalled one (32 bytes each as the budget counts them): past
    // the budget, only cutting some off frees them.
    const writes = Math.ceil((heldBytesMax / 32 / stalledCount) * 1.5);
    for (let index = 0; index < writes; index += 1) {
      await client.createMailbox({ mailbox: { name: `user.live${index}`, server: 'backend1', partition: 'default' } });
    }
    // Now the stalled ones read: each either was cut off, or gets its whole snapshot, each record once.
    for (const call of stalled) call.resume();
    const ended = await Promise.all(outcomes);
    const cut = ended.filter((outcome) => outcome.startsWith('RESOURCE_EXHAUSTED'));
    expect(cut.length, ended.join('\n')).toBeGreaterThanOrEqual(1);
    expect(cut.length, ended.join('\n')).toBeLessThan(stalledCount);
    for (const outcome of cut) expect(outcome).toMatch(new RegExp(`hold more than ${heldBytesMax} bytes .* the slowest; resume with from_revision 0`));
    const complete = `complete ${snapshotSize} events, ${snapshotSize} names`;
    expect(ended.filter((outcome) => outcome === complete), ended.join('\n')).toHaveLength(stalledCount - cut.length);
  } finally {
    for (const call of stalled) call.cancel();
    channel.close();
    client.close();
  }
});
