/**
 * docs/operations.md stays true: every `mbdir` command in its shell blocks
 * names a real subcommand and only flags that subcommand (or the global
 * options) accepts, asked of the built command line's --help; every file of
 * the project it names exists. The commands themselves run in the tests the
 * document names beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/server-process.js';

const doc = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');

/** Global options that take a value (tools/mbdir.ts). */
const globalsWithValue = new Set(['--endpoint', '--token', '--tls-ca', '--client-cert', '--client-key', '--timeout']);

/** The `mbdir ...` command lines of the document's sh blocks, comments cut. */
function commandLines(): string[][] {
  const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  const lines: string[][] = [];
  for (const line of blocks.flatMap((block) => block.split('\n'))) {
    const words = line.replace(/\s#.*$/, '').trim().split(/\s+/);
    // The command, after any VARIABLE=value assignments.
    const at = words.findIndex((word) => !/^[A-Z_]+=/.test(word));
    if (words[at] === 'mbdir') lines.push(words.slice(at + 1));
  }
  return lines;
}

/** The subcommand path of a command line (`backup`, `token add`) and the flags it uses. */
function parse(words: string[]): { path: string[]; flags: string[] } {
  const path: string[] = [];
  const flags: string[] = [];
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] ?? '';
    if (word.startsWith('--')) {
      flags.push(word.split('=')[0] ?? word);
      if (globalsWithValue.has(word) && path.length === 0) index += 1;
    } else if (path.length === 0 || (path[0] === 'token' && path.length === 1)) {
      path.push(word);
    }
  }
  return { path, flags };
}

describe('docs/operations.md', () => {
  it('shows only subcommands and flags the command line has', async () => {
    const lines = commandLines();
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const global = (await runCli(['--help'])).stdout;
    for (const words of lines) {
      const { path, flags } = parse(words);
      const help = await runCli([...path, '--help']);
      expect(help.code, `mbdir ${path.join(' ')} --help: ${help.stderr}`).toBe(0);
      expect(help.stdout).toContain(`Usage: mbdir ${path.join(' ')}`);
      for (const flag of flags) expect(`${help.stdout}${global}`, `mbdir ${words.join(' ')}`).toContain(flag);
    }
  }, 60_000);

  it('names only files that exist', () => {
    const paths = [...doc.matchAll(/`((?:examples|test|docs|src|tools)\/[A-Za-z0-9_./-]+)`/g)].map((match) => match[1] ?? '');
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(existsSync(join(repoRoot, path)), path).toBe(true);
  });
});
