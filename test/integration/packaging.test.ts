/**
 * The files under examples/ stay true: the systemd units pass
 * `systemd-analyze verify` (with /usr/bin/mbdir pointed at this build), the
 * node's unit is hardened (`systemd-analyze security --offline`, exposure at
 * most 2.0 of 10) and gives a stop at least the node's grace period, and the
 * config example names every `serve` setting and loads through the real
 * config loader. Needs Debian's `systemd` package (.ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeSettings, serveDefaults } from '../../tools/cli/config.js';
import { limits } from '../../src/model/limits.js';
import { mbdirEntry, repoRoot } from '../helpers/server-process.js';

const examples = join(repoRoot, 'examples');
const unitsDir = join(examples, 'systemd');
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-units-'));

function systemdAnalyze(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  // Precondition: systemd-analyze (Debian's systemd package). Installed here when missing and we may.
  if (spawnSync('systemd-analyze', ['--version']).status !== 0 && process.getuid?.() === 0) {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'systemd'], { stdio: 'ignore', timeout: 300_000 });
  }
  expect(spawnSync('systemd-analyze', ['--version']).status, 'systemd-analyze is missing: apt-get install systemd').toBe(0);
  // The units name /usr/bin/mbdir (where `npm install -g` puts it with Debian's node): here, this build.
  const wrapper = join(scratch, 'mbdir');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${mbdirEntry}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  for (const unit of readdirSync(unitsDir)) {
    writeFileSync(join(scratch, unit), readFileSync(join(unitsDir, unit), 'utf8').replaceAll('/usr/bin/mbdir', wrapper));
  }
}, 330_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('systemd units', () => {
  it('pass systemd-analyze verify', () => {
    const units = ['mbdir.service', 'mbdir-rebalance.service', 'mbdir-rebalance.timer'];
    expect(readdirSync(unitsDir).sort()).toEqual([...units].sort());
    const verified = systemdAnalyze(['verify', ...units.map((unit) => join(scratch, unit))]);
    expect(verified.output).toBe('');
    expect(verified.status).toBe(0);
  });

  it('run the node hardened, as its own user, writing only its data directory', () => {
    const unit = readFileSync(join(unitsDir, 'mbdir.service'), 'utf8');
    for (const line of ['User=mbdir', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/mbdir', 'NoNewPrivileges=yes', 'LimitNOFILE=65536']) {
      expect(unit.split('\n')).toContain(line);
    }
    const security = systemdAnalyze(['security', '--offline=true', '--threshold=20', join(scratch, 'mbdir.service')]);
    expect(security.output).toMatch(/Overall exposure level for mbdir\.service: (0\.\d|1\.\d|2\.0) /);
    expect(security.status).toBe(0);
  });

  it('give the node longer to stop than its grace period, and use its data directory', () => {
    const unit = readFileSync(join(unitsDir, 'mbdir.service'), 'utf8');
    const timeoutStopSeconds = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
    expect(timeoutStopSeconds * 1000).toBeGreaterThan(limits.shutdownGraceMs + limits.shutdownFlushMs);
    const config = JSON.parse(readFileSync(join(examples, 'mbdir.json'), 'utf8')) as { dataDir: string };
    expect(unit).toContain(`ReadWritePaths=${config.dataDir}`);
  });
});

describe('the config example', () => {
  it('sets every serve setting and loads through the real config loader', () => {
    const file = join(examples, 'mbdir.json');
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(Object.keys(written).sort()).toEqual(Object.keys(serveDefaults).sort());
    expect(resolveServeSettings({}, {}, file)).toEqual(written);
  });
});
