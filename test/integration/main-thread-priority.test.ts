/**
 * `--main-thread-priority realtime`: the node's main thread alone runs under
 * SCHED_FIFO (read threads, V8's and libuv's threads stay at the normal
 * policy, at their nice values), and the node serves as before. Without it,
 * `--helper-thread-nice` and `--read-thread-nice` give those threads theirs.
 * Where the kernel refuses (an unprivileged user: as root, the test drops to
 * `nobody` with setpriv), serve stops at once with one line that says what to
 * grant, and never serves.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mbdirEntry, startServer, type ServerProcess } from '../helpers/server-process.js';

const isRoot = process.getuid?.() === 0;
const started: ServerProcess[] = [];
afterAll(async () => {
  for (const node of started) await node.stop();
});

/** Each thread of `pid`: its scheduling policy (0 normal, 1 SCHED_FIFO) and nice value, from /proc. */
function threadsOf(pid: number): Array<{ tid: number; policy: number; nice: number }> {
  return readdirSync(`/proc/${pid}/task`).map((tid) => ({
    tid: Number(tid),
    policy: Number(/^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8'))?.[1]),
    nice: Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]),
  }));
}

describe('mbdir serve --main-thread-priority', () => {
  it.runIf(isRoot)('runs the main thread alone under SCHED_FIFO, and serves', async () => {
    const node = await startServer(['--main-thread-priority', 'realtime', '--read-threads', '1']);
    started.push(node);
    const pid = node.process.pid as number;
    const threads = threadsOf(pid);
    expect(threads.find((thread) => thread.tid === pid)?.policy).toBe(1);
    const others = threads.filter((thread) => thread.tid !== pid);
    expect(others.length).toBeGreaterThan(1);
    expect(others.filter((thread) => thread.policy !== 0)).toEqual([]);
    expect(others.some((thread) => thread.nice === 10)).toBe(true); // the read thread, at --read-thread-nice's default
    const client = node.client();
    await client.putServer({ name: 'backend1' });
    await client.createMailbox({ mailbox: { name: 'user.alice', server: 'backend1' } });
    expect((await client.getMailbox({ name: 'user.alice' })).mailbox?.server).toBe('backend1');
  });

  it('gives the helper threads their nice value and the read thread its own, the main thread keeping its priority', async () => {
    const node = await startServer(['--helper-thread-nice', '7', '--read-thread-nice', '3', '--read-threads', '1']);
    started.push(node);
    const pid = node.process.pid as number;
    const threads = threadsOf(pid);
    expect(threads.find((thread) => thread.tid === pid)?.nice).toBe(0);
    // V8's platform workers (4 on Node 20) and Node's own threads exist before serve starts.
    expect(threads.filter((thread) => thread.nice === 7).length).toBeGreaterThanOrEqual(4);
    expect(threads.filter((thread) => thread.nice === 3)).toHaveLength(1); // the one read thread
    const client = node.client();
    await client.putServer({ name: 'backend1' });
    await client.createMailbox({ mailbox: { name: 'user.alice', server: 'backend1' } });
    expect((await client.listMailboxes({ user: 'alice', groups: [], reference: '', pattern: '*' })).mailboxes.map((listed) => listed.mailbox?.name)).toEqual(['user.alice']);
  });

  it('stops with one line naming what to grant when the kernel refuses', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-priority-'));
    chmodSync(dataDir, 0o777);
    try {
      const serve = [process.execPath, mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--main-thread-priority', 'realtime'];
      // As root the kernel would grant it: drop to nobody, who has neither CAP_SYS_NICE nor an RLIMIT_RTPRIO.
      const command = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...serve] : serve;
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(run.code).not.toBe(0);
      expect(run.stdout).not.toMatch(/serving/);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/setting mainThreadPriority is realtime, but the main thread could not get SCHED_FIFO 10 \(chrt refused: .*\); run as root, or grant CAP_SYS_NICE or an RLIMIT_RTPRIO of 10 or more/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
