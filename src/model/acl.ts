/**
 * ACL rights (RFC 4314) and their algebra: parsing, normalising, applying an
 * `+`/`-` edit, and a caller's effective rights (user + groups + `anyone`,
 * minus negative `-identifier` entries, plus the owner's implicit rights).
 * Pure values; rights strings are always kept in canonical letter order.
 */
import { invalidArgument, quote } from './errors.js';
import { limits } from './limits.js';

/** Canonical order: RFC 4314 letters, Cyrus's legacy c/d, then user-defined digits. */
export const rightsOrder = 'lrswipkxtecdan0123456789';
const rightsSet = new Set(rightsOrder);

/** Rights Cyrus grants a user on their own hierarchy whatever the ACL says. */
export const implicitOwnerRights = 'lkxan';

export interface AclEntry {
  readonly identifier: string;
  readonly rights: string;
}

/**
 * Rights strings normalised already, and their canonical form: a mailbox list holds
 * a handful of distinct strings, and a bulk load normalises millions of them. Only
 * valid strings enter; the map is emptied when it reaches its bound.
 */
const normalizedRights = new Map<string, string>();
const normalizedRightsMax = 4096;

/** Normalises a string of rights letters; throws InvalidArgument on unknown letters. */
export function normalizeRights(rights: string): string {
  const known = normalizedRights.get(rights);
  if (known !== undefined) return known;
  const normalized = normalizeRightsUncached(rights);
  if (normalizedRights.size >= normalizedRightsMax) normalizedRights.clear();
  normalizedRights.set(rights, normalized);
  return normalized;
}

function normalizeRightsUncached(rights: string): string {
  if (rights.length > limits.rightsLengthMax) {
    throw invalidArgument(`rights ${quote(rights)} are longer than ${limits.rightsLengthMax} letters`);
  }
  for (const letter of rights) {
    if (!rightsSet.has(letter)) {
      throw invalidArgument(`rights ${quote(rights)} contain ${quote(letter)}, not an RFC 4314 right (${rightsOrder})`);
    }
  }
  return unionRights(rights, '');
}

/** Union of two rights strings, canonical. */
export function unionRights(left: string, right: string): string {
  let out = '';
  for (const letter of rightsOrder) if (left.includes(letter) || right.includes(letter)) out += letter;
  return out;
}

/** `left` without the letters of `right`, canonical. */
export function subtractRights(left: string, right: string): string {
  let out = '';
  for (const letter of rightsOrder) if (left.includes(letter) && !right.includes(letter)) out += letter;
  return out;
}

/** Validates an identifier (`alice`, `-bob`, `anyone`, `group:staff`). */
export function validateIdentifier(identifier: string): void {
  if (identifier.length === 0 || identifier === '-') throw invalidArgument('ACL identifier is empty');
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short identifiers need no count.
  const bytes = identifier.length * 3 <= limits.identifierBytesMax ? 0 : Buffer.byteLength(identifier, 'utf8');
  if (bytes > limits.identifierBytesMax) {
    throw invalidArgument(`ACL identifier is ${bytes} bytes, longer than the limit of ${limits.identifierBytesMax}`);
  }
  if (/[\x00-\x20\x7f]/.test(identifier)) {
    throw invalidArgument(`ACL identifier ${quote(identifier)} contains a space or control character`);
  }
}

/** Validates and canonicalises a whole ACL: identifiers unique, rights normalised, empty entries dropped. */
export function normalizeAcl(entries: readonly AclEntry[]): AclEntry[] {
  if (entries.length > limits.aclEntriesMax) {
    throw invalidArgument(`ACL has ${entries.length} entries, more than the limit of ${limits.aclEntriesMax}`);
  }
  if (entries.length === 1) {
    // Most mailboxes have one entry (their owner's, or "anyone" on a public folder): no merging to do.
    const [only] = entries as [AclEntry];
    validateIdentifier(only.identifier);
    const rights = normalizeRights(only.rights);
    return rights.length > 0 ? [{ identifier: only.identifier, rights }] : [];
  }
  const byIdentifier = new Map<string, string>();
  for (const entry of entries) {
    validateIdentifier(entry.identifier);
    const rights = normalizeRights(entry.rights);
    const before = byIdentifier.get(entry.identifier);
    byIdentifier.set(entry.identifier, before === undefined ? rights : unionRights(before, rights));
  }
  const normalized: AclEntry[] = [];
  for (const [identifier, rights] of byIdentifier) if (rights.length > 0) normalized.push({ identifier, rights });
  return normalized;
}

