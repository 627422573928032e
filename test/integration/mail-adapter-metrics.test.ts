// The socketmap and Dovecot dict listeners report to the node's metrics:
// commands by map (or lookup) and result, open connections, and refusals by
// limit. A real FramedServer on loopback and a UNIX socket, a real directory
// (in-memory SQLite), the metrics read from their Prometheus exposition.
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { createLogger } from '../../src/logging.js';
import { recipientRulesOf } from '../../src/model/recipients.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { dovecotDictProtocol } from '../../src/server/dovecot-dict/passdb.js';
import { FramedServer } from '../../src/server/framed-server.js';
import { NodeMetrics } from '../../src/server/metrics/node-metrics.js';
import { socketmapProtocol } from '../../src/server/socketmap/maps.js';
import { encodeNetstring } from '../../src/model/netstring.js';
import { Store } from '../../src/store/store.js';

/** Sends `bytes` on a new connection and resolves with everything read until the peer closes or `expected` bytes came. */
function exchange(target: net.NetConnectOpts, bytes: string | Buffer, expected: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(target);
    let received = '';
    const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(received)}`)), 5000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= expected) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('socketmap and Dovecot dict metrics', () => {
  const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  const metrics = new NodeMetrics(
    { version: '0.0.0', nodeId: 'mail-metrics', engine: 'standalone' },
    {
      appliedRevision: () => engine.appliedRevision(),
      mailboxCounts: () => ({ active: store.mailboxCount(), reserved: 0 }),
      watchSubscribers: () => 0,
      engineStatus: () => engine.status(),
    },
  );
  const logger = createLogger('silent');
  const dir = mkdtempSync(join(tmpdir(), 'mbdir-mail-metrics-'));
  let socketmap: FramedServer<Buffer>;
  let dict: FramedServer<unknown>;

  beforeAll(async () => {
    await directory.putServer({ name: 'b1', imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress: '10.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
    await directory.createMailbox({ name: 'user.alice', server: 'b1' });
    const rules = recipientRulesOf('+', true, 'example.org');
    socketmap = await FramedServer.start({
      protocol: socketmapProtocol(directory, rules),
      listen: { host: '127.0.0.1', port: 0 },
      connectionsMax: 10,
      idleMs: 5000,
      logger,
      observer: metrics,
    });
    dict = (await FramedServer.start({
      protocol: dovecotDictProtocol(directory, recipientRulesOf('', true, 'example.org'), logger),
      listen: { path: join(dir, 'dict.sock') },
      connectionsMax: 10,
      idleMs: 5000,
      logger,
      observer: metrics,
    })) as FramedServer<unknown>;
  });
  afterAll(async () => {
    await socketmap?.close();
    await dict?.close();
    await engine.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts commands by map and result, refusals by limit, and open connections', async () => {
    const [host, port] = [socketmap.address.split(':')[0] ?? '', Number(socketmap.address.split(':')[1])];
    const requests = ['transport alice@example.org', 'mailbox alice@example.org', 'transport nobody@example.org', 'aliases x'];
    await exchange({ host, port }, Buffer.concat(requests.map((request) => encodeNetstring(request))), 60);
    await exchange({ host, port }, '2:ab;', 1);
    await exchange({ path: dict.address }, 'H3\t2\t0\t\tpassdb\nLshared/passdb/alice\t\nLshared/passdb/nobody\t\n', 60);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { body } = await metrics.exposition();
    const lines = body.split('\n').filter((line) => /^mbdir_(protocol|limit)/.test(line));
    for (const expected of [
      'mbdir_protocol_commands_total{protocol="socketmap",command="transport",result="ok"} 1',
      'mbdir_protocol_commands_total{protocol="socketmap",command="mailbox",result="ok"} 1',
      'mbdir_protocol_commands_total{protocol="socketmap",command="transport",result="notfound"} 1',
      'mbdir_protocol_commands_total{protocol="socketmap",command="other",result="perm"} 1',
      'mbdir_limit_refusals_total{protocol="socketmap",limit="malformed"} 1',
      'mbdir_protocol_commands_total{protocol="dovecot_dict",command="lookup",result="ok"} 1',
      'mbdir_protocol_commands_total{protocol="dovecot_dict",command="lookup",result="notfound"} 1',
      'mbdir_protocol_connections{protocol="socketmap"} 0',
      'mbdir_protocol_connections{protocol="dovecot_dict"} 0',
    ]) {
      expect(lines).toContain(expected);
    }
  });
});
