/**
 * Starts the real `mbdir serve` process (the built dist/ entry point) on a
 * loopback port it picks, in a fresh temporary data directory, and stops it.
 * Integration tests drive it over gRPC exactly as operators would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MbdirClient } from '../../src/client/client.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const mbdirEntry = join(repoRoot, 'dist', 'tools', 'mbdir.js');

export interface ServerProcess {
  process: ChildProcess;
  endpoint: string;
  /** Every `serving PROTOCOL on HOST:PORT` line seen before start resolved, by protocol (gRPC, MUPDATE, ...). */
  served: Map<string, string>;
  dataDir: string;
  client(token?: string): MbdirClient;
  stderr(): string;
  /** Where an adapter serves, from its `serving PROTOCOL on HOST:PORT` line (printed before the gRPC line). */
  servingAddress(protocol: string): string;
  /** What it printed on stdout so far (the `serving ... on` lines). */
  stdout(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a node; `args` are extra `serve` flags. Resolves once it prints where it serves gRPC and
 * every protocol in `options.protocols` (e.g. ['MUPDATE'] with --mupdate-listen).
 */
export async function startServer(
  args: string[] = [],
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; protocols?: string[]; startTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mbdir-test-'));
  const child = spawn(
    process.execPath,
    [mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'warn', '--synchronous', 'NORMAL', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let stdout = '';
  const served = new Map<string, string>();
  const wanted = ['gRPC', ...(options.protocols ?? [])];
  const endpoint = await new Promise<string>((resolve, reject) => {
    const startTimeoutMs = options.startTimeoutMs ?? 15_000;
    const timer = setTimeout(() => reject(new Error(`mbdir serve did not start in ${startTimeoutMs / 1000} s: ${stderr}`)), startTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const match of stdout.matchAll(/serving (\S+) on (\S+)/g)) served.set(match[1] ?? '', match[2] ?? '');
      const grpc = served.get('gRPC');
      if (grpc !== undefined && wanted.every((protocol) => served.has(protocol))) {
        clearTimeout(timer);
        resolve(grpc);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mbdir serve exited with ${String(code)}: ${stderr}`));
    });
  });
  const clients: MbdirClient[] = [];
  return {
    process: child,
    endpoint,
    served,
    dataDir,
    client(token?: string) {
      const client = new MbdirClient({ endpoint, ...(token === undefined ? {} : { token }) });
      clients.push(client);
      return client;
    },
    stderr: () => stderr,
    servingAddress(protocol: string) {
      const match = new RegExp(`serving ${protocol} on (\\S+)`).exec(stdout);
      if (match?.[1] === undefined) throw new Error(`mbdir serve printed no "serving ${protocol} on" line: ${stdout}`);
      return match[1];
    },
    stdout: () => stdout,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      for (const client of clients) client.close();
      // Already exited (also by a signal, when exitCode stays null): nothing to wait for.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      const code = await exited;
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Runs the `mbdir` CLI to completion; resolves with its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mbdirEntry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