/**
 * Applies one SETACL edit: `rights` replaces the entry, `+rights` adds to it,
 * `-rights` removes from it; an empty result removes the entry.
 */
export function applyAclEdit(acl: readonly AclEntry[], identifier: string, edit: string): AclEntry[] {
  validateIdentifier(identifier);
  const current = acl.find((entry) => entry.identifier === identifier)?.rights ?? '';
  let next: string;
  if (edit.startsWith('+')) next = unionRights(current, normalizeRights(edit.slice(1)));
  else if (edit.startsWith('-')) next = subtractRights(current, normalizeRights(edit.slice(1)));
  else next = normalizeRights(edit);
  const others = acl.filter((entry) => entry.identifier !== identifier);
  const result = next.length > 0 ? [...others, { identifier, rights: next }] : others;
  if (result.length > limits.aclEntriesMax) {
    throw invalidArgument(`ACL would have ${result.length} entries, more than the limit of ${limits.aclEntriesMax}`);
  }
  return result;
}

/**
 * The ACL with identifier `from` renamed to `to`, its negative entry `-from`
 * too (what Cyrus's user_renameacl does when a user is renamed; an entry `to`
 * already there gives way to the renamed one, as Cyrus's SETACL replaces it).
 * Returns `acl` itself when `from` has no entry.
 */
export function renameAclIdentifier(acl: readonly AclEntry[], from: string, to: string): readonly AclEntry[] {
  const renamed = new Map<string, string>([[from, to], [`-${from}`, `-${to}`]]);
  if (!acl.some((entry) => renamed.has(entry.identifier))) return acl;
  for (const identifier of renamed.values()) validateIdentifier(identifier);
  const replaced = new Set(acl.filter((entry) => renamed.has(entry.identifier)).map((entry) => renamed.get(entry.identifier)));
  const result: AclEntry[] = [];
  for (const entry of acl) {
    const target = renamed.get(entry.identifier);
    if (target !== undefined) result.push({ identifier: target, rights: entry.rights });
    else if (!replaced.has(entry.identifier)) result.push(entry);
  }
  return result;
}

/** The identifiers whose entries apply to a caller: the user, the groups, `anyone`. */
export function callerIdentifiers(user: string, groups: readonly string[]): string[] {
  return [user, ...groups, 'anyone'];
}

/**
 * A caller's effective rights on a mailbox: the union over their identifiers,
 * plus the owner's implicit rights, minus the union of the matching negative entries.
 */
export function effectiveRights(
  acl: readonly AclEntry[],
  identifiers: readonly string[],
  isOwner: boolean,
): string {
  let positive = isOwner ? implicitOwnerRights : '';
  let negative = '';
  for (const entry of acl) {
    if (entry.identifier.startsWith('-')) {
      if (identifiers.includes(entry.identifier.slice(1))) negative = unionRights(negative, entry.rights);
    } else if (identifiers.includes(entry.identifier)) {
      positive = unionRights(positive, entry.rights);
    }
  }
  return subtractRights(positive, negative);
}

/** The identifier a reverse-index row is kept under (`-bob` is indexed as `bob`). */
export function indexedIdentifier(identifier: string): string {
  return identifier.startsWith('-') ? identifier.slice(1) : identifier;
}

/** An ACL in Cyrus's text form, `identifier\trights\t` per entry (MUPDATE, mailboxes.db). */
export function formatAclText(acl: readonly AclEntry[]): string {
  let out = '';
  for (const entry of acl) out += `${entry.identifier}\t${entry.rights}\t`;
  return out;
}

/** Parses Cyrus's `identifier\trights\t...` form; throws InvalidArgument on an odd field count. Not normalised. */
export function parseAclText(text: string): AclEntry[] {
  if (text === '') return [];
  const fields = text.endsWith('\t') ? text.slice(0, -1).split('\t') : text.split('\t');
  if (fields.length % 2 !== 0) {
    throw invalidArgument(`ACL ${quote(text)} is not identifier<TAB>rights<TAB> pairs`);
  }
  if (fields.length / 2 > limits.aclEntriesMax) {
    throw invalidArgument(`ACL has ${fields.length / 2} entries, more than the limit of ${limits.aclEntriesMax}`);
  }
  const entries: AclEntry[] = [];
  for (let index = 0; index < fields.length; index += 2) {
    entries.push({ identifier: fields[index] as string, rights: fields[index + 1] as string });
  }
  return entries;
}
