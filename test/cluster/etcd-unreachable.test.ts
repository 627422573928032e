/**
 * A node on the etcd engine whose etcd cannot be reached at all (nothing
 * listens on the endpoint): it starts and serves reads from its local copy,
 * says once, with the reason, that it is not ready, and its watch's re-opens
 * (four a second) do not flood the log: one `etcd watch broken` line per
 * interval, the breaks left out counted.
 */
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../helpers/etcd-cluster.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess | undefined;

afterAll(async () => {
  await node?.stop();
});

/** The log lines (pino JSON on stderr) whose msg is `message`. */
function linesOf(stderr: string, message: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['msg'] === message);
}

it('serves from its local copy, logs "not ready" with the reason once, and one "etcd watch broken" line per interval', async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  node = await startServer(['--engine', 'etcd', '--etcd-endpoints', endpoint, '--log-level', 'info']);
  const status = await node.client().status();
  expect(status['engine']).toBe('etcd');
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const notReady = linesOf(node.stderr(), 'not ready');
  expect(notReady).toHaveLength(1);
  expect(String((notReady[0]?.['reasons'] as string[])[0])).toContain(`no etcd member with a leader answered (${endpoint})`);
  // Four seconds of re-opens every 250 ms: one line, not sixteen.
  expect(linesOf(node.stderr(), 'etcd watch broken; resuming from the applied revision')).toHaveLength(1);
});
