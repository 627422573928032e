/**
 * The node's metrics over a real store and engine: what the gauges say after
 * real writes, what the engine's telemetry records, and Prometheus's own
 * checker (`promtool check metrics`, Debian's prometheus package) accepting
 * the exposition.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { NodeMetrics } from '../../src/server/metrics/node-metrics.js';
import { Store } from '../../src/store/store.js';
import { parseLoopDelay } from '../../tools/bench/event-loop.js';

let store: Store;
let engine: StandaloneEngine;
let directory: Directory;
let metrics: NodeMetrics;

beforeAll(async () => {
  store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  engine = new StandaloneEngine(store);
  await engine.start();
  directory = new Directory(store, engine);
  metrics = new NodeMetrics(
    { version: '9.9.9', nodeId: 'metrics-test', engine: 'standalone' },
    {
      appliedRevision: () => engine.appliedRevision(),
      mailboxCounts: () => {
        const reserved = store.reservedCount();
        return { active: store.mailboxCount() - reserved, reserved };
      },
      watchSubscribers: () => 0,
      engineStatus: () => engine.status(),
    },
  );
  engine.telemetry = metrics.engineTelemetry;
  await directory.putServer({ name: 'b1', imapAddress: '127.0.0.1:1143', pop3Address: '', lmtpAddress: '127.0.0.1:1024', state: 'UP', weight: 1, datacenter: '' });
  await directory.createMailbox({ name: 'user.ann', server: 'b1' });
  await directory.createMailbox({ name: 'user.ann.Sent', server: 'b1' });
  await directory.createMailbox({ name: 'user.bo', server: 'b1', reserveOnly: true });
});

afterAll(async () => {
  await engine.close();
  store.close();
});

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('node metrics', () => {
  it('says what the directory holds and what the engine did', async () => {
    const ended = metrics.grpcCall('mbdir.v1.Mailboxes', 'GetMailbox', 'unary');
    ended('NOT_FOUND');
    metrics.protocolCommand('mupdate', 'FIND', 'ok');
    const { body, contentType } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(body, 'mbdir_mailboxes{state="active"}')).toBe(2);
    expect(sample(body, 'mbdir_mailboxes{state="reserved"}')).toBe(1);
    expect(sample(body, 'mbdir_applied_revision')).toBe(engine.appliedRevision());
    expect(sample(body, 'mbdir_build_info{version="9.9.9",node_id="metrics-test",engine="standalone"}')).toBe(1);
    expect(sample(body, 'mbdir_store_committed_writes_total')).toBe(4);
    expect(sample(body, 'mbdir_store_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(body, 'grpc_server_handled_total{grpc_service="mbdir.v1.Mailboxes",grpc_method="GetMailbox",grpc_type="unary",grpc_code="NOT_FOUND"}')).toBe(1);
    expect(sample(body, 'mbdir_protocol_commands_total{protocol="mupdate",command="FIND",result="ok"}')).toBe(1);
    expect(sample(body, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it("reports the event loop's delay since the last scrape, which the bench reads", async () => {
    await metrics.exposition(); // starts the histogram afresh
    await new Promise((resolve) => setTimeout(resolve, 20));
    const blockedUntil = performance.now() + 300;
    while (performance.now() < blockedUntil); // the loop is held, as by a long synchronous call
    await new Promise((resolve) => setTimeout(resolve, 20));
    const blocked = parseLoopDelay((await metrics.exposition()).body);
    expect(blocked?.maxMs).toBeGreaterThanOrEqual(250);
    expect(blocked?.p99Ms).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = parseLoopDelay((await metrics.exposition()).body);
    expect(after?.maxMs).toBeLessThan(250); // the scrape before ended the window that held the block
  });

  it('passes promtool check metrics', async () => {
    const { body } = await metrics.exposition();
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(checked.error).toBeUndefined();
    expect(`${checked.stdout}${checked.stderr}`.trim()).toBe('');
    expect(checked.status).toBe(0);
  });
});
