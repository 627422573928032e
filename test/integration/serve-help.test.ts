// `mbdir serve --help` as an operator reads it: wrapped to the help width,
// each setting's default and environment variable shown the way commander
// shows them for every other command, `--synchronous OFF` documented with its
// risk (and warned about at start-up); settings from a config file are not
// masked by the defaults the help shows; a port above 65535 is refused in
// one line naming the setting.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mbdirEntry, runCli, startServer } from '../helpers/server-process.js';

/** The help width mbdir uses when stdout is not a terminal (tools/mbdir.ts). */
const helpColumns = 100;

const directory = mkdtempSync(join(tmpdir(), 'mbdir-serve-help-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Help items (an option and its wrapped description lines) by their flag, e.g. `--engine`. */
function helpItems(help: string): Map<string, string> {
  const items = new Map<string, string>();
  let current = '';
  for (const line of help.split('\n')) {
    const flag = /^ {2}(?:-\w, )?(--[\w-]+)/.exec(line)?.[1];
    if (flag !== undefined) {
      current = flag;
      items.set(flag, line.trim());
    } else if (current !== '' && /^ {3,}\S/.test(line)) {
      items.set(current, `${items.get(current) ?? ''} ${line.trim()}`);
    } else current = '';
  }
  return items;
}

/** Runs `mbdir serve` and kills it if it has not exited after `timeoutMs` (a node that started by mistake). */
function runServe(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stderr: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mbdirEntry, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, killed });
    });
  });
}

describe('serve --help', () => {
  it('wraps every line to the help width and shows defaults and variables as the other commands do', async () => {
    const [serve, top] = await Promise.all([runCli(['serve', '--help']), runCli(['--help'])]);
    expect(serve.code).toBe(0);
    for (const line of serve.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(helpColumns);
    const items = helpItems(serve.stdout);
    expect(items.get('--engine')).toMatch(/\(default: "standalone", env: MBDIR_ENGINE\)$/);
    expect(items.get('--cache-mib')).toMatch(/\(default: "32", env: MBDIR_CACHE_MIB\)$/);
    expect(items.get('--read-threads')).toMatch(/0 \(off: on the main thread\) to 64 .*\(default: "auto", env: MBDIR_READ_THREADS\)$/);
    expect(items.get('--read-thread-nice')).toMatch(/0 .* to 19.*\(default: "10", env: MBDIR_READ_THREAD_NICE\)$/);
    expect(items.get('--node-id')).toMatch(/\(default: host name, env: MBDIR_NODE_ID\)$/);
    expect(items.get('--tokens')).toMatch(/\(env: MBDIR_TOKENS\)$/);
    // Every setting, also one added later, names its variable the same way.
    const settings = [...items.keys()].filter((flag) => flag !== '--help' && flag !== '--config');
    expect(settings.length).toBeGreaterThan(15);
    for (const flag of settings) expect(items.get(flag), flag).toMatch(/env: MBDIR_[A-Z_]+\)$/);
    expect(serve.stdout).not.toMatch(/\[env |default ""/);
    // The global options read alike.
    expect(helpItems(top.stdout).get('--endpoint')).toMatch(/\(default: "127\.0\.0\.1:7878", env: MBDIR_ENDPOINT\)$/);
  });

  it('says what --synchronous OFF means and what it risks', async () => {
    const synchronous = helpItems((await runCli(['serve', '--help'])).stdout).get('--synchronous') ?? '';
    expect(synchronous).toMatch(/OFF never flushes to disk/);
    expect(synchronous).toMatch(/power cut may lose answered writes or corrupt the database/);
  });
});

describe('serve with --synchronous OFF', () => {
  it('starts, and warns at start-up that a crash of the machine may lose or corrupt data', async () => {
    const node = await startServer(['--synchronous', 'OFF']);
    try {
      expect(await node.client().status()).toMatchObject({ engine: 'standalone' });
      const warning = node.stderr().split('\n').find((line) => /synchronous OFF/.test(line));
      expect(warning).toMatch(/"level":40/);
      expect(warning).toMatch(/may lose answered writes or corrupt the database/);
    } finally {
      await node.stop();
    }
  });
});

describe('serve settings from a config file', () => {
  it('are not masked by the defaults the help shows', async () => {
    const config = join(directory, 'bad-cache.json');
    writeFileSync(config, JSON.stringify({ cacheMib: 0 }));
    const result = await runServe(['--config', config, '--listen', '127.0.0.1:0', '--data-dir', join(directory, 'data')]);
    expect(result.killed, 'serve started with the default instead of the file\'s value').toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mbdir: setting cacheMib is "0"; expected MiB from 1 to \d+\n$/);
  });
});

describe('serve with a port above 65535', () => {
  it('refuses it in one line naming the setting, exit 1, for each HOST:PORT setting', async () => {
    const cases = [
      [['--listen', '127.0.0.1:99999'], 'listen is "127.0.0.1:99999"; expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:7878'],
      [['--http-listen', '127.0.0.1:70000'], 'httpListen is "127.0.0.1:70000"; expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:8080'],
      [['--mupdate-listen', '127.0.0.1:65536'], 'mupdateListen is "127.0.0.1:65536"; expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:3905'],
    ] as const;
    const results = await Promise.all(cases.map(([args], index) => runServe(['--data-dir', join(directory, `ports-${index}`), ...args])));
    for (const [index, result] of results.entries()) {
      expect(result.killed, cases[index]?.[1]).toBe(false);
      expect(result.code, cases[index]?.[1]).toBe(1);
      expect(result.stderr).toBe(`mbdir: setting ${cases[index]?.[1] ?? ''}\n`);
    }
  });
});
