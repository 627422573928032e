// A MUPDATE client that asks LIST and goes away while the answer waits for
// room must not make the node scan the rest of the directory: once the session
// has closed, the LIST's awaits resolve at once (microtasks only), so the scan
// would hold the event loop for the whole table. A real listener on loopback,
// a real directory (in-memory SQLite); its scanMailboxes counts the pages read.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory, scanPageSize } from '../../src/directory/directory.js';
import { createLogger } from '../../src/logging.js';
import { loopbackAdmin } from '../../src/server/auth/roles.js';
import { MupdateListener } from '../../src/server/mupdate/listener.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';

const mailboxes = 40_000;
/** Names of about 250 bytes: the answer (~12 MB) outgrows the session's buffer and loopback's socket buffers. */
const nameOf = (index: number): string => `shared.${'x'.repeat(240)}${index}`;

describe('an abandoned MUPDATE LIST', () => {
  const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  let pagesRead = 0;
  const counting = Object.create(directory) as Directory;
  counting.scanMailboxes = function* (filter) {
    for (const page of directory.scanMailboxes(filter)) {
      pagesRead += 1;
      yield page;
    }
  };
  let listener: MupdateListener;

  beforeAll(async () => {
    await directory.putServer({ name: 'b1', imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress: '10.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
    for (let start = 0; start < mailboxes; start += 2000) {
      const names = Array.from({ length: Math.min(2000, mailboxes - start) }, (_, offset) => nameOf(start + offset));
      await Promise.all(names.map((name) => directory.createMailbox({ name, server: 'b1' })));
    }
    listener = await MupdateListener.start({
      directory: counting,
      logger: createLogger('silent'),
      listen: '127.0.0.1:0',
      literals: 'sync',
      principalOf: () => loopbackAdmin,
      host: 'localhost',
      version: '0.0.0',
    });
  }, 60_000);
  afterAll(async () => {
    await listener?.close();
    await engine.close();
    store.close();
  });

  /** Logs in, asks LIST and stops reading once the answer streams; resolves with the connected socket. */
  async function listWithoutReading(): Promise<net.Socket> {
    const socket = net.connect({ host: '127.0.0.1', port: listener.port });
    let received = '';
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('A OK')) {
          received = '';
          socket.write('L LIST\r\n');
        } else if (received.length > 100_000) {
          // The answer is streaming: stop reading, so the node's writes back up.
          socket.pause();
          resolve();
        }
      });
      socket.write(`A AUTHENTICATE "PLAIN" "${Buffer.from('admin\0admin\0x').toString('base64')}"\r\n`);
    });
    return socket;
  }

  /** Until the node's LIST reads no more pages (it waits for room: its buffer full, loopback's too). */
  async function untilListWaits(): Promise<void> {
    let before = -1;
    while (pagesRead !== before) {
      before = pagesRead;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('stops reading the directory once the client has gone', async () => {
    pagesRead = 0;
    const socket = await listWithoutReading();
    await untilListWaits();
    expect(pagesRead).toBeLessThan(mailboxes / scanPageSize); // it did not read the whole table
    const readWhenGone = pagesRead;
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(listener.sessionCount()).toBe(0);
    expect(pagesRead - readWhenGone).toBeLessThanOrEqual(1);
  }, 30_000);

  it('stops reading commands while a LIST waits for the client to read its answer', async () => {
    pagesRead = 0;
    const socket = await listWithoutReading();
    try {
      await untilListWaits();
      // 256 commands of two 64 KiB non-synchronizing literals each (33 MiB): more than loopback buffers.
      const body = 'y'.repeat(64 * 1024);
      const command = `X NOOP {${body.length}+}\r\n${body} {${body.length}+}\r\n${body}\r\n`;
      for (let index = 0; index < 256; index += 1) socket.write(command);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // The node read no further than its socket buffers: the rest waits in this client.
      expect(socket.writableLength).toBeGreaterThan(10 * 1024 * 1024);
    } finally {
      socket.destroy();
    }
  }, 30_000);
});
