/**
 * The gRPC listener's connection bounds through the real server (issue W0
 * item 6): a connection that never sends a byte is closed after the handshake
 * timeout, one that goes silent after the idle timeout, one past the connection
 * limit is refused at once; each is logged, and normal clients (plaintext and
 * TLS) keep working. The bounds are shrunk through the test variables so each is
 * cheap to reach.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MbdirClient } from '../../src/client/client.js';
import { makeCa, makeCertificate } from '../helpers/certificates.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const connectionsMax = 4;
const handshakeTimeoutMs = 600;
const idleTimeoutMs = 2500;
/** How long a closing may take past its timeout on a loaded machine. */
const slackMs = 5000;
const bounds = {
  MBDIR_TEST_GRPC_CONNECTIONS_MAX: String(connectionsMax),
  MBDIR_TEST_GRPC_HANDSHAKE_TIMEOUT_MS: String(handshakeTimeoutMs),
  MBDIR_TEST_GRPC_IDLE_TIMEOUT_MS: String(idleTimeoutMs),
};
/** HTTP/2's client connection preface: what a gRPC client sends first. */
const http2Preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-connections-'));
const path = (name: string): string => join(directory, name);
let plain: ServerProcess;
let tls: ServerProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
  makeCa(directory, '/CN=mbdir test CA');
  makeCertificate(directory, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  plain = await startServer([], { env: bounds });
  tls = await startServer(['--tls-cert', path('server.crt'), '--tls-key', path('server.key')], { env: bounds });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await plain?.stop();
  await tls?.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** A raw TCP connection to `endpoint`, open once it resolves. */
function rawConnection(endpoint: string): Promise<Socket> {
  const colon = endpoint.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.slice(0, colon), port: Number(endpoint.slice(colon + 1)) });
    sockets.push(socket);
    socket.on('data', () => undefined);
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
}

/** Milliseconds until `socket` is closed by the server; rejects past `withinMs`. */
function closedWithin(socket: Socket, withinMs: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readyState === 'closed') return resolve(0);
    const timer = setTimeout(() => reject(new Error(`the connection was still open after ${withinMs} ms`)), withinMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}

async function eventually(check: () => boolean, withinMs = slackMs): Promise<void> {
  const until = Date.now() + withinMs;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(check()).toBe(true);
}

describe('gRPC listener bounds', () => {
  it('a connection that sends nothing is closed after the handshake timeout, and the log says so', async () => {
    const silent = await rawConnection(plain.endpoint);
    const elapsed = await closedWithin(silent, handshakeTimeoutMs + slackMs);
    expect(elapsed).toBeGreaterThanOrEqual(handshakeTimeoutMs - 50);
    await eventually(() => /gRPC connection closed: no handshake within the timeout/.test(plain.stderr()));
  });

  it('a connection that sends the HTTP/2 preface and then goes silent is closed after the idle timeout', async () => {
    const quiet = await rawConnection(plain.endpoint);
    quiet.write(http2Preface);
    const elapsed = await closedWithin(quiet, idleTimeoutMs + slackMs);
    expect(elapsed).toBeGreaterThanOrEqual(idleTimeoutMs - 50);
    await eventually(() => /gRPC connection closed: idle past the timeout/.test(plain.stderr()));
  });

  it('past the connection limit a new connection is refused at once and logged; clients already connected keep working', async () => {
    const client = new MbdirClient({ endpoint: plain.endpoint, deadlineMs: 5000 });
    expect((await client.status())['engine']).toBe('standalone');
    const held: Socket[] = [];
    for (let index = 1; index < connectionsMax; index += 1) {
      const socket = await rawConnection(plain.endpoint);
      socket.write(http2Preface);
      held.push(socket);
    }
    const refused = await rawConnection(plain.endpoint).catch(() => undefined);
    // Refused: closed by the node well before its handshake timeout could have closed it.
    if (refused !== undefined) expect(await closedWithin(refused, handshakeTimeoutMs)).toBeLessThan(handshakeTimeoutMs);
    await eventually(() => /gRPC connection refused: the listener already holds its maximum of connections/.test(plain.stderr()));
    expect(plain.stderr()).toMatch(new RegExp(`"connectionsMax":${connectionsMax}`));
    expect((await client.status())['engine']).toBe('standalone');
    for (const socket of held) socket.destroy();
    const later = new MbdirClient({ endpoint: plain.endpoint, deadlineMs: 5000 });
    expect((await later.status())['engine']).toBe('standalone');
    later.close();
    client.close();
  });

  it('a TLS client calling on one connection past both timeouts is neither closed nor logged', async () => {
    const client = new MbdirClient({ endpoint: tls.endpoint, tls: { ca: path('ca.crt') }, deadlineMs: 5000 });
    const until = Date.now() + idleTimeoutMs + handshakeTimeoutMs;
    let calls = 0;
    while (Date.now() < until) {
      expect((await client.status())['engine']).toBe('standalone');
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(calls).toBeGreaterThan(5);
    expect(tls.stderr()).not.toMatch(/gRPC connection (closed|refused)/);
    client.close();
  });
});
