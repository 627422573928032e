/**
 * The socketmap's sessions in the real `mbdir serve`: many requests on one
 * persistent connection, pipelined; a malformed request closes only its own
 * connection (with a PERM reply) and is logged; the connection limit and the idle
 * close (lowered through test-only variables); back-pressure from a client that
 * does not read; the refusal of a non-loopback address without
 * --socketmap-allow-remote; and the same answers with engine etcd.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';
import { encodeNetstring, NetstringParser } from '../../src/model/netstring.js';

/** A socketmap client on one connection: sends netstrings, collects reply payloads. */
class SocketmapClient {
  readonly replies: string[] = [];
  readonly socket: net.Socket;
  private readonly parser = new NetstringParser(100_000);
  closed = false;

  constructor(address: string) {
    const colon = address.lastIndexOf(':');
    this.socket = net.connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    this.socket.on('data', (chunk: Buffer) => this.parser.push(chunk, (payload) => this.replies.push(payload.toString('utf8'))));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  send(...requests: string[]): void {
    this.socket.write(Buffer.concat(requests.map((request) => encodeNetstring(request))));
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < count && !this.closed) {
      if (Date.now() > deadline) throw new Error(`${this.replies.length} of ${count} replies`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.replies;
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** stderr is another pipe than the socket: waits (bounded) until it shows `pattern`. */
async function stderrShows(server: ServerProcess, pattern: RegExp): Promise<string> {
  for (let tries = 0; tries < 100 && !pattern.test(server.stderr()); tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  return server.stderr();
}

async function seed(server: ServerProcess): Promise<void> {
  const client = server.client();
  await client.putServer({ name: 'b1', imap_address: '10.0.0.1:143', lmtp_address: '10.0.0.1:24' });
  await client.createMailbox({ mailbox: { name: 'user.alice', server: 'b1' } });
}

describe('socketmap sessions (engine standalone)', () => {
  let server: ServerProcess;
  const clients: SocketmapClient[] = [];
  const connect = (): SocketmapClient => {
    const client = new SocketmapClient(server.servingAddress('socketmap'));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startServer(['--socketmap-listen', '127.0.0.1:0', '--socketmap-local-domains', 'example.org', '--log-level', 'warn'], {
      env: { MBDIR_TEST_ADAPTER_CONNECTIONS_MAX: '20', MBDIR_TEST_ADAPTER_IDLE_MS: '1500' },
    });
    await seed(server);
  });
  afterAll(async () => {
    for (const client of clients) client.socket.destroy();
    await server?.stop();
  });

  it('answers many pipelined requests on one connection, in order', async () => {
    const client = connect();
    const requests = Array.from({ length: 500 }, (_, index) => (index % 2 === 0 ? 'transport alice@example.org' : `mailbox nobody${index}@example.org`));
    client.send(...requests);
    const replies = await client.waitFor(500);
    expect(replies.filter((reply, index) => reply !== (index % 2 === 0 ? 'OK lmtp:inet:[10.0.0.1]:24' : 'NOTFOUND '))).toEqual([]);
    expect(client.closed).toBe(false);
  });

  it('closes a connection sending a malformed request with a PERM reply, logs it, and keeps serving others', async () => {
    const bad = connect();
    const good = connect();
    bad.socket.write('5:abc');
    bad.socket.write('de;');
    await bad.waitClosed();
    expect(bad.replies).toEqual(['PERM netstring of 5 bytes not followed by ","']);
    good.send('transport alice@example.org');
    expect(await good.waitFor(1)).toEqual(['OK lmtp:inet:[10.0.0.1]:24']);
    const malformed = /"protocol":"socketmap".*"reason":"netstring of 5 bytes not followed by \\",\\"".*malformed request: connection closed/;
    expect(await stderrShows(server, malformed)).toMatch(malformed);
  });

  it('refuses connections over the limit, logged once per burst, and closes idle ones', async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const open = Array.from({ length: 20 }, () => connect());
    for (const client of open) client.send('transport alice@example.org');
    await Promise.all(open.map((client) => client.waitFor(1)));
    const extra = Array.from({ length: 10 }, () => connect());
    await Promise.all(extra.map((client) => client.waitClosed()));
    expect(extra.every((client) => client.replies.length === 0)).toBe(true);
    const refusals = (await stderrShows(server, /at its connection limit/)).match(/the adapter is at its connection limit/g) ?? [];
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.length).toBeLessThanOrEqual(5);
    // Idle for 1.5 s: closed by the node.
    await Promise.all(open.map((client) => client.waitClosed(5000)));
  });

  it('stops reading a client that does not read its replies, and answers it all once it reads', async () => {
    const slow = connect();
    slow.socket.pause();
    const count = 20_000;
    const requests = Array.from({ length: count }, () => 'transport alice@example.org');
    for (let start = 0; start < count; start += 1000) slow.send(...requests.slice(start, start + 1000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const other = connect();
    other.send('mailbox alice@example.org');
    expect(await other.waitFor(1)).toEqual(['OK b1']);
    slow.socket.resume();
    const replies = await slow.waitFor(count, 20_000);
    expect(replies.length).toBe(count);
    expect(new Set(replies)).toEqual(new Set(['OK lmtp:inet:[10.0.0.1]:24']));
  });
});

describe('socketmap settings', () => {
  it('refuses a non-loopback address without --socketmap-allow-remote, saying why', async () => {
    const refused = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', '/nonexistent', '--socketmap-listen', '0.0.0.0:0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refusing socketmap on 0\.0\.0\.0:0: the socketmap protocol has no authentication/);
    const badDomain = await runCli(['serve', '--data-dir', '/nonexistent', '--socketmap-listen', '127.0.0.1:0', '--socketmap-local-domains', 'a b']);
    expect(badDomain.stderr).toMatch(/domain "a b" is not a domain name/);
  });

  it('takes its settings from a config file and the environment like every serve setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbdir-socketmap-config-'));
    const config = join(dir, 'mbdir.json');
    writeFileSync(config, JSON.stringify({ socketmapListen: '127.0.0.1:0', socketmapRecipientDelimiter: '-' }));
    const server = await startServer(['--config', config], { env: { MBDIR_SOCKETMAP_LOCAL_DOMAINS: 'example.net' } });
    const client = new SocketmapClient(server.servingAddress('socketmap'));
    try {
      await seed(server);
      client.send('transport Alice-list@Example.NET', 'transport alice+x@example.net');
      expect(await client.waitFor(2)).toEqual(['OK lmtp:inet:[10.0.0.1]:24', 'NOTFOUND ']);
    } finally {
      client.socket.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves beyond loopback with --socketmap-allow-remote, with a warning', async () => {
    const server = await startServer(['--socketmap-listen', '0.0.0.0:0', '--socketmap-allow-remote', '--log-level', 'warn']);
    try {
      expect(server.servingAddress('socketmap')).toMatch(/^0\.0\.0\.0:\d+$/);
      expect(await stderrShows(server, /socketmap beyond loopback/)).toMatch(/socketmap beyond loopback/);
    } finally {
      await server.stop();
    }
  });
});

describe('socketmap with engine etcd', () => {
  let etcd: EtcdCluster;
  let server: ServerProcess;
  beforeAll(async () => {
    etcd = await EtcdCluster.start(1);
    server = await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--socketmap-listen', '127.0.0.1:0']);
    await seed(server);
  });
  afterAll(async () => {
    await server?.stop();
    await etcd?.stop();
  });

  it('answers from the node\'s copy of etcd\'s directory, TEMP while a user is moved', async () => {
    const client = new SocketmapClient(server.servingAddress('socketmap'));
    try {
      const grpc = server.client();
      client.send('transport dave');
      await client.waitFor(1);
      await grpc.createMailbox({ mailbox: { name: 'user.dave', server: 'b1' } });
      client.send('transport dave');
      await client.waitFor(2);
      await grpc.putServer({ name: 'b2', imap_address: '10.0.0.2:143', lmtp_address: '10.0.0.2:24' });
      await grpc.markUserMoving({ user: 'dave', from_server: 'b1', to_server: 'b2' });
      client.send('transport dave');
      expect(await client.waitFor(3)).toEqual([
        'NOTFOUND ',
        'OK lmtp:inet:[10.0.0.1]:24',
        'TEMP user "dave" is being moved from "b1" to "b2"; try again later',
      ]);
    } finally {
      client.socket.destroy();
    }
  });
});
