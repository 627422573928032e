/**
 * The set-up several cluster tests share: one single-member etcd for the test
 * file, etcd-engine nodes started on it under a key prefix with data
 * directories inside one scratch directory, and at the end every node killed,
 * etcd stopped and the scratch directory removed (also when a test failed).
 * Call it at the top level of a test file: it registers beforeAll/afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { EtcdCluster } from './etcd-cluster.js';
import { startServer, type ServerProcess } from './server-process.js';

export interface EtcdNodes {
  /** The etcd of the file (after beforeAll). */
  readonly etcd: EtcdCluster;
  /** The scratch directory data directories go in. */
  readonly directory: string;
  /** Nodes started so far, in order. */
  readonly started: readonly ServerProcess[];
  /** Starts a node on etcd under `prefix`, on `dataDir`. */
  start(prefix: string, dataDir: string, startTimeoutMs?: number): Promise<ServerProcess>;
}

export function etcdNodesForFile(name: string): EtcdNodes {
  const directory = mkdtempSync(join(tmpdir(), `mbdir-${name}-`));
  const started: ServerProcess[] = [];
  let cluster: EtcdCluster | undefined;

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
  }, 60_000);

  afterAll(async () => {
    for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
    await cluster?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  return {
    get etcd(): EtcdCluster {
      if (cluster === undefined) throw new Error('etcdNodesForFile: etcd is started in beforeAll');
      return cluster;
    },
    directory,
    started,
    async start(prefix, dataDir, startTimeoutMs) {
      const args = ['--engine', 'etcd', '--etcd-endpoints', this.etcd.endpoints(), '--etcd-prefix', prefix];
      const node = await startServer(args, { dataDir, ...(startTimeoutMs === undefined ? {} : { startTimeoutMs }) });
      started.push(node);
      return node;
    },
  };
}
