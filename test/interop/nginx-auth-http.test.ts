// The real nginx mail proxy (Debian nginx + libnginx-mod-mail), configured with
// the lines of docs/protocols.md, asking mbdir's /auth where each login goes: IMAP logins of
// two users reach two different backends (in any case, passwords byte for byte),
// an unknown user is refused, a moving
// user is told to retry and reaches the new server once MoveUser commits, and
// POP3 reaches the server's pop3 address. One nginx, one mbdir (with tokens:
// nginx sends its proxy token with auth_http_header), two small backends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { freePort } from '../helpers/etcd-cluster.js';
import { LineClient, startMailBackend, type MailBackend } from '../helpers/mail-backend.js';
import { startNginx, type NginxProcess } from '../helpers/nginx.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

let tokenDirectory: string;
let node: ServerProcess;
let client: MbdirClient;
let nginx: NginxProcess;
const backends: MailBackend[] = [];
let imapPort: number;
let pop3Port: number;

async function addToken(file: string, name: string, role: string): Promise<string> {
  const added = await runCli(['token', 'add', '--tokens', file, '--name', name, '--role', role]);
  if (added.code !== 0) throw new Error(`token add failed: ${added.stderr}`);
  return added.stdout.trim();
}

beforeAll(async () => {
  tokenDirectory = mkdtempSync(join(tmpdir(), 'mbdir-nginx-tokens-'));
  const tokens = join(tokenDirectory, 'tokens');
  const proxyToken = await addToken(tokens, 'nginx-1', 'proxy');
  const adminToken = await addToken(tokens, 'operator', 'admin');
  node = await startServer(['--tokens', tokens, '--http-listen', '127.0.0.1:0', '--log-level', 'info']);
  client = node.client(adminToken);
  backends.push(await startMailBackend('backend1'), await startMailBackend('backend2'));
  for (const backend of backends) {
    await client.putServer({ name: backend.name, imap_address: backend.imapAddress, pop3_address: backend.pop3Address, lmtp_address: '127.0.0.1:24' });
  }
  await client.createMailbox({ mailbox: { name: 'user.alice', server: 'backend1' } });
  await client.createMailbox({ mailbox: { name: 'example.com!user.bob', server: 'backend2' } });
  await client.createMailbox({ mailbox: { name: 'user.carol', server: 'backend1' } });
  imapPort = await freePort();
  pop3Port = await freePort();
  nginx = await startNginx({ authHttp: node.servingAddress('HTTP'), token: proxyToken, imapPort, pop3Port });
});

afterAll(async () => {
  await nginx?.stop();
  for (const backend of backends) await backend.close();
  await node?.stop();
  rmSync(tokenDirectory, { recursive: true, force: true });
});

/** Connects to nginx's IMAP port and reads its greeting. */
async function imapSession(): Promise<LineClient> {
  const session = await LineClient.connect(imapPort);
  expect(await session.next()).toMatch(/^\* OK/);
  return session;
}

describe('nginx IMAP through mbdir auth_http', () => {
  it('sends two users to their two backends, with the password passed through', async () => {
    const alice = await imapSession();
    alice.send('a1 LOGIN alice "se cret"');
    expect(await alice.next()).toBe('a1 OK [backend1] logged in user=alice pass=se cret');
    alice.close();
    const bob = await imapSession();
    bob.send('b1 LOGIN bob@example.com pw');
    expect(await bob.next()).toBe('b1 OK [backend2] logged in user=bob@example.com pass=pw');
    bob.close();
  });

  it('routes a login in another case as the directory user, and keeps a password\'s outer spaces (nginx trims answer headers)', async () => {
    const alice = await imapSession();
    alice.send('a1 LOGIN Alice " se cret "');
    expect(await alice.next()).toBe('a1 OK [backend1] logged in user=Alice pass= se cret ');
    alice.close();
    const bob = await imapSession();
    bob.send('b1 LOGIN Bob@Example.COM pw');
    expect(await bob.next()).toBe('b1 OK [backend2] logged in user=Bob@Example.COM pass=pw');
    bob.close();
  });

  it('refuses an unknown user with a login failure, naming nothing about who exists', async () => {
    const session = await imapSession();
    session.send('a1 LOGIN nobody pw');
    // nginx holds a refusal for Auth-Wait seconds (3) before sending it.
    expect(await session.next()).toBe('a1 NO [AUTHENTICATIONFAILED] Invalid login or password');
    session.close();
    // The reason is in mbdir's log, not in what the client saw.
    expect(node.stderr()).toContain('"reason":"user \\"nobody\\" has no mailbox"');
  });

  it('tells a moving user to retry, then routes them to the new server after MoveUser', async () => {
    await client.markUserMoving({ user: 'carol', from_server: 'backend1', to_server: 'backend2' });
    const session = await imapSession();
    session.send('a1 LOGIN carol pw');
    expect(await session.next()).toBe('a1 NO [UNAVAILABLE] Mailbox temporarily unavailable, try again shortly');
    await client.moveUser({ user: 'carol', from_server: 'backend1', to_server: 'backend2' });
    // nginx reads the retry once Auth-Wait (5 s) has passed, and asks mbdir again.
    session.send('a2 LOGIN carol pw');
    expect(await session.next(15_000)).toBe('a2 OK [backend2] logged in user=carol pass=pw');
    session.close();
  });
});

describe('nginx POP3 through mbdir auth_http', () => {
  it("sends a POP3 login to the server's pop3 address", async () => {
    const session = await LineClient.connect(pop3Port);
    expect(await session.next()).toMatch(/^\+OK/);
    session.send('USER bob@example.com');
    expect(await session.next()).toMatch(/^\+OK/);
    session.send('PASS pw');
    expect(await session.next()).toBe('+OK [backend2] logged in user=bob@example.com pass=pw');
    session.close();
  });
});
