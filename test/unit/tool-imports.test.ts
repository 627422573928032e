/**
 * The tools' narrow doors: a file under tools/ imports nothing from src/server
 * or src/store except src/server/node-entry.ts (to start and configure a node,
 * for the few files listed in `doors`) and src/store/offline.ts (to open a
 * stopped data directory). Everything else reaches a node through the typed
 * client, which imports neither. Each offence is named by file and import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Modules of src/server and src/store a tool may import, and which tools may (null: any tool). */
const doors: Record<string, readonly string[] | null> = {
  'src/server/node-entry.ts': ['tools/cli/serve.ts', 'tools/cli/config.ts', 'tools/mbdir.ts', 'tools/bench/echo.ts', 'tools/bench/event-loop.ts', 'tools/bench/timer-priority.ts'],
  'src/store/offline.ts': null,
};

function typescriptFiles(folder: string): string[] {
  const found: string[] = [];
  const pending = [join(root, folder)];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const entry of readdirSync(next)) {
      const path = join(next, entry);
      if (statSync(path).isDirectory()) pending.push(path);
      else if (entry.endsWith('.ts')) found.push(path);
    }
  }
  return found.sort();
}

/** Every module specifier a source imports or re-exports: static, type-only, side-effect and dynamic. */
function importedSpecifiers(source: string): string[] {
  const patterns = [
    /(?:^|[\s;])(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g,
    /import\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''));
}

/** The repository path a relative specifier of `file` names, `.js` read as the `.ts` beside it; null for packages. */
function resolvedPath(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return relative(root, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts');
}

/** `file imports 'specifier' (path): why` for each import that crosses a layer it may not. */
function offences(file: string, source: string, mayImport: (importer: string, target: string) => boolean): string[] {
  const importer = relative(root, file);
  return importedSpecifiers(source).flatMap((specifier) => {
    const target = resolvedPath(file, specifier);
    if (target === null || !/^src\/(server|store)\//.test(target) || mayImport(importer, target)) return [];
    return [`${importer} imports '${specifier}' (${target})`];
  });
}

const toolMayImport = (importer: string, target: string): boolean => {
  if (!(target in doors)) return false;
  const allowed = doors[target];
  return allowed === null || allowed === undefined || allowed.includes(importer);
};

describe('tools import src/server and src/store only through their doors', () => {
  it('no tool imports another module of src/server or src/store', () => {
    const found = typescriptFiles('tools').flatMap((file) => offences(file, readFileSync(file, 'utf8'), toolMayImport));
    expect(
      found,
      'tools reach a running node through src/client (the typed client), a stopped data directory through ' +
        'src/store/offline.ts, and start a node through src/server/node-entry.ts',
    ).toEqual([]);
  });

  it('the client imports nothing of src/server or src/store: it speaks only the contract (src/api)', () => {
    const found = typescriptFiles('src/client').flatMap((file) => offences(file, readFileSync(file, 'utf8'), () => false));
    expect(found).toEqual([]);
  });

  it('names an offending file and import, of every form, and lets the doors through', () => {
    const file = join(root, 'tools', 'cli', 'example.ts');
    const source = [
      "import { Store } from '../../src/store/store.js';",
      "import type { NodeConfig } from '../../src/server/node.js';",
      "export { grpcServerOptions } from '../../src/server/grpc/server.js';",
      "import {\n  DataDirLock,\n} from '../../src/store/data-dir-lock.js';",
      "const lazy = await import('../../src/server/mupdate/session.js');",
      "import '../../src/server/metrics/registry.js';",
      "import { Store as Offline } from '../../src/store/offline.js';",
      "import { MbdirNode } from '../../src/server/node-entry.js';",
      "import { limits } from '../../src/model/limits.js';",
      "import * as grpc from '@grpc/grpc-js';",
    ].join('\n');
    expect(offences(file, source, toolMayImport)).toEqual([
      "tools/cli/example.ts imports '../../src/store/store.js' (src/store/store.ts)",
      "tools/cli/example.ts imports '../../src/server/node.js' (src/server/node.ts)",
      "tools/cli/example.ts imports '../../src/server/grpc/server.js' (src/server/grpc/server.ts)",
      "tools/cli/example.ts imports '../../src/store/data-dir-lock.js' (src/store/data-dir-lock.ts)",
      "tools/cli/example.ts imports '../../src/server/node-entry.js' (src/server/node-entry.ts)",
      "tools/cli/example.ts imports '../../src/server/metrics/registry.js' (src/server/metrics/registry.ts)",
      "tools/cli/example.ts imports '../../src/server/mupdate/session.js' (src/server/mupdate/session.ts)",
    ]);
  });
});
