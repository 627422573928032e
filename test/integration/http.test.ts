// The HTTP adapter of the real `mbdir serve --http-listen`: /auth answers as nginx
// reads them (bytes on the wire within nginx's 1,024-byte buffer, no Date or
// other headers), /v1/resolve as JSON with its errors, the route table's own
// answers, bad input answered while the node keeps serving, and the settings
// that refuse to start (a non-loopback --http-listen without tokens).
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess;
let client: MbdirClient;
let http: string;

beforeAll(async () => {
  node = await startServer(['--http-listen', '127.0.0.1:0', '--log-level', 'info']);
  client = node.client();
  http = node.servingAddress('HTTP');
  await client.putServer({ name: 'b1', imap_address: '127.0.0.1:1143', pop3_address: '127.0.0.1:1110', lmtp_address: '127.0.0.1:1024' });
  await client.putServer({ name: 'b6', imap_address: '[::1]:6143' });
  await client.putServer({ name: 'down', imap_address: '127.0.0.1:2143', state: 'DOWN' });
  await client.createMailbox({ mailbox: { name: 'user.alice', server: 'b1' } });
  await client.createMailbox({ mailbox: { name: 'example.com!user.bob', server: 'b6' } });
  await client.createMailbox({ mailbox: { name: 'user.dan', server: 'b1' } });
});

afterAll(async () => {
  await node?.stop();
});

