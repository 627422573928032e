/**
 * Cyrus internal mailbox names and their sort key.
 *
 * A name is `[domain!]seg.seg...` (`example.com!user.bob.Sent`). Its sort key is
 * Cyrus's dbname: `domain` + 0x1D, then segments joined by 0x1F; every ordered
 * output is in sort-key byte order because `ctl_mboxlist -m` walks lists side by
 * side in that order. Pure functions: no I/O. Bounds come from `limits`.
 */
import { invalidArgument, quote } from './errors.js';
import { limits } from './limits.js';

export const hierarchySeparator = '.';
const domainSeparator = '!';
const dbDomainSeparatorByte = 0x1d;
const dbHierarchySeparatorByte = 0x1f;

export interface ParsedName {
  readonly domain: string | null;
  readonly segments: readonly string[];
}

const controlCharacter = /[\x00-\x1f\x7f-\x9f]/;
/** How a user's hierarchy starts: its first segment. */
const userPrefix = `user${hierarchySeparator}`;
const loneSurrogate = /\p{Cs}/u;
/** Printable ASCII only: one byte a character, no control character, no surrogate (most names; checked faster). */
const printableAscii = /^[\x20-\x7e]*$/;

/**
 * Validates an internal name, throwing InvalidArgument naming the problem;
 * returns the index of its "!" (-1 without a domain). Allocates nothing for a
 * valid printable-ASCII name: a bulk load checks millions of them.
 */
function checkName(name: string, what: string): number {
  if (name.length === 0) throw invalidArgument(`${what} is empty`);
  const ascii = printableAscii.test(name);
  const bytes = ascii ? name.length : Buffer.byteLength(name, 'utf8');
  if (bytes > limits.nameBytesMax) {
    throw invalidArgument(`${what} is ${bytes} bytes, longer than the limit of ${limits.nameBytesMax}`);
  }
  if (!ascii && controlCharacter.test(name)) throw invalidArgument(`${what} ${quote(name)} contains a control character`);
  // A lone surrogate encodes as U+FFFD: two such names would share one sort key.
  if (!ascii && loneSurrogate.test(name)) throw invalidArgument(`${what} ${quote(name)} is not valid Unicode (lone surrogate)`);
  const bang = name.indexOf(domainSeparator);
  if (bang >= 0) {
    if (bang === 0) throw invalidArgument(`${what} ${quote(name)} has an empty domain before "!"`);
    if (name.includes(domainSeparator, bang + 1)) throw invalidArgument(`${what} ${quote(name)} has more than one "!"`);
    if (bang === name.length - 1) throw invalidArgument(`${what} ${quote(name)} has nothing after "!"`);
  }
  const localStart = bang + 1;
  if (
    name.startsWith(hierarchySeparator, localStart) ||
    name.endsWith(hierarchySeparator) ||
    name.includes(`${hierarchySeparator}${hierarchySeparator}`, localStart)
  ) {
    throw invalidArgument(`${what} ${quote(name)} has an empty hierarchy segment`);
  }
  return bang;
}

/** Parses and validates an internal name; throws InvalidArgument naming the problem. */
export function parseName(name: string, what = 'mailbox name'): ParsedName {
  const bang = checkName(name, what);
  return { domain: bang < 0 ? null : name.slice(0, bang), segments: name.slice(bang + 1).split(hierarchySeparator) };
}

/** Throws InvalidArgument unless `name` is a valid internal name. */
export function validateName(name: string, what = 'mailbox name'): void {
  checkName(name, what);
}

/** The Cyrus dbname of a valid name: the key every ordered output sorts by. */
export function sortKey(name: string): Buffer {
  const { domain, segments } = parseName(name);
  const parts: Buffer[] = [];
  if (domain !== null) parts.push(Buffer.from(domain, 'utf8'), Buffer.of(dbDomainSeparatorByte));
  segments.forEach((segment, index) => {
    if (index > 0) parts.push(Buffer.of(dbHierarchySeparatorByte));
    parts.push(Buffer.from(segment, 'utf8'));
  });
  return Buffer.concat(parts);
}

/** What the store keeps beside a name, from one parse: its sort key, owner and whether it is a user root. */
export interface NameColumns {
  readonly sortkey: Buffer;
  readonly owner: string | null;
  readonly isRoot: boolean;
}

/** `NameColumns` with the sort key as text: Cyrus's dbname, whose UTF-8 encoding is the key's bytes. */
export interface NameTextColumns {
  readonly dbName: string;
  readonly owner: string | null;
  readonly isRoot: boolean;
}

/**
 * `sortKey` (as text), `ownerOf` and `isUserRoot` of a name from a single parse,
 * which also validates it (throws InvalidArgument). A bulk load computes them
 * for millions of names. A segment holds neither `.` nor a control character,
 * so the key is the name with `!` and `.` mapped to the dbname separators.
 */
export function nameTextColumns(name: string): NameTextColumns {
  const bang = checkName(name, 'mailbox name');
  const local = bang < 0 ? name : name.slice(bang + 1);
  const dbLocal = local.replaceAll(hierarchySeparator, String.fromCharCode(dbHierarchySeparatorByte));
  const dbName = bang < 0 ? dbLocal : `${name.slice(0, bang)}${String.fromCharCode(dbDomainSeparatorByte)}${dbLocal}`;
  // No segment is empty, so "user." starts a name of two segments or more whose first is "user".
  const isUser = local.startsWith(userPrefix);
  if (!isUser) return { dbName, owner: null, isRoot: false };
  const userEnd = local.indexOf(hierarchySeparator, userPrefix.length);
  const userLocal = local.slice(userPrefix.length, userEnd < 0 ? local.length : userEnd).replace(/\^/g, '.');
  return { dbName, owner: bang < 0 ? userLocal : `${userLocal}@${name.slice(0, bang)}`, isRoot: userEnd < 0 };
}

