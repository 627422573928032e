/**
 * The V8 flags a serving node runs with (tools/node-flags.ts) are on every
 * command line that starts one: `mbdir`'s #! line (the installed command, the
 * systemd unit) and `npm start`; the bench adds them to the node it starts. A
 * node started without them says so in its log.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingServeNodeFlags, serveNodeFlags } from '../../tools/node-flags.js';
import { mbdirEntry, repoRoot } from '../helpers/server-process.js';

/** Starts `node NODE_FLAGS mbdir.js serve` at log level info; resolves with its output up to the serving line, then stops it. */
async function startupLog(nodeFlags: readonly string[]): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-node-flags-'));
  const child = spawn(process.execPath, [...nodeFlags, mbdirEntry, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no serving line: ${output}`)), 15_000);
      const take = (chunk: Buffer): void => {
        output += chunk.toString();
        if (/serving gRPC on/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
    });
    return output;
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('the V8 flags of a serving node', () => {
  it('are on mbdir\'s #! line and in npm start', () => {
    const shebang = readFileSync(join(repoRoot, 'tools', 'mbdir.ts'), 'utf8').split('\n')[0] ?? '';
    const start = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start'] ?? '';
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    for (const flag of serveNodeFlags) {
      expect(shebang.split(' ')).toContain(flag);
      expect(start.split(' ')).toContain(flag);
    }
  });

  it('names the flags a process lacks', () => {
    expect(missingServeNodeFlags([])).toEqual([...serveNodeFlags]);
    expect(missingServeNodeFlags([...serveNodeFlags, '--trace-gc'])).toEqual([]);
  });

  it('a node started without them says so, and one started with them does not', async () => {
    const without = await startupLog([]);
    expect(without).toMatch(/started without its V8 heap flags/);
    const withFlags = await startupLog(serveNodeFlags);
    expect(withFlags).not.toMatch(/started without its V8 heap flags/);
  }, 40_000);
});
