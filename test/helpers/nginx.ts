/**
 * The real nginx mail proxy for interop tests: its configuration is the block
 * docs/protocols.md shows between the `nginx-mail-conf` markers, with only
 * addresses, ports and the token replaced (each replacement must apply, so the
 * page and the test cannot drift apart). nginx runs in the foreground with its own
 * prefix, pid and logs in a temporary directory, and is stopped by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docBlockWith } from './doc-blocks.js';

export const nginxBinary = '/usr/sbin/nginx';

export interface NginxMailSettings {
  authHttp: string;
  token: string;
  imapPort: number;
  pop3Port: number;
}

/** The page's block with this test's addresses; throws when a line it replaces is no longer on the page. */
export function nginxConfigFor(settings: NginxMailSettings, directory: string): string {
  const replacements: Array<[string, string]> = [
    ['auth_http         127.0.0.1:8080/auth;', `auth_http         ${settings.authHttp}/auth;`],
    ['X-Mbdir-Token mbdir_TOKEN;', `X-Mbdir-Token ${settings.token};`],
    ['listen    143;', `listen    127.0.0.1:${settings.imapPort};`],
    ['listen    110;', `listen    127.0.0.1:${settings.pop3Port};`],
  ];
  const config = docBlockWith('docs/protocols.md', 'nginx-mail-conf', replacements);
  return `pid ${join(directory, 'nginx.pid')};\nerror_log ${join(directory, 'error.log')} info;\n${config}`;
}

export interface NginxProcess {
  process: ChildProcess;
  directory: string;
  errorLog(): string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = exited();
    if (reason !== null) throw new Error(reason);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts nginx on `settings` and waits until both mail ports accept. */
export async function startNginx(settings: NginxMailSettings): Promise<NginxProcess> {
  const directory = mkdtempSync(join(tmpdir(), 'mbdir-nginx-'));
  const configPath = join(directory, 'nginx.conf');
  writeFileSync(configPath, nginxConfigFor(settings, directory));
  const child = spawn(nginxBinary, ['-p', directory, '-c', configPath, '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const errorLog = (): string => {
    try {
      return readFileSync(join(directory, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(directory, { recursive: true, force: true });
  };
  const exited = (): string | null =>
    child.exitCode !== null || child.signalCode !== null ? `nginx exited (${String(child.exitCode ?? child.signalCode)}): ${stderr} ${errorLog()}` : null;
  try {
    await waitForPort(settings.imapPort, 10_000, exited);
    await waitForPort(settings.pop3Port, 10_000, exited);
  } catch (error) {
    await stop();
    throw error;
  }
  return { process: child, directory, errorLog, stop };
}
