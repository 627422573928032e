/**
 * IMAP LIST patterns (RFC 3501 6.3.8): `*` matches anything, `%` anything but
 * the hierarchy separator. Matching simulates the pattern as an automaton over
 * the name, O(name x pattern) with no recursion or backtracking, so adversarial
 * patterns such as `*%*%*%...` cost no more than plain ones. Runs of wildcards
 * are collapsed first (`*%` = `*`), and the remaining count is bounded.
 */
import { invalidArgument } from './errors.js';
import { limits } from './limits.js';
import { hierarchySeparator } from './names.js';

export interface CompiledPattern {
  readonly source: string;
  /** Literal characters and the wildcards `*` and `%`, runs collapsed. */
  readonly tokens: string;
  /** Everything before the first wildcard: the prefix every match starts with. */
  readonly literalPrefix: string;
}

/** Joins reference and pattern as Cyrus does (no separator added) and compiles it. */
export function compilePattern(reference: string, pattern: string): CompiledPattern {
  const source = reference + pattern;
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limits.patternBytesMax) {
    throw invalidArgument(`LIST reference + pattern is ${bytes} bytes, longer than the limit of ${limits.patternBytesMax}`);
  }
  if (/[\x00-\x1f\x7f]/.test(source)) throw invalidArgument('LIST pattern contains a control character');
  const tokens = collapseWildcards(source);
  let wildcards = 0;
  for (const character of tokens) if (character === '*' || character === '%') wildcards += 1;
  if (wildcards > limits.patternWildcardsMax) {
    throw invalidArgument(
      `LIST pattern has ${wildcards} wildcards, more than the limit of ${limits.patternWildcardsMax}`,
    );
  }
  const firstWildcard = tokens.search(/[*%]/);
  const literalPrefix = firstWildcard < 0 ? tokens : tokens.slice(0, firstWildcard);
  return { source, tokens, literalPrefix };
}

/** Collapses runs of wildcards: a run containing `*` becomes `*`, a run of `%` becomes `%`. */
function collapseWildcards(source: string): string {
  let out = '';
  let run = '';
  const flush = (): void => {
    if (run.length > 0) out += run.includes('*') ? '*' : '%';
    run = '';
  };
  for (const character of source) {
    if (character === '*' || character === '%') run += character;
    else {
      flush();
      out += character;
    }
  }
  flush();
  return out;
}

/** True when `name` matches the compiled pattern. */
export function matchPattern(compiled: CompiledPattern, name: string): boolean {
  // The patterns clients send most: `*`, `prefix*` and plain names need no automaton.
  const { tokens: source, literalPrefix } = compiled;
  if (literalPrefix.length === source.length) return name === source;
  if (literalPrefix.length === source.length - 1 && source.endsWith('*')) return name.startsWith(literalPrefix);
  return matchByAutomaton(source, name);
}

function matchByAutomaton(source: string, name: string): boolean {
  const tokens = [...source];
  const states = tokens.length + 1;
  let current = new Uint8Array(states);
  let next = new Uint8Array(states);
  current[0] = 1;
  closeOverWildcards(tokens, current);
  for (const character of name) {
    next.fill(0);
    let any = false;
    for (let index = 0; index < tokens.length; index += 1) {
      if (current[index] === 0) continue;
      const token = tokens[index];
      if (token === '*' || (token === '%' && character !== hierarchySeparator)) {
        next[index] = 1;
        any = true;
      } else if (token === character) {
        next[index + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    closeOverWildcards(tokens, next);
    [current, next] = [next, current];
  }
  return current[tokens.length] === 1;
}

/** Wildcards match the empty string: a live state before one makes the next live too. */
function closeOverWildcards(tokens: readonly string[], states: Uint8Array): void {
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index];
    if (states[index] === 1 && (token === '*' || token === '%')) states[index + 1] = 1;
  }
}
