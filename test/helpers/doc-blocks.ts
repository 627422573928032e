/**
 * Configuration blocks the docs show, read from the page itself so a test runs
 * exactly what a reader pastes: a fenced block between `<!-- NAME:begin -->`
 * and `<!-- NAME:end -->` markers, and that block with this test's addresses
 * put in. Each replacement must apply, so the page and the test cannot drift
 * apart: a line the test relies on that the page no longer has is an error
 * naming it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './server-process.js';

/** The fenced block between a page's NAME markers, as written there. */
export function docBlock(page: string, name: string): string {
  const text = readFileSync(join(repoRoot, page), 'utf8');
  const match = new RegExp(`<!-- ${name}:begin -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`).exec(text);
  if (match?.[1] === undefined) throw new Error(`${page} has no ${name} block`);
  return match[1];
}

/** The block with each `from` replaced by its `to` (all occurrences); throws when the page lacks one. */
export function docBlockWith(page: string, name: string, replacements: Array<[string, string]>): string {
  let block = docBlock(page, name);
  for (const [from, to] of replacements) {
    if (!block.includes(from)) throw new Error(`${page}'s ${name} block no longer has ${JSON.stringify(from)}`);
    block = block.split(from).join(to);
  }
  return block;
}
