/**
 * From a mail address as a mail program sends it (`Alice+news@Example.COM`) to
 * the directory's user id (`alice@example.com`, or `alice` in a local domain).
 * Postfix's socketmap is a pattern table: it sends only the full recipient, so
 * the extension (after the recipient delimiter), case and local domains are
 * handled here, once, for every adapter (socketmap, Dovecot, nginx). Pure: no
 * I/O; inputs bounded by `limits.recipientBytesMax`; never guesses a user.
 */
import { invalidArgument, quote } from './errors.js';
import { limits } from './limits.js';
import { validateUserId } from './names.js';

export interface RecipientRules {
  /** Characters any of which starts an address extension (Postfix's recipient_delimiter); '' keeps extensions. */
  readonly delimiters: string;
  /** Lower-case the local part (the domain is always folded: domains are case-insensitive). */
  readonly foldCase: boolean;
  /** Lower-case domains whose users are un-domained in the directory (`alice@example.org` -> `alice`). */
  readonly localDomains: ReadonlySet<string>;
}

export const defaultRecipientRules: RecipientRules = { delimiters: '+', foldCase: true, localDomains: new Set() };

const domainLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Domains normalised recently: a mail system sees few, and each recipient needs one. */
const domainMemo = new Map<string, string>();
/** Entries of that memo at most; it is emptied when full. */
export const domainMemoEntriesMax = 1000;

/** A domain as the rules compare it: lower case, no trailing dot. Throws InvalidArgument naming a malformed one. */
export function normalizeDomain(domain: string): string {
  const known = domainMemo.get(domain);
  if (known !== undefined) return known;
  const normalized = checkedDomain(domain);
  if (domainMemo.size >= domainMemoEntriesMax) domainMemo.clear();
  domainMemo.set(domain, normalized);
  return normalized;
}

function checkedDomain(domain: string): string {
  const folded = domain.toLowerCase().replace(/\.$/, '');
  if (folded.length === 0 || folded.length > 253 || !folded.split('.').every((label) => domainLabel.test(label))) {
    throw invalidArgument(`domain ${quote(domain)} is not a domain name (letters, digits, "-" and ".")`);
  }
  return folded;
}

/**
 * Rules from operator settings: the delimiter characters, case folding and a
 * comma-separated list of local domains. Throws InvalidArgument naming the bad part.
 */
export function recipientRulesOf(delimiters: string, foldCase: boolean, localDomainsList: string): RecipientRules {
  if (/[@\s"\\.]/.test(delimiters) || /[\x00-\x1f\x7f]/.test(delimiters)) {
    throw invalidArgument(`recipient delimiter ${quote(delimiters)} may not hold "@", ".", a quote, a backslash or white space`);
  }
  const names = localDomainsList.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length > limits.localDomainsMax) {
    throw invalidArgument(`${names.length} local domains, more than the limit of ${limits.localDomainsMax}`);
  }
  return { delimiters, foldCase, localDomains: new Set(names.map(normalizeDomain)) };
}

/**
 * The user id that owns mail to `recipient` under `rules`. Throws InvalidArgument
 * when the address cannot name a user (empty, too long, quoted, a bad domain).
 */
export function recipientUser(recipient: string, rules: RecipientRules): string {
  const bytes = Buffer.byteLength(recipient, 'utf8');
  if (bytes > limits.recipientBytesMax) {
    throw invalidArgument(`recipient is ${bytes} bytes, longer than the limit of ${limits.recipientBytesMax}`);
  }
  // Quoted local parts ("a b"@x) and source routes are not user names a directory holds.
  if (recipient.startsWith('"') || recipient.startsWith('@')) throw invalidArgument(`recipient ${quote(recipient)} is quoted or routed`);
  const at = recipient.lastIndexOf('@');
  const rawLocal = at < 0 ? recipient : recipient.slice(0, at);
  const domain = at < 0 ? null : normalizeDomain(recipient.slice(at + 1));
  const local = withoutExtension(rawLocal, rules.delimiters);
  if (local.length === 0) throw invalidArgument(`recipient ${quote(recipient)} has an empty local part`);
  const folded = rules.foldCase ? local.toLowerCase() : local;
  const user = domain === null || rules.localDomains.has(domain) ? folded : `${folded}@${domain}`;
  validateUserId(user);
  return user;
}

/**
 * The local part before its extension, cut at the first delimiter character as
 * Postfix's split_addr does: never to nothing (`+list` stays whole), and with
 * `-` as a delimiter, `owner-list` and `list-request` stay whole (mailing-list
 * names, a Postfix compatibility rule).
 */
export function withoutExtension(local: string, delimiters: string): string {
  if (delimiters === '') return local;
  if (delimiters.includes('-')) {
    const lower = local.toLowerCase();
    if (lower.startsWith('owner-') || lower.endsWith('-request')) return local;
  }
  let cut = local.length;
  for (const delimiter of delimiters) {
    const index = local.indexOf(delimiter);
    if (index >= 0 && index < cut) cut = index;
  }
  return cut === 0 ? local : local.slice(0, cut);
}
