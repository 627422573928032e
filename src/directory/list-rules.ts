/**
 * LIST for one user: which mailboxes they may see (effective rights include
 * `l`) that match an IMAP pattern, in sort-key order, paged.
 *
 * Its cost is what DESIGN.md allows and no more: the user's own hierarchy plus
 * the reverse-ACL-index rows of the user, their groups and `anyone`, then the
 * results. It never scans the mailbox table. Patterns match the name without
 * its `domain!` part, and a user sees only mailboxes of their own domain.
 */
import { callerIdentifiers, effectiveRights, validateIdentifier } from '../model/acl.js';
import { invalidArgument, resourceExhausted } from '../model/errors.js';
import { limits } from '../model/limits.js';
import { compilePattern, matchPattern } from '../model/pattern.js';
import { domainOfValidName, localPart, userRootName, validateUserId } from '../model/names.js';
import type { MailboxRecord } from '../model/records.js';
import type { StoreQueries } from '../store/queries.js';
import type { ListCandidate } from '../store/store.js';

/** Candidate records LIST may consider for one caller before it refuses. */
export const listCandidatesMax = 200_000;

export interface ListInput {
  user: string;
  groups: string[];
  reference: string;
  pattern: string;
  pageSize: number;
  pageToken: string;
}

export interface ListedMailbox {
  mailbox: MailboxRecord;
  myRights: string;
  hasChildren: boolean;
}

export interface ListResult {
  mailboxes: ListedMailbox[];
  nextPageToken: string;
}

function decodePageToken(token: string): Buffer | null {
  if (token === '') return null;
  if (token.length > limits.pageTokenBytesMax || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw invalidArgument('page_token is not one this server issued');
  }
  return Buffer.from(token, 'base64url');
}

function pageSizeOf(requested: number): number {
  if (requested === 0) return limits.pageSizeDefault;
  if (requested > limits.pageSizeMax) {
    throw invalidArgument(`page_size ${requested} is larger than the limit of ${limits.pageSizeMax}`);
  }
  return requested;
}

/** The caller's candidates: own hierarchy plus reverse-index rows, each mailbox once. */
function candidatesOf(store: StoreQueries, user: string, identifiers: readonly string[]): ListCandidate[] {
  const tooMany = (): Error => resourceExhausted(`LIST would consider more than ${listCandidatesMax} mailboxes for this caller`);
  const rows = store.listCandidates(user, identifiers, listCandidatesMax, tooMany);
  // A mailbox shared with several of the caller's identifiers comes once per identifier: keep the first.
  const seen = new Set<string>();
  const unique: ListCandidate[] = [];
  for (const row of rows) {
    if (seen.has(row.mailbox.uniqueid)) continue;
    seen.add(row.mailbox.uniqueid);
    unique.push(row);
  }
  return unique;
}

/**
 * Names that have an ACTIVE mailbox strictly below them within the caller's
 * own hierarchy. The owner's records are the whole of `user.<id>` and below,
 * so for the caller's own mailboxes this answers "has children" without a
 * query per listed mailbox; other mailboxes still ask the store.
 */
function ownParents(candidates: readonly ListCandidate[]): Set<string> {
  const parents = new Set<string>();
  for (const { mailbox, own } of candidates) {
    if (mailbox.state !== 'ACTIVE' || !own) continue;
    let name = mailbox.name;
    for (let dot = name.lastIndexOf('.'); dot > 0; dot = name.lastIndexOf('.')) {
      name = name.slice(0, dot);
      if (parents.has(name)) break;
      parents.add(name);
    }
  }
  return parents;
}

/** The LIST rule; a pure read. */
export function listMailboxes(store: StoreQueries, input: ListInput): ListResult {
  validateUserId(input.user);
  userRootName(input.user);
  if (input.groups.length > limits.listGroupsMax) {
    throw invalidArgument(`${input.groups.length} groups given, more than the limit of ${limits.listGroupsMax}`);
  }
  for (const group of input.groups) validateIdentifier(group);
  const compiled = compilePattern(input.reference, input.pattern);
  const pageSize = pageSizeOf(input.pageSize);
  const after = decodePageToken(input.pageToken);
  const identifiers = callerIdentifiers(input.user, input.groups);
  const userDomain = input.user.includes('@') ? input.user.slice(input.user.indexOf('@') + 1) : '';

  const visible: Array<{ key: Buffer; listed: ListedMailbox; own: boolean }> = [];
  const candidates = candidatesOf(store, input.user, identifiers);
  for (const { mailbox, key, own } of candidates) {
    // Stored names are valid: their domain and local part are plain string slices.
    if (mailbox.state !== 'ACTIVE' || domainOfValidName(mailbox.name) !== userDomain) continue;
    if (!matchPattern(compiled, localPart(mailbox.name))) continue;
    const myRights = effectiveRights(mailbox.acl, identifiers, own);
    if (!myRights.includes('l')) continue;
    if (after !== null && Buffer.compare(key, after) <= 0) continue;
    visible.push({ key, listed: { mailbox, myRights, hasChildren: false }, own });
  }
  visible.sort((left, right) => Buffer.compare(left.key, right.key));
  const page = visible.slice(0, pageSize);
  const parents = ownParents(candidates);
  for (const entry of page) {
    const name = entry.listed.mailbox.name;
    entry.listed.hasChildren = entry.own ? parents.has(name) : store.hasChildrenOfKey(entry.key);
  }
  const last = page.at(-1);
  const nextPageToken = visible.length > pageSize && last !== undefined ? last.key.toString('base64url') : '';
  return { mailboxes: page.map((entry) => entry.listed), nextPageToken };
}
