/**
 * The etcd cluster `bench run --engine etcd` measures against: N members of
 * the machine's etcd binary on free loopback ports, in a temporary directory
 * that `stop` removes with the processes. Bounded: at most etcdBenchMembersMax
 * members, a fixed wait for a leader. It never touches a cluster it did not
 * start (a given cluster is passed as endpoints and left alone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Members bench starts at most (etcd clusters are 1, 3, 5 or 7 members). */
export const etcdBenchMembersMax = 7;
/** How long the members may take to elect a leader. */
const leaderWaitMs = 30_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class BenchEtcdCluster {
  private constructor(
    readonly clientUrls: string[],
    private readonly processes: ChildProcess[],
    private readonly root: string,
  ) {}

  /** Starts `size` members and waits until they elect a leader. */
  static async start(size: number): Promise<BenchEtcdCluster> {
    if (!Number.isInteger(size) || size < 1 || size > etcdBenchMembersMax) {
      throw new Error(`--etcd-members is ${size}; bench starts 1 to ${etcdBenchMembersMax} members`);
    }
    const root = mkdtempSync(join(tmpdir(), 'mbdir-bench-etcd-'));
    const members: Array<{ name: string; client: string; peer: string }> = [];
    for (let index = 0; index < size; index += 1) {
      members.push({ name: `etcd${index}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
    }
    const initialCluster = members.map((member) => `${member.name}=${member.peer}`).join(',');
    const processes = members.map((member) => {
      const child = spawn('etcd', [
        '--name', member.name,
        '--data-dir', join(root, member.name),
        '--listen-client-urls', member.client,
        '--advertise-client-urls', member.client,
        '--listen-peer-urls', member.peer,
        '--initial-advertise-peer-urls', member.peer,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', 'mbdir-bench',
        '--log-level', 'error',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.resume();
      return child;
    });
    const cluster = new BenchEtcdCluster(members.map((member) => member.client), processes, root);
    try {
      await cluster.waitForLeader();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The members' process ids (for their CPU). */
  pids(): Array<number | undefined> {
    return this.processes.map((child) => child.pid);
  }

  /** Client URLs, comma-separated, as `--etcd-endpoints` takes them. */
  endpoints(): string {
    return this.clientUrls.join(',');
  }

  private async waitForLeader(): Promise<void> {
    const until = Date.now() + leaderWaitMs;
    while (Date.now() < until) {
      for (const url of this.clientUrls) {
        try {
          const response = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
          const status = (await response.json()) as { leader?: string };
          if (status.leader !== undefined && status.leader !== '0') return;
        } catch {
          // not up yet
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the ${this.clientUrls.length} etcd members bench started elected no leader in ${leaderWaitMs} ms`);
  }

  async stop(): Promise<void> {
    for (const child of this.processes) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
