/**
 * Hostile input against the real MUPDATE listener: garbage bytes, literals
 * far over the limit (skipped, never buffered), half lines, more connections
 * than the limit (`* BYE "Server Unable"`), and an UPDATE follower that never
 * reads while changes pour in (cut off, not buffered without bound). After all
 * of it the node still serves gRPC and MUPDATE. The node runs with lowered test
 * bounds and `--mupdate-literals sync`, whose `{n}` literals are checked too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal, MupdateClient, mupdatePort } from '../helpers/mupdate-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const connectionsMax = 20;
const pendingNamesMax = 50;
let node: ServerProcess;
let port: number;
const clients: MupdateClient[] = [];

async function login(): Promise<MupdateClient> {
  const client = await MupdateClient.login(port);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  node = await startServer(['--mupdate-listen', '127.0.0.1:0', '--mupdate-literals', 'sync'], {
    env: { MBDIR_TEST_MUPDATE_CONNECTIONS_MAX: String(connectionsMax), MBDIR_TEST_MUPDATE_PENDING_NAMES_MAX: String(pendingNamesMax) },
  });
  port = mupdatePort(node);
  await node.client().putServer({ name: 'backend1' });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await node?.stop();
});

describe('MUPDATE under hostile input', () => {
  it('answers garbage with BAD and goes on serving the same connection', async () => {
    const client = await login();
    client.send(randomBytes(4096).toString('latin1').replace(/\{/g, '('));
    client.send('\r\n\x00\x01 \r\n"unterminated\r\nT1 FIND {abc}\r\nT2 FIND "a" garbage\r\n');
    expect(await client.command('N1', 'NOOP')).toContain('N1 OK "Noop done"\r\n');
    expect(client.received).toContain('T1 BAD "Badly formed arguments"\r\n');
    expect(client.received).toContain('T2 BAD "Badly formed arguments"\r\n');
  });

  it('refuses literals over the limit without buffering them, and reads the next command', async () => {
    const client = await login();
    expect(await client.command('S1', 'FIND {999999999}')).toMatch(/^S1 BAD "literal of 999999999 bytes is larger than the limit of \d+"\r\n$/);
    const size = 3 * 1024 * 1024;
    client.send(`P1 FIND {${size}+}\r\n`);
    client.send(`${Buffer.alloc(size, 0x61).toString('latin1')}\r\n`);
    expect(await client.command('N2', 'NOOP')).toContain('N2 OK "Noop done"');
    expect(client.received).toMatch(/P1 BAD "literal of 3145728 bytes is larger than the limit of \d+"\r\n/);
    expect(await client.command('L1', `FIND "${'x'.repeat(20_000)}"`)).toMatch(/^L1 BAD "line longer than the limit of \d+ bytes \(literals apart\)"\r\n$/);
  });

  it('writes {n} literals in the sync style and takes a client that half-sends a line and leaves', async () => {
    const client = await login();
    await client.command('X1', `ACTIVATE ${literal('user.sync')} ${literal('backend1!default')} ${literal('sync\tlrs\t')}`);
    expect(await client.command('X2', 'FIND "user.sync"')).toBe('X2 MAILBOX {9}\r\nuser.sync {16}\r\nbackend1!default {9}\r\nsync\tlrs\t\r\nX2 OK "Search completed"\r\n');
    const half = await login();
    half.send('X3 ACTIVATE {9+}\r\nuser.h');
    half.close();
  });

  it(`refuses the connection past ${connectionsMax} with * BYE "Server Unable", and accepts again once one closes`, async () => {
    const open: MupdateClient[] = [];
    for (let index = 0; open.length + 0 < connectionsMax; index += 1) {
      const client = await MupdateClient.connect(port);
      clients.push(client);
      await client.waitFor(/\r\n\* OK MUPDATE|^\* BYE/, 5000).catch(() => undefined);
      if (client.received.startsWith('* BYE')) break;
      open.push(client);
      if (index > connectionsMax * 2) break;
    }
    const refused = await MupdateClient.connect(port);
    clients.push(refused);
    await refused.waitFor(() => refused.closed);
    expect(refused.received).toBe('* BYE "Server Unable"\r\n');
    for (const client of open) client.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await login();
    expect(await again.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');
    expect(node.stderr()).toContain('mupdate connection refused');
  });

  it('cuts off an UPDATE follower that never reads while changes pour in', async () => {
    const follower = await login();
    await follower.command('U01', 'UPDATE');
    follower.socket.pause();
    const writer = await login();
    // Large ACLs fill the socket buffers quickly: about 4 KiB per change.
    const acl = Array.from({ length: 16 }, (_, index) => `${'someone-with-a-long-identifier-'.repeat(7)}${index}\tlr\t`).join('');
    let commands = '';
    for (let index = 0; index < 1500; index += 1) commands += `W${index} ACTIVATE "user.flood${index}" "backend1!default" ${literal(acl)}\r\n`;
    writer.send(commands);
    await writer.waitFor(/W1499 OK "done"\r\n/, 60_000);
    await writer.waitFor(() => node.stderr().includes('UPDATE follower cut off'), 10_000);
    follower.close();
    // Still serving both protocols.
    expect((await node.client().status())['mailboxes']).toBeGreaterThanOrEqual(1500);
    const fresh = await login();
    expect(await fresh.command('F1', 'FIND "user.flood7"')).toContain('F1 MAILBOX {11}\r\nuser.flood7 ');
  }, 90_000);
});
