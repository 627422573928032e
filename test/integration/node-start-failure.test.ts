// A node whose start fails half way (an adapter's port is taken) must leave
// nothing behind: no listener open, no timer running; `mbdir serve` says so and exits 1. The timers are counted
// with vitest's fake setInterval (the node's sweepers are unref'd intervals,
// which no handle count shows); the sockets are real, on loopback.
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { loopbackAdmin } from '../../src/server/auth/roles.js';
import { GuardedListener } from '../../src/server/guarded-listener.js';
import { MbdirNode, type NodeConfig } from '../../src/server/node.js';
import { runCli } from '../helpers/server-process.js';

/** Files under `path` this process holds open (Linux: /proc/self/fd). */
function filesOpenUnder(path: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(path)) open.push(target);
    } catch {
      // Closed meanwhile (the fd readdir itself used).
    }
  }
  return open;
}

describe('a node start that fails half way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mbdir-start-failure-'));
  const logger = createLogger('silent');
  const taken = net.createServer();
  let takenAddress = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0 }, resolve));
    takenAddress = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function config(overrides: Partial<NodeConfig>): NodeConfig {
    return {
      engine: 'standalone',
      dataDir: mkdtempSync(join(dir, 'data-')),
      listen: '127.0.0.1:0',
      synchronous: 'OFF',
      nodeId: 'start-failure',
      version: '0.0.0',
      guard: () => loopbackAdmin,
      credentials: grpc.ServerCredentials.createInsecure(),
      ...overrides,
    };
  }

  it('mbdir serve exits 1 with one line naming the taken gRPC port, with one read thread as with a pool', async () => {
    for (const readThreads of ['1', '2']) {
      const served = await runCli(['serve', '--data-dir', mkdtempSync(join(dir, 'cli-')), '--listen', takenAddress, '--read-threads', readThreads]);
      expect(served.code, served.stderr).toBe(1);
      expect(served.stderr).toContain(`mbdir: listen EADDRINUSE: address already in use ${takenAddress}`);
    }
  });

  it('leaves no interval running when the MUPDATE port is taken', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const start = MbdirNode.start(
      config({ mupdate: { listen: takenAddress, literals: 'sync', host: 'localhost', principalOf: () => loopbackAdmin } }),
      logger,
    );
    await expect(start).rejects.toThrow(/EADDRINUSE/);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes its data directory when the gRPC port is taken', async () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    await expect(MbdirNode.start(config({ dataDir, listen: takenAddress }), logger)).rejects.toThrow(/EADDRINUSE/);
    expect(filesOpenUnder(dataDir)).toEqual([]);
  });

  it('leaves no interval running when the gRPC port is taken', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await expect(GuardedListener.listen(takenAddress, {
      protocol: 'gRPC',
      bounds: { connectionsMax: 10, handshakeTimeoutMs: 1000, idleTimeoutMs: 1000 },
      refusalLogIntervalMs: 1000,
      handshakeDone: () => true,
      onConnection: (socket) => socket.destroy(),
      logger,
    })).rejects.toThrow(/EADDRINUSE/);
    expect(vi.getTimerCount()).toBe(0);
  });
});
