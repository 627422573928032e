/**
 * The documentation stays true: README.md and every docs/*.md page. Every
 * `mbdir` command in a ```sh block names a real subcommand and only flags that
 * subcommand (or the global options) lists in the built command line's --help;
 * every relative link points to a file that exists (and, into a page, to a
 * heading it has); every project file a page names in backticks exists; every
 * serve setting has a row in the Configuration table; the README stays short
 * enough to read, maps every page and says why each dependency is there. The
 * commands themselves run in the tests the pages name beside them (the tour,
 * the cluster block, the nginx, Postfix and Dovecot blocks).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/server-process.js';

/** The README's size bound, in characters (the issue's "at most ~15,000"). */
const readmeCharsMax = 15_000;

/** Global options that take a value (tools/mbdir.ts). */
const globalsWithValue = new Set(['--endpoint', '--token', '--tls-ca', '--client-cert', '--client-key', '--timeout']);
/** Commands whose first argument is a subcommand. */
const groups = new Set(['token', 'bench']);
/** Words that may stand before a command without being it. */
const wrappers = new Set(['/usr/bin/time', 'time', '-v', 'sudo', 'exec']);
/** Words after which a new command starts. */
const separators = new Set([';', '&&', '||', '|', '&', 'do', 'then', '(', ')']);

const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const text = new Map(pages.map((page) => [page, readFileSync(join(repoRoot, page), 'utf8')]));

/** A page's text outside fenced blocks. */
function prose(page: string): string {
  return (text.get(page) ?? '').replace(/```[\s\S]*?```/g, '');
}

/** One logical line per shell line of a page's sh blocks: continuations joined, comments cut. */
function shellLines(page: string): string[] {
  const blocks = [...(text.get(page) ?? '').matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks
    .flatMap((block) => block.replace(/\\\n/g, ' ').split('\n'))
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** The `mbdir ...` commands of a shell line, each as its words after `mbdir`. */
function mbdirCommands(line: string): string[][] {
  const words = line
    .replace(/\b(node dist\/tools\/mbdir\.js|npx mbdir)\b/g, 'mbdir') // the same command, spelled out
    .replace(/\$\(\([^)]*\)\)/g, 'N') // arithmetic $((...))
    .replace(/\$\(/g, ' ( ')
    .replace(/\)/g, ' ) ')
    .split(/\s+/)
    .filter((word) => word !== '' && !/^[0-9]?>/.test(word));
  const commands: string[][] = [];
  let atStart = true;
  let current: string[] | undefined;
  for (const word of words) {
    if (separators.has(word)) {
      atStart = true;
      current = undefined;
    } else if (atStart && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || wrappers.has(word))) {
      continue;
    } else if (atStart) {
      atStart = false;
      if (word === 'mbdir') commands.push((current = []));
    } else {
      current?.push(word);
    }
  }
  return commands;
}

/** The subcommand path of a command (`backup`, `token add`) and the flags it uses. */
function parse(words: string[]): { path: string[]; flags: string[] } {
  const path: string[] = [];
  const flags: string[] = [];
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] ?? '';
    if (word.startsWith('--')) {
      flags.push(word.split('=')[0] ?? word);
      if (globalsWithValue.has(word) && path.length === 0) index += 1;
    } else if (path.length === 0 || (groups.has(path[0] ?? '') && path.length === 1)) {
      path.push(word);
    }
  }
  return { path, flags };
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(page: string): Set<string> {
  return new Set([...prose(page).matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1] ?? '')));
}

