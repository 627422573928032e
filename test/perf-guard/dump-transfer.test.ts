/**
 * `mbdir import` and `mbdir export` on real Cyrus 3.6 dumps: import then export
 * gives the dump's entries back (tombstones skipped and counted, uniqueids
 * generated for the master's form), through a data directory and through a
 * running node; a data directory in use by a node is refused. Also a tiny
 * `mbdir bench` run, so the harness keeps working (a few hundred mailboxes).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHeapFlags } from '../../tools/bench/load-heap.js';
import { runCli, startServer } from '../helpers/server-process.js';

const fixtures = fileURLToPath(new URL('../fixtures/cyrus-3.6/', import.meta.url));
const backendDump = join(fixtures, 'ctl_mboxlist-d-backend.json');
const masterDump = join(fixtures, 'ctl_mboxlist-d-mupdate-master.json');
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-transfer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The dump's lines without tombstones, `mtime` zeroed (the directory keeps none). */
function expectedLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !line.includes('"mbtype": "ed"'))
    .map((line) => line.replace(/"mtime": "\d+"/, '"mtime": "0"').replace(/,$/, ''))
    .filter((line) => line !== '');
}

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/,$/, '')).filter((line) => line !== '');
}

describe('mbdir import / export', () => {
  it('round-trips the backend dump through a data directory', async () => {
    const dataDir = join(scratch, 'backend');
    const imported = await runCli(['--json', 'import', backendDump, '--data-dir', dataDir, '--server', 'backend1', '--register-servers']);
    expect(imported.code, imported.stderr).toBe(0);
    const summary = JSON.parse(imported.stdout) as Record<string, number>;
    expect(summary).toMatchObject({ mailboxes: 107, written: 107, tombstones: 2, generatedUniqueids: 0, serversFromFlag: 107 });
    const exported = await runCli(['export', '--data-dir', dataDir]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(lines(exported.stdout)).toEqual(expectedLines(backendDump));
  });

  it('round-trips the mupdate master dump, generating uniqueids', async () => {
    const dataDir = join(scratch, 'master');
    const imported = await runCli(['--json', 'import', masterDump, '--data-dir', dataDir, '--register-servers']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ mailboxes: 111, written: 111, tombstones: 0, generatedUniqueids: 111 });
    const exported = await runCli(['export', '--data-dir', dataDir, '--form', 'master']);
    expect(lines(exported.stdout)).toEqual(expectedLines(masterDump));
    const again = await runCli(['--json', 'import', masterDump, '--data-dir', dataDir, '--register-servers']);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: 0, conflicts: 111 });
  });

  it('refuses a backend dump without --server', async () => {
    const result = await runCli(['import', backendDump, '--data-dir', join(scratch, 'noserver')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--server/);
  });

  it('imports through a running node, refuses its data directory, and exports through it', async () => {
    const server = await startServer();
    try {
      const refused = await runCli(['import', backendDump, '--data-dir', server.dataDir, '--server', 'backend1', '--register-servers']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/in use/);
      const imported = await runCli(['--json', '--endpoint', server.endpoint, 'import', backendDump, '--server', 'backend1', '--register-servers']);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ mailboxes: 107, written: 107, tombstones: 2 });
      const exported = await runCli(['--endpoint', server.endpoint, 'export']);
      expect(lines(exported.stdout)).toEqual(expectedLines(backendDump));
    } finally {
      await server.stop();
    }
  });
});

