/**
 * gRPC over TLS with certificates this test makes with openssl: a CA, a server
 * certificate for 127.0.0.1 and a client certificate. Plaintext clients fail,
 * TLS clients succeed, and with --tls-client-ca a client without a certificate
 * is refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeCertificate } from '../helpers/certificates.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MbdirClient } from '../../src/client/client.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-tls-'));
const path = (name: string): string => join(directory, name);
const servers: ServerProcess[] = [];

beforeAll(() => {
  makeCa(directory, '/CN=mbdir test CA');
  makeCertificate(directory, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  makeCertificate(directory, 'client', '/CN=backend1', 'extendedKeyUsage=clientAuth\n');
});

afterAll(async () => {
  for (const server of servers) await server.stop();
});

it('serves over TLS: TLS clients are answered, plaintext ones are not', async () => {
  const server = await startServer(['--tls-cert', path('server.crt'), '--tls-key', path('server.key')]);
  servers.push(server);
  const tlsClient = new MbdirClient({ endpoint: server.endpoint, tls: { ca: path('ca.crt') }, deadlineMs: 5000 });
  expect((await tlsClient.status())['engine']).toBe('standalone');
  tlsClient.close();
  const plain = new MbdirClient({ endpoint: server.endpoint, deadlineMs: 2000 });
  await expect(plain.status()).rejects.toThrow(/UNAVAILABLE|DEADLINE_EXCEEDED/);
  plain.close();
  const cli = await runCli(['--endpoint', server.endpoint, '--tls-ca', path('ca.crt'), 'status']);
  expect(cli.stdout).toMatch(/engine standalone/);
});

it('requires a client certificate signed by --tls-client-ca', async () => {
  const server = await startServer([
    '--tls-cert', path('server.crt'), '--tls-key', path('server.key'), '--tls-client-ca', path('ca.crt'),
  ]);
  servers.push(server);
  const anonymous = new MbdirClient({ endpoint: server.endpoint, tls: { ca: path('ca.crt') }, deadlineMs: 3000 });
  await expect(anonymous.status()).rejects.toThrow(/UNAVAILABLE|DEADLINE_EXCEEDED/);
  anonymous.close();
  // The node answered but refused the handshake: the CLI says so, not that nothing answered.
  const refused = await runCli(['--endpoint', server.endpoint, '--tls-ca', path('ca.crt'), 'status']);
  expect(refused.code).toBe(1);
  // (Node may also print its DEP0123 warning: grpc-js sets an IP address as the TLS server name.)
  const lines = refused.stderr.split('\n').filter((line) => line.startsWith('mbdir: '));
  expect(lines, refused.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`mbdir: UNAVAILABLE: could not connect to ${server.endpoint}: `);
  expect(lines[0]).toMatch(/certificate required/);
  const certified = new MbdirClient({
    endpoint: server.endpoint,
    tls: { ca: path('ca.crt'), cert: path('client.crt'), key: path('client.key') },
    deadlineMs: 5000,
  });
  expect((await certified.status())['engine']).toBe('standalone');
  certified.close();
});

it('refuses half a key pair at start-up with one clear line', async () => {
  const result = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', path('data'), '--tls-cert', path('server.crt')]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/--tls-cert and --tls-key go together/);
});
