// One writer per data directory: a second `mbdir serve` on a directory a
// running node holds exits at once with one line naming the directory and the
// holder; the lock is the OS's, so a node killed with SIGKILL leaves none behind.
// A directory or database file the user may not write is refused naming it.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mbdirEntry, startServer, type ServerProcess } from '../helpers/server-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-lock-'));
const started: ServerProcess[] = [];

afterAll(async () => {
  for (const node of started) await node.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** How long a refused node may take to exit; one that serves instead is killed then. */
const refusalMsMax = 10_000;

/** Runs `mbdir serve` expecting it to exit by itself; kills it (and reports a serving node) after refusalMsMax. */
function serveUntilExit(args: string[], ids: { uid: number; gid: number } | object = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, [mbdirEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), refusalMsMax);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit({ code, stdout, stderr });
    });
  });
}

async function serverNames(node: ServerProcess): Promise<string[]> {
  const answer = (await node.client().listServers({})) as { servers: Array<{ server: { name: string } }> };
  return answer.servers.map((entry) => entry.server.name);
}

describe('a data directory has one serving node', () => {
  it('refuses a second node on the same directory, and takes over after the first is killed', async () => {
    const first = await startServer(['--node-id', 'first-node'], { dataDir });
    started.push(first);
    await first.client().putServer({ name: 'backend1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });

    const second = await serveUntilExit(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--node-id', 'second-node']);
    expect(second.code).toBe(1);
    expect(second.stdout).not.toMatch(/serving/);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(resolve(dataDir));
    expect(lines[0]).toContain(`pid ${first.process.pid}`);
    expect(lines[0]).toContain('first-node');
    expect(lines[0]).toContain(`listen ${first.endpoint}`);
    // The first node still serves and writes.
    expect(await serverNames(first)).toEqual(['backend1']);

    await first.stop('SIGKILL');
    const third = await startServer(['--node-id', 'third-node'], { dataDir });
    started.push(third);
    expect(await serverNames(third)).toEqual(['backend1']);
  });
});

/** nobody's ids, when this process may run a child as another user (root) and nobody can read the built entry. */
const nobody = { uid: 65534, gid: 65534 };
const canRunAsNobody =
  process.getuid?.() === 0 &&
  spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(mbdirEntry)})`], nobody).status === 0;

describe.skipIf(!canRunAsNobody)('a data directory the user may not write', () => {
  it('is refused with one line naming the directory, or the database file, and the uid', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'mbdir-unwritable-'));
    chmodSync(parent, 0o755);
    const rootOwned = join(parent, 'root-owned');
    mkdirSync(rootOwned, { mode: 0o755 });
    const refusedDir = await serveUntilExit(['serve', '--listen', '127.0.0.1:0', '--data-dir', rootOwned], nobody);
    expect(refusedDir.code).toBe(1);
    expect(refusedDir.stderr).toContain(`mbdir: the data directory ${rootOwned} is not readable and writable by this process (uid 65534)`);
    const readOnlyFile = join(parent, 'read-only-file');
    mkdirSync(readOnlyFile);
    chownSync(readOnlyFile, nobody.uid, nobody.gid);
    writeFileSync(join(readOnlyFile, 'mbdir.sqlite'), '', { mode: 0o444 });
    chownSync(join(readOnlyFile, 'mbdir.sqlite'), nobody.uid, nobody.gid);
    const refusedFile = await serveUntilExit(['serve', '--listen', '127.0.0.1:0', '--data-dir', readOnlyFile], nobody);
    expect(refusedFile.code).toBe(1);
    expect(refusedFile.stderr).toContain(`mbdir: the database file ${join(readOnlyFile, 'mbdir.sqlite')} is not readable and writable by this process`);
    rmSync(parent, { recursive: true, force: true });
  });
});