/** `nameTextColumns` with the sort key as the bytes the store keeps. */
export function nameColumns(name: string): NameColumns {
  const columns = nameTextColumns(name);
  return { sortkey: Buffer.from(columns.dbName, 'utf8'), owner: columns.owner, isRoot: columns.isRoot };
}

/** Sort keys strictly inside the subtree of `key`: [low, high). */
export function childKeyRange(key: Buffer): { low: Buffer; high: Buffer } {
  return {
    low: Buffer.concat([key, Buffer.of(dbHierarchySeparatorByte)]),
    high: Buffer.concat([key, Buffer.of(dbHierarchySeparatorByte + 1)]),
  };
}

/** Compares two names in sort-key order (Cyrus's order). */
export function compareNames(left: string, right: string): number {
  return Buffer.compare(sortKey(left), sortKey(right));
}

/** True when `name` is `root` or lies in its subtree. */
export function isInSubtree(name: string, root: string): boolean {
  if (name === root) return true;
  if (!name.startsWith(root + hierarchySeparator)) return false;
  // A root without a domain does not reach into a domain: `example` vs `example.com!user.x`.
  return root.includes(domainSeparator) || !name.includes(domainSeparator);
}

/** The name `name` takes when its ancestor `oldRoot` is renamed to `newRoot`. */
export function renamedName(name: string, oldRoot: string, newRoot: string): string {
  if (!isInSubtree(name, oldRoot)) throw new Error(`renamedName: ${name} is not under ${oldRoot}`);
  return newRoot + name.slice(oldRoot.length);
}

/** The parent name, or null for a top-level name. */
export function parentName(name: string): string | null {
  const { domain, segments } = parseName(name);
  if (segments.length < 2) return null;
  const local = segments.slice(0, -1).join(hierarchySeparator);
  return domain === null ? local : `${domain}${domainSeparator}${local}`;
}

/** The domain part of a name, or "" when it has none. */
export function domainOf(name: string): string {
  return parseName(name).domain ?? '';
}

/** `domainOf` for a name already validated (read from the store): a slice, no re-parse. */
export function domainOfValidName(name: string): string {
  const bang = name.indexOf(domainSeparator);
  return bang < 0 ? '' : name.slice(0, bang);
}

/** The name without its `domain!` part. */
export function localPart(name: string): string {
  const bang = name.indexOf(domainSeparator);
  return bang < 0 ? name : name.slice(bang + 1);
}

/** Validates a user id (`alice`, `alice@example.com`); throws InvalidArgument. */
export function validateUserId(user: string): void {
  if (user.length === 0) throw invalidArgument('user id is empty');
  const bytes = Buffer.byteLength(user, 'utf8');
  if (bytes > limits.userIdBytesMax) {
    throw invalidArgument(`user id is ${bytes} bytes, longer than the limit of ${limits.userIdBytesMax}`);
  }
  if (controlCharacter.test(user) || /\s/.test(user)) {
    throw invalidArgument(`user id ${quote(user)} contains a control or space character`);
  }
  if (user.includes(domainSeparator)) throw invalidArgument(`user id ${quote(user)} contains "!"`);
  // `^` stands for `.` in mailbox names: `a^b` would own the hierarchy of `a.b`.
  if (user.includes('^')) throw invalidArgument(`user id ${quote(user)} contains "^"`);
  const at = user.indexOf('@');
  if (at === 0 || at === user.length - 1 || (at >= 0 && user.indexOf('@', at + 1) >= 0)) {
    throw invalidArgument(`user id ${quote(user)} must be "local" or "local@domain"`);
  }
}

/** The root of a user's hierarchy: `alice` -> `user.alice`, `a.b@x.org` -> `x.org!user.a^b`. */
export function userRootName(user: string): string {
  validateUserId(user);
  const at = user.indexOf('@');
  const local = (at < 0 ? user : user.slice(0, at)).replace(/\./g, '^');
  const root = `user${hierarchySeparator}${local}`;
  const name = at < 0 ? root : `${user.slice(at + 1)}${domainSeparator}${root}`;
  validateName(name, `mailbox name of user ${quote(user)}`);
  return name;
}

/** The user id owning `name` (`user.<id>` and below), or null for shared names. */
export function ownerOf(name: string): string | null {
  const { domain, segments } = parseName(name);
  if (segments.length < 2 || segments[0] !== 'user') return null;
  const local = (segments[1] ?? '').replace(/\^/g, '.');
  return domain === null ? local : `${local}@${domain}`;
}

/** True when `name` is exactly a user's root `user.<id>`. */
export function isUserRoot(name: string): boolean {
  const { segments } = parseName(name);
  return segments.length === 2 && segments[0] === 'user';
}

/**
 * The hierarchy a name belongs to: the user's `user.<id>` root, or the first two
 * segments otherwise (with the domain). The replication unit of the etcd engine.
 */
export function hierarchyOf(name: string): string {
  const { domain, segments } = parseName(name);
  const local = segments.slice(0, 2).join(hierarchySeparator);
  return domain === null ? local : `${domain}${domainSeparator}${local}`;
}
