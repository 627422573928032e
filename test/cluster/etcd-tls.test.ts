/**
 * The etcd engine over TLS, against a real etcd that requires client
 * certificates (--client-cert-auth), with certificates this test makes with
 * openssl: two nodes given the CA and a client certificate replicate through
 * it; a node without a client certificate is refused by etcd and says so; and
 * TLS settings that cannot work stop `serve` with one error line naming them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeCertificate } from '../helpers/certificates.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-etcd-tls-'));
const path = (name: string): string => join(directory, name);
const nodes: ServerProcess[] = [];
let etcd: EtcdCluster;

beforeAll(async () => {
  makeCa(directory, '/CN=mbdir etcd test CA');
  makeCertificate(directory, 'etcd', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  makeCertificate(directory, 'mbdir', '/CN=mbdir', 'extendedKeyUsage=clientAuth\n');
  etcd = await EtcdCluster.start(1, {
    tls: { cert: path('etcd.crt'), key: path('etcd.key'), clientCa: path('ca.crt'), helperCert: path('mbdir.crt'), helperKey: path('mbdir.key') },
  });
}, 60_000);

afterAll(async () => {
  for (const node of nodes) await node.stop();
  await etcd?.stop();
  rmSync(directory, { recursive: true, force: true });
});

const tlsFlags = (): string[] => ['--etcd-ca', path('ca.crt'), '--etcd-cert', path('mbdir.crt'), '--etcd-key', path('mbdir.key')];

async function startNode(flags: string[]): Promise<ServerProcess> {
  const node = await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/tls', ...flags]);
  nodes.push(node);
  return node;
}

describe('etcd over TLS with client certificates', () => {
  it('replicates between two nodes given the CA and a client certificate', async () => {
    expect(etcd.endpoints()).toMatch(/^https:\/\//);
    const writer = await startNode(tlsFlags());
    const reader = await startNode(tlsFlags());
    await registerServers(writer.client(), ['backend1']);
    const status = await writer.client().status();
    expect(status['etcd_endpoints']).toEqual([expect.objectContaining({ endpoint: etcd.endpoints(), healthy: true })]);
    const created = await writer.client().createMailbox({ mailbox: { name: 'user.tls', uniqueid: 'uid-tls', server: 'backend1', partition: 'default' } });
    const found = await reader.client().getMailbox({ name: 'user.tls', min_revision: created['revision'] });
    expect((found['mailbox']!)['server']).toBe('backend1');
  }, 60_000);

  it('is refused by etcd without a client certificate: writes fail, status names the endpoint unhealthy', async () => {
    const node = await startNode(['--etcd-ca', path('ca.crt')]);
    const status = await node.client().status();
    // grpc-js says only "No connection established": the node says where to look.
    expect(status['etcd_endpoints']).toEqual([
      expect.objectContaining({ endpoint: etcd.endpoints(), healthy: false, error: expect.stringContaining('refused handshake looks like: check that the etcd CA setting (etcdCa) signed') }),
    ]);
    const write = node.client().createMailbox({ mailbox: { name: 'user.nocert', uniqueid: 'uid-nocert', server: 'backend1', partition: 'default' } });
    await expect(write).rejects.toThrow(/UNAVAILABLE[\s\S]*refused handshake/);
  }, 60_000);

  it('stops serve with one line when the TLS settings cannot work', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--etcd-endpoints', etcd.endpoints(), '--etcd-cert', path('mbdir.crt')], /settings etcdCert and etcdKey go together/],
      [['--etcd-endpoints', 'http://127.0.0.1:2379', '--etcd-ca', path('ca.crt')], /setting etcdCa given, but etcdEndpoints are http:\/\//],
      [['--etcd-endpoints', `${etcd.endpoints()},http://127.0.0.1:2379`], /mixes http:\/\/ and https:\/\//],
      [['--etcd-endpoints', etcd.endpoints(), '--etcd-ca', path('missing.crt')], /cannot read etcd CA .*missing\.crt/],
      // A key that is not the certificate's, found before the store opens, with the files named.
      [['--etcd-endpoints', etcd.endpoints(), '--etcd-cert', path('mbdir.crt'), '--etcd-key', path('etcd.key')], /etcd TLS files .*mbdir\.crt.*etcd\.key are not a usable/],
      [['--engine', 'standalone', '--etcd-ca', path('ca.crt')], /setting etcdCa is for engine etcd, but engine is standalone/],
    ];
    for (const [flags, message] of cases) {
      const dataDir = mkdtempSync(join(directory, 'refused-'));
      const run = await runCli(['serve', '--engine', 'etcd', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...flags]);
      expect(existsSync(join(dataDir, 'mbdir.sqlite')), flags.join(' ')).toBe(false); // refused before the store opened
      expect(run.code, flags.join(' ')).not.toBe(0);
      const errors = run.stderr.split('\n').filter((line) => line.startsWith('mbdir: '));
      expect(errors, flags.join(' ')).toHaveLength(1);
      expect(errors[0], flags.join(' ')).toMatch(message);
    }
  }, 60_000);
});
