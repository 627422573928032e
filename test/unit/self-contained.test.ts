/**
 * A clone of the project must pass its own tests with nothing beside it: no
 * test, tool or source file may read from the directory above the clone (where
 * the team's shared notes happen to live on a developer's machine).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(folder: string): string[] {
  const found: string[] = [];
  const pending = [join(root, folder)];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const entry of readdirSync(next)) {
      const path = join(next, entry);
      if (statSync(path).isDirectory()) pending.push(path);
      else if (/\.(ts|js|sh)$/.test(entry)) found.push(path);
    }
  }
  return found;
}

describe('the project is self-contained', () => {
  it('reads no file outside the clone (fixtures live in test/fixtures)', () => {
    const outside = /\.\.\/\.\.\/\.\.\/shared|\.\.\/shared\//;
    const offenders = ['src', 'tools', 'test', '.ci']
      .flatMap(sourceFiles)
      .filter((path) => !path.endsWith('self-contained.test.ts'))
      .filter((path) => outside.test(readFileSync(path, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