/** Sends `request` as raw bytes (as nginx does: HTTP/1.0, new connection) and returns everything the node sent. */
function raw(request: string | Buffer): Promise<Buffer> {
  const [host = '', port = ''] = http.split(':');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ host, port: Number(port) }, () => socket.end(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

function nginxRequest(user: string, password: string, protocol = 'imap', extra = ''): string {
  return (
    `GET /auth HTTP/1.0\r\nHost: localhost\r\nAuth-Method: plain\r\nAuth-User: ${user}\r\nAuth-Pass: ${password}\r\n` +
    `Auth-Protocol: ${protocol}\r\nAuth-Login-Attempt: 1\r\nClient-IP: 127.0.0.1\r\n${extra}\r\n`
  );
}

/** The header lines of a raw answer, and its size up to and including the blank line. */
function headBlock(answer: Buffer): { lines: string[]; bytes: number } {
  const end = answer.indexOf('\r\n\r\n');
  expect(end, answer.toString('latin1')).toBeGreaterThan(0);
  return { lines: answer.subarray(0, end).toString('latin1').split('\r\n').slice(1), bytes: end + 4 };
}

/** Waits (bounded) for the node's log to contain `text`: stderr arrives after the answer. */
async function logged(text: string): Promise<string> {
  for (let waited = 0; waited < 5000 && !node.stderr().includes(text); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  return node.stderr();
}

async function getJson(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://${http}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('/auth on the wire', () => {
  it('answers only the auth_http headers and framing, within 1,024 bytes', async () => {
    const answer = headBlock(await raw(nginxRequest('alice', 'se%20cret')));
    expect(answer.lines).toEqual(['Auth-Status: OK', 'Auth-Server: 127.0.0.1', 'Auth-Port: 1143', 'Auth-Pass: se cret', 'Content-Length: 0', 'Connection: close']);
    expect(answer.bytes).toBeLessThanOrEqual(limits.authHttpResponseBytesMax);
  });

  it('refuses an IMAP login without a password (Auth-Method external) as a login failure, saying why in the log', async () => {
    const request =
      'GET /auth HTTP/1.0\r\nHost: localhost\r\nAuth-Method: external\r\nAuth-User: alice\r\n' +
      'Auth-Protocol: imap\r\nAuth-Login-Attempt: 1\r\nClient-IP: 127.0.0.1\r\n\r\n';
    const answer = headBlock(await raw(request));
    expect(answer.lines[0]).toBe('Auth-Status: [AUTHENTICATIONFAILED] Invalid login or password');
    expect(answer.lines.some((line) => line.startsWith('Auth-Server'))).toBe(false);
    expect(await logged('login without a password')).toMatch(/an imap login without a password \(Auth-Method external\?\) cannot be proxied/);
  });

  it('answers a password filling nginx\'s 4 KiB client buffer, every byte escaped, with OK (its Auth-Pass left out)', async () => {
    const answer = headBlock(await raw(nginxRequest('alice', '%25'.repeat(4096))));
    expect(answer.lines.slice(0, 3)).toEqual(['Auth-Status: OK', 'Auth-Server: 127.0.0.1', 'Auth-Port: 1143']);
    expect(answer.lines.some((line) => line.startsWith('Auth-Pass'))).toBe(false);
  });

  it('leaves a password out rather than overflow nginx buffer', async () => {
    const answer = headBlock(await raw(nginxRequest('alice', 'p'.repeat(1000))));
    expect(answer.lines.some((line) => line.startsWith('Auth-Pass'))).toBe(false);
    expect(answer.bytes).toBeLessThanOrEqual(limits.authHttpResponseBytesMax);
  });

  it('routes a domain user to an IPv6 server by its numeric address, and POP3 to the pop3 address', async () => {
    expect(headBlock(await raw(nginxRequest('bob@example.com', 'x'))).lines.slice(0, 3)).toEqual(['Auth-Status: OK', 'Auth-Server: ::1', 'Auth-Port: 6143']);
    expect(headBlock(await raw(nginxRequest('alice', 'x', 'pop3'))).lines.slice(0, 3)).toEqual(['Auth-Status: OK', 'Auth-Server: 127.0.0.1', 'Auth-Port: 1110']);
  });

  it('tells a POP3 login to retry when the server has no pop3 address, and logs why', async () => {
    const answer = headBlock(await raw(nginxRequest('bob@example.com', 'x', 'pop3')));
    expect(answer.lines.slice(0, 2)).toEqual(['Auth-Status: [SYS/TEMP] Mailbox temporarily unavailable, try again shortly', 'Auth-Wait: 5']);
    expect(await logged('has no pop3 address')).toContain('server \\"b6\\" has no pop3 address');
  });

  it('refuses SMTP without a relay, with an SMTP code', async () => {
    const answer = headBlock(await raw(nginxRequest('alice', 'x', 'smtp')));
    expect(answer.lines).toContain('Auth-Error-Code: 454 4.7.0');
    expect(await logged('no SMTP relay')).toContain('no SMTP relay is configured');
  });

  it('refuses malformed logins as invalid, and keeps serving', async () => {
    for (const user of ['al%4', 'a!b', '']) {
      expect(headBlock(await raw(nginxRequest(user, 'x'))).lines[0]).toBe('Auth-Status: [AUTHENTICATIONFAILED] Invalid login or password');
    }
    expect(headBlock(await raw('GET /auth HTTP/1.0\r\n\r\n')).lines[0]).toBe('Auth-Status: [AUTHENTICATIONFAILED] Invalid login or password');
    expect(headBlock(await raw(nginxRequest('alice', 'x'))).lines[0]).toBe('Auth-Status: OK');
  });

  it('tells a user on a DOWN server to retry', async () => {
    await client.putServer({ name: 'down', imap_address: '127.0.0.1:2143', state: 'UP' });
    await client.createMailbox({ mailbox: { name: 'user.erin', server: 'down' } });
    await client.putServer({ name: 'down', imap_address: '127.0.0.1:2143', state: 'DOWN' });
    expect(headBlock(await raw(nginxRequest('erin', 'x'))).lines[0]).toBe('Auth-Status: [UNAVAILABLE] Mailbox temporarily unavailable, try again shortly');
    expect((await getJson('/v1/resolve?user=erin')).body).toMatchObject({ server: 'down', server_state: 'DOWN', availability: 'server-down' });
  });
});

describe('/v1/resolve', () => {
  it('answers where a user lives, as JSON', async () => {
    const { status, body } = await getJson('/v1/resolve?user=alice');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      user: 'alice',
      server: 'b1',
      partition: 'default',
      imap_address: '127.0.0.1:1143',
      pop3_address: '127.0.0.1:1110',
      lmtp_address: '127.0.0.1:1024',
      moving: false,
      availability: 'ready',
    });
    expect(Number(body['revision'])).toBeGreaterThan(0);
  });

  it('shows a move under way, and the same pop3 address ResolveUser gives over gRPC', async () => {
    await client.markUserMoving({ user: 'dan', from_server: 'b1', to_server: 'b6' });
    expect((await getJson('/v1/resolve?user=dan')).body).toMatchObject({ moving: true, moving_to: 'b6', availability: 'moving' });
    expect(await client.resolveUser({ user: 'dan' })).toMatchObject({ pop3_address: '127.0.0.1:1110', moving: true });
  });

  it('answers 404 for an unknown user, 400 for bad input, each with a JSON error', async () => {
    expect(await getJson('/v1/resolve?user=nobody')).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'user "nobody" has no mailbox' } } });
    expect(await getJson('/v1/resolve')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/user is missing/) } } });
    expect(await getJson('/v1/resolve?user=a%21b')).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/contains "!"/) } } });
    expect(await getJson('/v1/resolve?user=alice&min_revision=x')).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/min_revision/) } } });
  });

  it('answers at a min_revision the node has applied', async () => {
    const head = Number((await getJson('/v1/resolve?user=alice')).body['revision']);
    expect((await getJson(`/v1/resolve?user=alice&min_revision=${head}`)).status).toBe(200);
  });
});