describe('mbdir bench', () => {
  it('generates a small seeded directory and measures every operation', async () => {
    const dataDir = join(scratch, 'bench');
    const generated = await runCli(['bench', 'generate', '--data-dir', dataDir, '--users', '30', '--folders', '5', '--businesses', '3', '--seed', '7']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stderr).toMatch(/seed 7/);
    const databaseBytes = statSync(join(dataDir, 'mbdir.sqlite')).size;
    const run = await runCli([
      '--json', 'bench', 'run', '--data-dir', dataDir, '--duration', '0.3', '--concurrency', '4',
      '--watch-subscribers', '3', '--stream-window', '20', '--stream-batch', '5', '--lookup-batch', '10', '--synchronous', 'NORMAL',
      '--warmup', '0.1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      machine: { loadGeneratorFlags: string[] };
      mailboxes: number;
      nodeMailboxes: number;
      prewarm: { bytes: number } | null;
      results: Array<Record<string, number | string | null>>;
    };
    expect(report.mailboxes).toBe(20 + 30 * 5);
    expect(report.nodeMailboxes).toBe(20 + 30 * 5);
    // The calls were timed by a process with the load generator's young generation (load-heap.ts).
    expect(report.machine.loadGeneratorFlags).toEqual(expect.arrayContaining([...loadHeapFlags]));
    // The database was read into the OS cache before the node started, and the run says so.
    expect(report.prewarm?.bytes).toBeGreaterThanOrEqual(databaseBytes);
    expect(run.stderr).toMatch(/read \d+ MiB of .* into the OS cache/);
    expect(run.stderr).not.toContain('warning');
    expect(report.results.map((result) => result['operation'])).toEqual([
      'GetMailbox', 'LookupMailboxes x10', 'LookupStream x5', 'ListMailboxes', 'ListMailboxes @1', 'ResolveUser', 'AuthHttp (nginx)', 'CreateMailbox', 'RenameMailbox', 'Watch x3',
    ]);
    for (const result of report.results) {
      expect(result['errors'], `${String(result['operation'])}: ${String(result['firstError'])}`).toBe(0);
      expect(Number(result['operations'])).toBeGreaterThan(0);
      expect(Number(result['serverRssMb'])).toBeGreaterThan(0);
      expect(Number(result['serverCpuUsPerOp'])).toBeGreaterThan(0);
      // The share of the run spent waiting on the disk, where the kernel reports it (PSI).
      const stall = result['ioStallPercent'];
      if (existsSync('/proc/pressure/io')) expect(stall).toEqual(expect.any(Number));
      else expect(stall).toBeNull();
      // Each row says how long the node's event loop (read from its /metrics) and the load generator's made work wait.
      for (const field of ['eventLoopP99Ms', 'eventLoopMaxMs', 'loadEventLoopP99Ms', 'loadEventLoopMaxMs']) {
        expect(result[field], `${String(result['operation'])} ${field}`).toEqual(expect.any(Number));
      }
      expect(Number(result['eventLoopMaxMs'])).toBeGreaterThanOrEqual(Number(result['eventLoopP99Ms']));
    }
    const byOperation = new Map(report.results.map((result) => [result['operation'], result]));
    // The echo answers the same unary calls and the same stream messages, and broadcasts the creates it
    // answers to Watch streams; the HTTP echo answers nginx's auth_http lookups: every figure has its floor beside it.
    for (const operation of ['GetMailbox', 'LookupStream x5', 'ListMailboxes @1', 'AuthHttp (nginx)', 'Watch x3']) {
      expect(byOperation.get(operation)?.['echoOpsPerSecond'], operation).toBeGreaterThan(0);
      const echoP50 = Number(byOperation.get(operation)?.['echoP50Ms']);
      expect(echoP50, operation).toBeGreaterThan(0);
      expect(Number(byOperation.get(operation)?.['echoP99Ms']), operation).toBeGreaterThanOrEqual(echoP50);
    }
    // The echo failed nothing, and its Watch delivered every create to every subscriber.
    for (const result of report.results) expect(result['echoErrors'] ?? 0, String(result['operation'])).toBe(0);
    const watch = byOperation.get('Watch x3');
    expect(Number(watch?.['echoExpected'])).toBeGreaterThan(0);
    expect(watch?.['echoDelivered']).toBe(watch?.['echoExpected']);
    expect(watch?.['ratioToEcho']).toBeNull(); // a Watch rate is the writer's pace, not a throughput
    // A LookupStream message of 5 names gets one answer of 5 results.
    const stream = byOperation.get('LookupStream x5');
    expect(Number(stream?.['namesPerSecond'])).toBeGreaterThan(Number(stream?.['opsPerSecond']) * 4);
  }, 120_000);

  it('warns when its requests would touch only a corner of the directory, or mostly miss it', async () => {
    const dataDir = join(scratch, 'bench-corner');
    const generated = await runCli(['bench', 'generate', '--data-dir', dataDir, '--users', '30', '--folders', '5', '--businesses', '3']);
    expect(generated.code, generated.stderr).toBe(0);
    const run = await runCli([
      'bench', 'run', '--data-dir', dataDir, '--users', '3', '--ops', 'GetMailbox', '--duration', '0.2', '--warmup', '0', '--no-echo', '--no-prewarm',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('warning: the node holds 170 mailboxes, but the requests are drawn from 35 (3 users x 5)');
    expect(run.stderr).not.toContain('into the OS cache');
    const wide = await runCli([
      // Lookups report a missing name as not found (GetMailbox would fail the run instead).
      'bench', 'run', '--data-dir', dataDir, '--users', '300', '--ops', 'LookupMailboxes', '--duration', '0.2', '--warmup', '0', '--no-echo', '--no-prewarm',
    ]);
    expect(wide.code, wide.stderr).toBe(0);
    expect(wide.stderr).toContain('warning: the node holds 170 mailboxes, but the requests are drawn from 1520 (300 users x 5): most names asked will not be found');
  }, 60_000);

  it('refuses a bad number with the option it came from, before starting anything', async () => {
    for (const [option, value] of [['--connections', '0'], ['--duration', 'soon'], ['--concurrency', '2.5'], ['--rounds', '0']] as const) {
      const run = await runCli(['bench', 'run', '--data-dir', join(scratch, 'never-made'), option, value]);
      expect(run.code, option).not.toBe(0);
      expect(run.stderr, option).toContain(`option '${option}`);
      expect(existsSync(join(scratch, 'never-made')), option).toBe(false);
    }
  });

  it("refuses a directory shape out of bounds, in generate and in run, before writing anything", async () => {
    const bad = [['--users', '0'], ['--folders', '100000'], ['--share-rate', '1.5'], ['--seed', '-1'], ['--servers', 'many']] as const;
    for (const [option, value] of bad) {
      for (const command of ['generate', 'run'] as const) {
        const run = await runCli(['bench', command, '--data-dir', join(scratch, 'never-shaped'), option, value]);
        expect(run.code, `${command} ${option}`).not.toBe(0);
        expect(run.stderr, `${command} ${option}`).toContain(`option '${option}`);
        expect(existsSync(join(scratch, 'never-shaped')), `${command} ${option}`).toBe(false);
      }
    }
  });
});
