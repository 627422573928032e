/**
 * The operator's HTTP routes of a real node under load: /metrics accepted by
 * Prometheus's own checker (promtool, Debian's prometheus) while gRPC writers,
 * readers and MUPDATE backends work, and its figures agreeing with what they
 * did; /healthz and /readyz; and readiness on etcd, where losing every etcd
 * member makes /readyz and the gRPC health service say NOT_SERVING, with why.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { MbdirClient } from '../../src/client/client.js';
import type { Message } from '../helpers/message.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { registerServers } from '../helpers/integration.js';
import { literal, MupdateClient, mupdatePort } from '../helpers/mupdate-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess;
let client: MbdirClient;

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function get(base: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(`http://${base}${path}`);
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

beforeAll(async () => {
  node = await startServer(['--http-listen', '127.0.0.1:0', '--mupdate-listen', '127.0.0.1:0']);
  client = node.client();
  await registerServers(client, ['b1', 'b2']);
});

afterAll(async () => {
  await node?.stop();
});

describe('/metrics under load', () => {
  it('passes promtool and counts what the callers did', async () => {
    const http = node.servingAddress('HTTP');
    const writers = Array.from({ length: 4 }, async (_unused, writer) => {
      for (let index = 0; index < 50; index += 1) {
        await client.createMailbox({ mailbox: { name: `user.w${writer}x${index}`, server: writer % 2 === 0 ? 'b1' : 'b2' } });
      }
    });
    const readers = Array.from({ length: 2 }, async () => {
      for (let index = 0; index < 100; index += 1) {
        await client.getMailbox({ name: 'user.nobody' }).catch(() => undefined);
      }
    });
    const backend = await MupdateClient.login(mupdatePort(node));
    const mupdateWork = (async () => {
      for (let index = 0; index < 20; index += 1) {
        const name = `user.m${index}`;
        await backend.command(`R${index}`, `RESERVE ${literal(name)} ${literal('b1!default')}`);
        await backend.command(`F${index}`, `FIND ${literal(name)}`);
      }
    })();
    // Scrapes while the load runs: each must pass the checker.
    const scrapes: string[] = [];
    const scraping = (async () => {
      for (let index = 0; index < 5; index += 1) scrapes.push((await get(http, '/metrics')).body);
    })();
    // nginx asking for a user no mailbox belongs to: refused, counted.
    const login = await fetch(`http://${http}/auth`, { headers: { 'Auth-User': 'nobody', 'Auth-Pass': 'pw', 'Auth-Protocol': 'imap', 'Auth-Method': 'plain', 'Client-IP': '127.0.0.1' } });
    expect(login.headers.get('auth-status')).toMatch(/Invalid login/);
    await Promise.all([...writers, ...readers, mupdateWork, scraping]);
    backend.close();
    const final = await get(http, '/metrics');
    expect(final.status).toBe(200);
    expect(final.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const body of [...scrapes, final.body]) {
      const checked = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(checked.error).toBeUndefined();
      expect(`${checked.stdout}${checked.stderr}`.trim()).toBe('');
      expect(checked.status).toBe(0);
    }
    const body = final.body;
    const created = 'grpc_server_handled_total{grpc_service="mbdir.v1.Mailboxes",grpc_method="CreateMailbox",grpc_type="unary",grpc_code="OK"}';
    expect(sample(body, created)).toBe(200);
    const missed = 'grpc_server_handled_total{grpc_service="mbdir.v1.Mailboxes",grpc_method="GetMailbox",grpc_type="unary",grpc_code="NOT_FOUND"}';
    expect(sample(body, missed)).toBe(200);
    expect(sample(body, 'mbdir_mailboxes{state="active"}')).toBe(200);
    expect(sample(body, 'mbdir_mailboxes{state="reserved"}')).toBe(20);
    expect(sample(body, 'mbdir_protocol_commands_total{protocol="mupdate",command="RESERVE",result="ok"}')).toBe(20);
    expect(sample(body, 'mbdir_protocol_commands_total{protocol="mupdate",command="FIND",result="ok"}')).toBe(20);
    expect(sample(body, 'mbdir_protocol_commands_total{protocol="auth_http",command="auth",result="refused"}')).toBe(1);
    const status = await client.status();
    expect(sample(body, 'mbdir_applied_revision')).toBe(Number(status['applied_revision']));
    expect(sample(body, 'mbdir_store_committed_writes_total')).toBeGreaterThanOrEqual(222);
    expect(sample(body, 'mbdir_store_commit_seconds_count')).toBeGreaterThan(0);
    expect(body).toMatch(/^mbdir_build_info\{version="[^"]+",node_id="[^"]*",engine="standalone"\} 1$/m);
  });

  it('answers /healthz and /readyz, and refuses other methods', async () => {
    const http = node.servingAddress('HTTP');
    expect(await get(http, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const ready = await get(http, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, reasons: [] });
    const posted = await fetch(`http://${http}/metrics`, { method: 'POST' });
    expect(posted.status).toBe(405);
  });
});

describe('readiness on etcd', () => {
  let etcd: EtcdCluster | undefined;
  let clustered: ServerProcess | undefined;

  afterAll(async () => {
    await clustered?.stop('SIGKILL').catch(() => undefined);
    await etcd?.stop();
  });

  it('says not ready, and why, when no etcd member answers; gRPC health agrees', async () => {
    etcd = await EtcdCluster.start(1);
    clustered = await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.members.map((member) => member.clientUrl).join(','), '--etcd-prefix', '/t-ready', '--http-listen', '127.0.0.1:0']);
    const http = clustered.servingAddress('HTTP');
    expect((await get(http, '/readyz')).status).toBe(200);
    expect(await healthOf(clustered.endpoint)).toBe('SERVING');
    await etcd.kill(0);
    const notReady = await get(http, '/readyz');
    expect(notReady.status).toBe(503);
    const answer = JSON.parse(notReady.body) as { ready: boolean; reasons: string[] };
    expect(answer.ready).toBe(false);
    expect(answer.reasons.join(' ')).toMatch(/no etcd member with a leader answered \(http:\/\/127\.0\.0\.1:\d+\): writes would fail/);
    // The health service follows within one readiness interval (2 s).
    await expect.poll(() => healthOf((clustered as ServerProcess).endpoint), { timeout: 10_000, interval: 250 }).toBe('NOT_SERVING');
    // Still alive: reads go on from the local copy.
    expect((await get(http, '/healthz')).status).toBe(200);
  });
});

async function healthOf(endpoint: string): Promise<string> {
  const Health = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health');
  const health = new Health(endpoint, grpc.credentials.createInsecure()) as unknown as {
    Check(request: Message, callback: (error: grpc.ServiceError | null, response: Message) => void): void;
    close(): void;
  };
  try {
    const response = await new Promise<Message>((resolve, reject) =>
      health.Check({ service: '' }, (error, answer) => (error === null ? resolve(answer) : reject(error))),
    );
    return String(response['status']);
  } finally {
    health.close();
  }
}
