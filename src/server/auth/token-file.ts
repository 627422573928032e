/**
 * The token file: who may call, as which role. It holds names, roles and the
 * SHA-256 of each token, never a token itself; a token is 32 random bytes
 * (base64url), so a fast hash suffices (nothing to brute-force) and a lookup by
 * hash reveals nothing through timing. The file is JSON lines, one principal a
 * line: {"name": "...", "role": "...", "sha256": "..."}. Bounded in size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { invalidArgument, quote, unauthenticated } from '../../model/errors.js';
import { validateLabel } from '../../model/labels.js';
import { parseRole, roleText, type Principal } from './roles.js';

/** A token file larger than this is refused. */
export const tokenFileBytesMax = 4 * 1024 * 1024;
/** Principals in one token file at most. */
export const tokenEntriesMax = 10_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newToken(): string {
  return `mbdir_${randomBytes(32).toString('base64url')}`;
}

export class TokenTable {
  private constructor(private readonly byHash: Map<string, Principal>) {}

  static parse(text: string, origin: string): TokenTable {
    const byHash = new Map<string, Principal>();
    const names = new Set<string>();
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const where = `${origin} line ${index + 1}`;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw invalidArgument(`${where} is not JSON`);
      }
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw invalidArgument(`${where} is not a JSON object`);
      }
      const name = String(entry['name'] ?? '');
      const hash = String(entry['sha256'] ?? '');
      validateLabel(name, `${where}: name`);
      if (!/^[0-9a-f]{64}$/.test(hash)) throw invalidArgument(`${where}: sha256 must be 64 hex digits`);
      if (names.has(name)) throw invalidArgument(`${where}: name ${quote(name)} appears twice`);
      names.add(name);
      byHash.set(hash, { name, role: parseRole(String(entry['role'] ?? '')) });
      if (byHash.size > tokenEntriesMax) throw invalidArgument(`${origin} has more than ${tokenEntriesMax} principals`);
    });
    return new TokenTable(byHash);
  }

  static load(path: string): TokenTable {
    const size = statSync(path).size;
    if (size > tokenFileBytesMax) throw invalidArgument(`token file ${path} is ${size} bytes, over ${tokenFileBytesMax}`);
    return TokenTable.parse(readFileSync(path, 'utf8'), path);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal holding `token`; Unauthenticated when none does. */
  principalOf(token: string): Principal {
    const principal = this.byHash.get(hashToken(token));
    if (principal === undefined) throw unauthenticated('unknown token');
    return principal;
  }
}

/** Adds a principal to the file (created if absent) and returns its new token, shown once. */
export function addToken(path: string, name: string, roleTextValue: string): string {
  const role = parseRole(roleTextValue);
  validateLabel(name, 'name');
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
  TokenTable.parse(existing, path); // refuse to append to a broken file
  if (existing.split('\n').some((line) => line.includes(`"name":${JSON.stringify(name)}`))) {
    throw invalidArgument(`a principal named ${quote(name)} is already in ${path}`);
  }
  const token = newToken();
  const line = JSON.stringify({ name, role: roleText(role), sha256: hashToken(token) });
  const next = `${existing}${existing === '' || existing.endsWith('\n') ? '' : '\n'}${line}\n`;
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, next, { mode: 0o600 });
  renameSync(temporary, path);
  return token;
}
