// `mbdir export` as an operator sees it when something is wrong: a data
// directory without a database is refused in one line (exit 1) and nothing is
// created there, while `import` into a fresh directory still makes one; an
// --output that cannot be opened, or a write that fails, ends with one line
// naming the path and the reason and exit 1, never a stack trace.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server-process.js';

const backendDump = fileURLToPath(new URL('../fixtures/cyrus-3.6/ctl_mboxlist-d-backend.json', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-export-refusals-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A data directory holding the backend fixture, made by import into a directory that did not exist. */
async function loadedDataDir(name: string): Promise<string> {
  const dataDir = join(scratch, name);
  const imported = await runCli(['import', backendDump, '--data-dir', dataDir, '--server', 'backend1', '--register-servers']);
  expect(imported.code, imported.stderr).toBe(0);
  return dataDir;
}

describe('export from a data directory without a database', () => {
  it('is refused in one line, exit 1, and creates nothing', async () => {
    const typo = join(scratch, 'typo');
    const result = await runCli(['export', '--data-dir', typo]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`mbdir: no database in ${typo}: expected ${join(typo, 'mbdir.sqlite')}\n`);
    expect(existsSync(typo)).toBe(false);
  });

  it('makes no --output file either', async () => {
    const output = join(scratch, 'never.json');
    const result = await runCli(['export', '--data-dir', join(scratch, 'typo-2'), '--output', output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mbdir: no database in .*typo-2: expected .*typo-2\/mbdir\.sqlite\n$/);
    expect(existsSync(output)).toBe(false);
  });

  it('still lets import make a fresh directory, which export then reads', async () => {
    const dataDir = await loadedDataDir('fresh');
    const exported = await runCli(['export', '--data-dir', dataDir]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toBe('exported 107 mailboxes\n');
  });
});

describe('export to an --output it cannot write', () => {
  it('names the path and the reason in one line, exit 1, when the file cannot be opened', async () => {
    const dataDir = await loadedDataDir('for-output');
    const output = join(scratch, 'no-such-dir', 'x.json');
    const result = await runCli(['export', '--data-dir', dataDir, '--output', output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`mbdir: cannot write --output ${output}: ENOENT: no such file or directory, open '${output}'\n`);
  });

  it.runIf(existsSync('/dev/full'))('names the path and the reason in one line, exit 1, when a write fails', async () => {
    const dataDir = await loadedDataDir('for-full');
    const result = await runCli(['export', '--data-dir', dataDir, '--output', '/dev/full']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('mbdir: cannot write --output /dev/full: ENOSPC: no space left on device, write\n');
  });

  it('writes the whole dump when it can', async () => {
    const dataDir = await loadedDataDir('for-file');
    const output = join(scratch, 'dump.json');
    const result = await runCli(['export', '--data-dir', dataDir, '--output', output]);
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(output, 'utf8');
    expect(text.split('\n').filter((line) => line.includes('"name"'))).toHaveLength(107);
    expect(text.endsWith('}\n')).toBe(true);
  });
});
