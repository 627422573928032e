/**
 * README "Three nodes on one machine", run as written: the block is taken out
 * of README.md and run by bash (aliases on, as in an interactive shell; `-e`,
 * so any command that fails stops it), with its port and directory variables
 * set to free ports and a temporary directory. It starts real etcd members and
 * real mbdir nodes; the client commands at its end must succeed and print what
 * a reader expects. Everything the block starts is in one process group, which
 * is stopped afterwards, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/server-process.js';

/** Ports tried for a run of free ones: below Linux's ephemeral range, where the OS hands out port-0 binds. */
const portRangeStart = 20_000;
const portRangeSize = 12_000;
const portRunAttemptsMax = 50;
/** The block may take this long (etcd's first election, three node starts, the CLI calls). */
const blockTimeoutMs = 50_000;

const clusterDir = mkdtempSync(join(tmpdir(), 'mbdir-readme-cluster-'));
let shell: ChildProcess | undefined;

afterAll(async () => {
  if (shell?.pid !== undefined) await stopGroup(shell.pid);
  rmSync(clusterDir, { recursive: true, force: true });
});

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first port of `count` consecutive free loopback ports. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < portRunAttemptsMax; attempt += 1) {
    const first = portRangeStart + Math.floor(Math.random() * (portRangeSize - count));
    let free = true;
    for (let port = first; port < first + count && free; port += 1) free = await portIsFree(port);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** SIGTERM to the block's process group, SIGKILL to what is left after 5 s. */
async function stopGroup(groupId: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(-groupId, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-groupId, 'SIGTERM');
  for (let waited = 0; waited < 50 && alive(); waited += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) process.kill(-groupId, 'SIGKILL');
}

function readmeBlock(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /### Three nodes on one machine\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no sh block under "### Three nodes on one machine"');
  return block;
}

describe('README: three nodes on one machine', () => {
  it('runs as pasted: the client commands find the nodes listening and answer', { timeout: blockTimeoutMs + 10_000 }, async () => {
    const etcdPort = await freePortRun(6);
    const mbdirPort = await freePortRun(3);
    const child = spawn('bash', ['-O', 'expand_aliases', '-e', '-c', readmeBlock()], {
      cwd: repoRoot,
      env: { ...process.env, etcd_port: String(etcdPort), mbdir_port: String(mbdirPort), cluster_dir: clusterDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the members and nodes it leaves running are stopped with it
    });
    shell = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), blockTimeoutMs);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, `the block failed:\n${stderr}`).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^CREATED user\.alice {2}backend1!default/m);
    // `get` through the third node shows the mailbox created through the first.
    expect(stdout.match(/^user\.alice {2}backend1!default/gm)).toHaveLength(1);
    expect(stdout).toMatch(/^node mbdir1 {2}engine etcd /m);
    for (const port of [etcdPort, etcdPort + 2, etcdPort + 4]) {
      expect(stdout).toMatch(new RegExp(`^etcd http://127\\.0\\.0\\.1:${port} {2}healthy`, 'm'));
    }
  });
});
