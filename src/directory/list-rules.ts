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
import { domainOf, localPart, ownerOf, sortKey, userRootName, validateUserId } from '../model/names.js';
import type { MailboxRecord } from '../model/records.js';
import type { Store } from '../store/store.js';

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

/** Gathers the caller's candidates: own hierarchy plus reverse-index rows. */
function candidatesOf(store: Store, user: string, identifiers: readonly string[]): Map<string, MailboxRecord> {
  const candidates = new Map<string, MailboxRecord>();
  const add = (records: MailboxRecord[]): void => {
    for (const record of records) candidates.set(record.uniqueid, record);
    if (candidates.size > listCandidatesMax) {
      throw resourceExhausted(`LIST would consider more than ${listCandidatesMax} mailboxes for this caller`);
    }
  };
  add(store.mailboxesOfUser(user, listCandidatesMax + 1));
  for (const identifier of identifiers) add(store.mailboxesByAclIdentifier(identifier, listCandidatesMax + 1, candidates));
  return candidates;
}

/**
 * Names that have an ACTIVE mailbox strictly below them within the caller's
 * own hierarchy. The owner's records are the whole of `user.<id>` and below,
 * so for the caller's own mailboxes this answers "has children" without a
 * query per listed mailbox; other mailboxes still ask the store.
 */
function ownParents(candidates: Iterable<MailboxRecord>, user: string): Set<string> {
  const parents = new Set<string>();
  for (const mailbox of candidates) {
    if (mailbox.state !== 'ACTIVE' || ownerOf(mailbox.name) !== user) continue;
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
export function listMailboxes(store: Store, input: ListInput): ListResult {
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
  for (const mailbox of candidates.values()) {
    if (mailbox.state !== 'ACTIVE' || domainOf(mailbox.name) !== userDomain) continue;
    if (!matchPattern(compiled, localPart(mailbox.name))) continue;
    const own = ownerOf(mailbox.name) === input.user;
    const myRights = effectiveRights(mailbox.acl, identifiers, own);
    if (!myRights.includes('l')) continue;
    const key = sortKey(mailbox.name);
    if (after !== null && Buffer.compare(key, after) <= 0) continue;
    visible.push({ key, listed: { mailbox, myRights, hasChildren: false }, own });
  }
  visible.sort((left, right) => Buffer.compare(left.key, right.key));
  const page = visible.slice(0, pageSize);
  const parents = ownParents(candidates.values(), input.user);
  for (const entry of page) {
    const name = entry.listed.mailbox.name;
    entry.listed.hasChildren = entry.own ? parents.has(name) : store.hasChildren(name);
  }
  const last = page.at(-1);
  const nextPageToken = visible.length > pageSize && last !== undefined ? last.key.toString('base64url') : '';
  return { mailboxes: page.map((entry) => entry.listed), nextPageToken };
}
