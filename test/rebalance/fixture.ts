/**
 * Shared set-up for the rebalance tests: a real `mbdir serve`, servers,
 * businesses and users created through the CLI's own RPCs, mover scripts
 * written to a temporary directory, and a runner for `mbdir rebalance` that
 * parses its JSON lines. Every process started here is stopped by `close`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MbdirClient } from '../../src/client/client.js';
import type { ResolveUserResponse__Output } from '../../src/client/messages.js';
import { mbdirEntry, startServer, type ServerProcess } from '../helpers/server-process.js';

export interface MoveLine {
  user: string;
  from: string;
  to: string;
  outcome: string;
  reason: string;
  duration_ms: number;
  resumed: boolean;
}

export interface RebalanceRun {
  code: number | null;
  lines: MoveLine[];
  stderr: string;
}

export class Fixture {
  readonly tmp = mkdtempSync(join(tmpdir(), 'mbdir-rebalance-'));
  private readonly children = new Set<ChildProcess>();

  private constructor(readonly server: ServerProcess, readonly client: MbdirClient) {}

  static async start(): Promise<Fixture> {
    const server = await startServer();
    return new Fixture(server, server.client());
  }

  async servers(specs: Array<{ name: string; state?: 'UP' | 'DRAINING' | 'DOWN' }>): Promise<void> {
    for (const spec of specs) {
      await this.client.putServer({ name: spec.name, imap_address: '127.0.0.1:143', lmtp_address: '127.0.0.1:24', state: spec.state ?? 'UP', weight: 1 });
    }
  }

  async business(id: string, home: string): Promise<void> {
    await this.client.putBusiness({ id, home_server: home });
  }

  /** Creates `user.<id>` and sub-folders on `server`, assigned to `business` ('' for none). */
  async user(id: string, server: string, business: string, folders: string[] = ['Sent', 'Trash']): Promise<void> {
    if (business !== '') await this.client.setUserBusiness({ user: id, business });
    for (const name of [`user.${id}`, ...folders.map((folder) => `user.${id}.${folder}`)]) {
      await this.client.createMailbox({ mailbox: { name, server, acl: [{ identifier: id, rights: 'lrswipkxtecdan' }] } });
    }
  }

  resolve(user: string): Promise<ResolveUserResponse__Output> {
    return this.client.resolveUser({ user });
  }

  /** Writes an executable shell script into the temporary directory and answers its path. */
  script(name: string, body: string): string {
    const path = join(this.tmp, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  /** Starts `mbdir rebalance ARGS` without waiting; the process is stopped by `close` if still running. */
  spawnRebalance(args: string[]): { child: ChildProcess; done: Promise<RebalanceRun> } {
    const child = spawn(process.execPath, [mbdirEntry, '--endpoint', this.server.endpoint, 'rebalance', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MBDIR_ENDPOINT: this.server.endpoint, MBDIR_BIN: mbdirEntry, NODE_BIN: process.execPath },
    });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<RebalanceRun>((resolve) => {
      child.once('close', (code) => {
        this.children.delete(child);
        const lines = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as MoveLine);
        resolve({ code, lines, stderr });
      });
    });
    return { child, done };
  }

  rebalance(args: string[]): Promise<RebalanceRun> {
    return this.spawnRebalance(args).done;
  }

  async close(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    await this.server.stop();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** The outcome of each user in a run, as a plain object for one readable assertion. */
export function outcomes(run: RebalanceRun): Record<string, string> {
  return Object.fromEntries(run.lines.map((line) => [line.user, line.outcome]));
}
