/**
 * `mbdir status` in text form on an etcd-engine node, as an operator reads it:
 * every etcd endpoint with its health (one of them the leader), the node's
 * applied revision, etcd's revision and the lag between them; and an endpoint
 * whose member was killed shown unhealthy with the reason. One real 3-member
 * etcd cluster and one real node for the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

let etcd: EtcdCluster;
let node: ServerProcess;

beforeAll(async () => {
  etcd = await EtcdCluster.start(3);
  node = await startServer(['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/t-status', '--node-id', 'mbdir-a']);
});

afterAll(async () => {
  await node?.stop('SIGKILL').catch(() => undefined);
  await etcd?.stop();
});

async function statusText(): Promise<string[]> {
  const result = await runCli(['--endpoint', node.endpoint, 'status']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trimEnd().split('\n');
}

/** The status line of one etcd endpoint. */
function endpointLine(lines: string[], url: string): string {
  const line = lines.find((candidate) => candidate.startsWith(`etcd ${url} `));
  if (line === undefined) throw new Error(`no line for ${url} in:\n${lines.join('\n')}`);
  return line;
}

describe('mbdir status, engine etcd', () => {
  it('shows every etcd endpoint healthy, the leader, the applied revision and the lag', async () => {
    const registered = await runCli(['--endpoint', node.endpoint, 'server-put', 'backend1', '--imap', '127.0.0.1:1143', '--lmtp', '127.0.0.1:1024']);
    expect(registered.code, registered.stderr).toBe(0);
    const created = await runCli(['--endpoint', node.endpoint, 'create', 'user.alice', '--server', 'backend1']);
    expect(created.code, created.stderr).toBe(0);
    const revision = Number(/revision (\d+)/.exec(created.stdout)?.[1]);
    const lines = await statusText();
    expect(lines[0]).toMatch(/^node mbdir-a {2}engine etcd {2}version \S+ {2}up \d+ s$/);
    expect(lines).toContain(`applied revision ${revision}  mailboxes 1`);
    expect(lines).toContain(`etcd revision ${revision}  lag 0 revisions`);
    const urls = etcd.members.map((member) => member.clientUrl);
    const endpoints = urls.map((url) => endpointLine(lines, url));
    // A follower member may apply the create a moment after the member that answered it.
    for (const line of endpoints) expect(line).toMatch(/ {2}healthy( leader)? {2}revision \d+$/);
    expect(endpoints.filter((line) => / leader /.test(line))).toHaveLength(1);
  });

  it('shows an endpoint whose etcd member is down as unhealthy, with the reason', async () => {
    // A follower goes down: killing the leader would leave the others electing one, answering "no leader" meanwhile.
    const before = await statusText();
    const follower = etcd.members.findIndex((member) => !/ {2}healthy leader /.test(endpointLine(before, member.clientUrl)));
    expect(follower).toBeGreaterThanOrEqual(0);
    await etcd.kill(follower);
    const lines = await statusText();
    const down = endpointLine(lines, etcd.members[follower]?.clientUrl ?? '');
    expect(down).toMatch(/ {2}UNHEALTHY {2}\S.*$/);
    expect(down).toMatch(/ECONNREFUSED|connect|unavailable/i);
    const others = etcd.members.filter((_, index) => index !== follower);
    for (const member of others) expect(endpointLine(lines, member.clientUrl)).toMatch(/ {2}healthy/);
  });
});