describe('the route table and its bounds', () => {
  it('answers 404 naming the routes, 405 for other methods, the URL limit at the limit and 414 one past it, 431 past the header limit', async () => {
    expect(await getJson('/nope')).toMatchObject({ status: 404, body: { error: { message: 'no route /nope; routes: /auth, /v1/resolve, /metrics, /healthz, /readyz' } } });
    expect((await fetch(`http://${http}/v1/resolve?user=alice`, { method: 'POST' })).status).toBe(405);
    const atLimit = `/v1/resolve?user=${'a'.repeat(limits.httpUrlBytesMax - '/v1/resolve?user='.length)}`;
    expect(atLimit).toHaveLength(limits.httpUrlBytesMax);
    expect(await getJson(atLimit)).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/user id is 2031 bytes/) } } });
    expect((await getJson(`${atLimit}a`)).status).toBe(414);
    const big = await raw(`GET /auth HTTP/1.0\r\nX-Big: ${'b'.repeat(limits.httpHeaderBytesMax)}\r\n\r\n`);
    expect(big.toString('latin1')).toMatch(/^HTTP\/1\.1 431/);
    expect((await getJson('/v1/resolve?user=alice')).status).toBe(200);
  });
});

describe('tokens', () => {
  let guarded: ServerProcess;
  let proxyToken: string;
  let tokenDirectory: string;

  beforeAll(async () => {
    tokenDirectory = mkdtempSync(join(tmpdir(), 'mbdir-http-tokens-'));
    const added = await runCli(['token', 'add', '--tokens', join(tokenDirectory, 'tokens'), '--name', 'nginx-1', '--role', 'proxy']);
    proxyToken = added.stdout.trim();
    guarded = await startServer(['--http-listen', '127.0.0.1:0', '--tokens', join(tokenDirectory, 'tokens')]);
  });

  afterAll(async () => {
    await guarded?.stop();
    rmSync(tokenDirectory, { recursive: true, force: true });
  });

  it('refuses a caller without a known token (401 JSON; auth_http: unavailable), and takes X-Mbdir-Token or Bearer', async () => {
    const at = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`http://${guarded.servingAddress('HTTP')}${path}`, { headers });
    const none = await at('/v1/resolve?user=alice');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/X-Mbdir-Token/);
    expect((await at('/v1/resolve?user=alice', { 'X-Mbdir-Token': 'mbdir_wrong' })).status).toBe(401);
    // Past the token, the caller is a proxy: the user is unknown here (404), not refused.
    expect((await at('/v1/resolve?user=alice', { 'X-Mbdir-Token': proxyToken })).status).toBe(404);
    expect((await at('/v1/resolve?user=alice', { Authorization: `Bearer ${proxyToken}` })).status).toBe(404);
    const auth = await at('/auth', { 'Auth-User': 'alice', 'Auth-Pass': 'x', 'Auth-Protocol': 'imap' });
    expect(auth.headers.get('auth-status')).toBe('[UNAVAILABLE] Mailbox temporarily unavailable, try again shortly');
  });
});

describe('settings', () => {
  it('refuses a non-loopback --http-listen without --tokens, and malformed HTTP settings, with one line', async () => {
    const open = await runCli(['serve', '--data-dir', '/nonexistent-mbdir', '--http-listen', '0.0.0.0:0']);
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/refusing to listen on 0\.0\.0\.0:0 without --tokens \(--http-listen\)/);
    const relay = await runCli(['serve', '--data-dir', '/nonexistent-mbdir', '--http-listen', '127.0.0.1:0', '--http-smtp-relay', 'mail.example.com:25']);
    expect(relay.stderr).toMatch(/httpSmtpRelay "mail.example.com:25" must be a numeric IP and port/);
    const alone = await runCli(['serve', '--data-dir', '/nonexistent-mbdir', '--http-smtp-relay', '127.0.0.1:25']);
    expect(alone.stderr).toMatch(/give --http-listen too/);
    const shape = await runCli(['serve', '--data-dir', '/nonexistent-mbdir'], { MBDIR_HTTP_LISTEN: 'nope' });
    expect(shape.stderr).toMatch(/setting httpListen is "nope"/);
  });
});
