// src/api/generated is what `npm run proto:types` makes of the .proto today: the
// generator runs again, with the options of that script, into a temporary
// directory, and every file must be the same (none missing, none extra).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const generated = join(root, 'src', 'api', 'generated');
const output = mkdtempSync(join(tmpdir(), 'mbdir-generated-'));
afterAll(() => rmSync(output, { recursive: true, force: true }));

/** Every .ts file under `directory`, relative to it, sorted. */
function typeFiles(directory: string): string[] {
  return (readdirSync(directory, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((path) => path.endsWith('.ts'))
    .map((path) => relative(directory, join(directory, path)))
    .sort();
}

it('src/api/generated is current with the .proto (npm run proto:types)', () => {
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['proto:types'];
  expect(script).toMatch(/^proto-loader-gen-types .*--outDir=src\/api\/generated /);
  const [command, ...args] = (script as string).split(' ');
  const options = args.map((argument) => (argument === '--outDir=src/api/generated' ? `--outDir=${output}` : argument));
  execFileSync(join(root, 'node_modules', '.bin', command as string), options, { cwd: root, stdio: 'pipe', timeout: 60_000 });
  const files = typeFiles(output);
  expect(files.length).toBeGreaterThan(50);
  expect(typeFiles(generated)).toEqual(files);
  for (const file of files) {
    expect(readFileSync(join(generated, file), 'utf8'), `${file} differs: run npm run proto:types`).toBe(readFileSync(join(output, file), 'utf8'));
  }
});