describe('the docs (README.md and docs/*.md)', () => {
  it('README.md is short enough to read, and keeps the two set-up commands', () => {
    const readme = text.get('README.md') ?? '';
    expect(readme.length).toBeLessThanOrEqual(readmeCharsMax);
    expect(readme).toContain('```sh\nnpm ci && npm start\n```');
    expect(readme).toContain('```sh\nnpm ci && npm test\n```');
    expect(readme).toContain('`.ci/run` installs');
  });

  it('shows only subcommands and flags the command line has', async () => {
    const commands = pages.flatMap((page) => shellLines(page).flatMap((line) => mbdirCommands(line).map((words) => ({ page, words }))));
    expect(commands.length).toBeGreaterThanOrEqual(50);
    const global = (await runCli(['--help'])).stdout;
    const helps = new Map<string, Awaited<ReturnType<typeof runCli>>>();
    for (const { page, words } of commands) {
      const { path, flags } = parse(words);
      const where = `${page}: mbdir ${words.join(' ')}`;
      expect(path.length, where).toBeGreaterThan(0);
      const key = path.join(' ');
      const help = helps.get(key) ?? (await runCli([...path, '--help']));
      helps.set(key, help);
      expect(help.code, `${where}: --help says ${help.stderr}`).toBe(0);
      expect(help.stdout, where).toContain(`Usage: mbdir ${key} `);
      for (const flag of flags) expect(`${help.stdout}${global}`, `${where}: ${flag}`).toMatch(new RegExp(`${flag}(?![A-Za-z0-9-])`));
    }
  }, 60_000);

  it('links only to files that exist, and to headings they have', () => {
    let links = 0;
    for (const page of pages) {
      for (const match of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        links += 1;
        const [file = '', anchor] = target.split('#');
        const path = file === '' ? page : relative(repoRoot, join(repoRoot, dirname(page), file));
        expect(existsSync(join(repoRoot, path)), `${page} links to ${target}: no such file`).toBe(true);
        if (anchor !== undefined && path.endsWith('.md')) {
          expect(anchors(path).has(anchor), `${page} links to ${target}: no such heading`).toBe(true);
        }
      }
    }
    expect(links).toBeGreaterThanOrEqual(20);
  });

  it('names only project files that exist', () => {
    for (const page of pages) {
      const paths = [...(text.get(page) ?? '').matchAll(/`((?:examples|test|docs|src|tools|proto)\/[A-Za-z0-9_./-]+)`/g)].map((match) => match[1] ?? '');
      for (const path of paths) expect(existsSync(join(repoRoot, path)), `${page} names ${path}`).toBe(true);
    }
  });

  it('docs/operations.md has a Configuration row for every setting serve --help lists', async () => {
    const help = await runCli(['serve', '--help']);
    const flags = [...help.stdout.matchAll(/^\s+(--[a-z-]+)/gm)].map((match) => match[1] ?? '').filter((flag) => !['--help', '--config'].includes(flag));
    expect(flags.length).toBeGreaterThan(20);
    const doc = text.get('docs/operations.md') ?? '';
    const table = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('\n## ', doc.indexOf('## Configuration') + 1));
    for (const flag of flags) expect(table, `docs/operations.md Configuration lacks ${flag}`).toMatch(new RegExp(`^\\| [^\\n]*\`${flag}\``, 'm'));
  });

  it('the README says why each dependency is there', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const readme = text.get('README.md') ?? '';
    const table = readme.slice(readme.indexOf('## Dependencies and why'));
    const rows = table.split('\n').filter((line) => line.startsWith('| ')).map((line) => line.split('|')[1] ?? '');
    const named = new Set(rows.flatMap((cell) => cell.replace('(dev)', '').split(',').map((name) => name.trim())));
    const packages = [...Object.keys(manifest['dependencies'] ?? {}), ...Object.keys(manifest['devDependencies'] ?? {})];
    // Type declarations come with the package they describe.
    for (const name of packages.filter((name) => !name.startsWith('@types/'))) expect(named.has(name), `README dependency table lacks ${name}`).toBe(true);
  });

  it('the README maps every page of docs/', () => {
    const readme = text.get('README.md') ?? '';
    for (const page of pages.filter((name) => name !== 'README.md')) expect(readme, page).toMatch(new RegExp(`\\]\\(${page.replace('.', '\\.')}[#)]`));
  });
});
