/**
 * The `ctl_mboxlist -d` JSON of Cyrus 3.x, one line at a time, so a dump of
 * millions of mailboxes streams through in constant memory. The file is one
 * JSON object with one `"name": {...},` member per line (numbers as strings);
 * a backend dump carries uniqueids and tombstones (mbtype containing `d`), a
 * mupdate master's dump carries `server` and no uniqueid. Pure: no I/O.
 */
import type { AclEntry } from './acl.js';
import { invalidArgument, quote } from './errors.js';
import type { MailboxRecord } from './records.js';

/** One line of a dump, at most this many bytes. */
export const dumpLineBytesMax = 1024 * 1024;

export type DumpLine =
  | { kind: 'mailbox'; mailbox: MailboxRecord; mtime: string; hasUniqueid: boolean; hasServer: boolean }
  | { kind: 'tombstone'; name: string }
  | { kind: 'structure' };

function text(value: unknown, field: string, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw invalidArgument(`dump entry ${quote(name)}: ${field} must be a string`);
  }
  return String(value);
}

function count(value: unknown, field: string, name: string): number {
  const raw = text(value, field, name);
  if (raw === '') return 0;
  const parsed = Number(raw);
  if (!Number.isSafeInteger(parsed) || parsed < 0) {
    throw invalidArgument(`dump entry ${quote(name)}: ${field} ${quote(raw)} is not a non-negative integer`);
  }
  return parsed;
}

/** Parses one line; throws InvalidArgument naming the entry and the problem. */
export function parseDumpLine(line: string): DumpLine {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed === '{' || trimmed === '}') return { kind: 'structure' };
  if (trimmed.length > dumpLineBytesMax) throw invalidArgument(`dump line longer than ${dumpLineBytesMax} bytes`);
  const member = trimmed.endsWith(',') ? trimmed.slice(0, -1) : trimmed;
  return parseCyrusMember(member) ?? parseMemberEntry(member);
}

/**
 * `parseDumpLine` through JSON.parse alone: the reference that the faster
 * readers of Cyrus's own formatting must agree with (the tests compare them).
 */
export function parseDumpLineGeneral(line: string): DumpLine {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed === '{' || trimmed === '}') return { kind: 'structure' };
  if (trimmed.length > dumpLineBytesMax) throw invalidArgument(`dump line longer than ${dumpLineBytesMax} bytes`);
  return parseMemberEntry(trimmed.endsWith(',') ? trimmed.slice(0, -1) : trimmed, parseMember);
}

function parseMemberEntry(member: string, read: (member: string) => Member = (text) => parseMemberFast(text) ?? parseMember(text)): DumpLine {
  const { key, entry } = read(member);
  if (key === undefined || entry === undefined || typeof entry !== 'object' || entry === null) {
    throw invalidArgument('dump line holds no mailbox entry');
  }
  const name = text(entry['name'], 'name', key) || key;
  const mbtype = text(entry['mbtype'], 'mbtype', name) || 'e';
  if (mbtype.includes('d')) return { kind: 'tombstone', name };
  const uniqueid = text(entry['uniqueid'], 'uniqueid', name);
  const server = text(entry['server'], 'server', name);
  const partition = text(entry['partition'], 'partition', name);
  const acl = aclOf(entry['acl'], name);
  const mailbox = mailboxOf(name, uniqueid, server, partition, acl, mbtype, [
    count(entry['uidvalidity'], 'uidvalidity', name),
    count(entry['createdmodseq'], 'createdmodseq', name),
    count(entry['foldermodseq'], 'foldermodseq', name),
  ]);
  mailbox.nameHistory = historyOf(entry['name_history']);
  return { kind: 'mailbox', mailbox, mtime: text(entry['mtime'], 'mtime', name), hasUniqueid: uniqueid !== '', hasServer: server !== '' };
}

/** Cyrus's mbtype letter of a reservation (MBTYPE_RESERVE): a name held while its create is under way. */
const reserveLetter = 'z';

/**
 * A dump entry's record; `counters` are uidvalidity, createdmodseq, foldermodseq.
 * An mbtype with Cyrus's reserve letter is a RESERVED record, without that letter.
 */
function mailboxOf(
  name: string,
  uniqueid: string,
  server: string,
  partition: string,
  acl: AclEntry[],
  mbtype: string,
  counters: readonly [number, number, number],
): MailboxRecord {
  const reserved = mbtype.includes(reserveLetter);
  return {
    uniqueid,
    name,
    server,
    partition,
    replicas: [],
    acl,
    mbtype: reserved ? mbtype.replaceAll(reserveLetter, '') || 'e' : mbtype,
    state: reserved ? 'RESERVED' : 'ACTIVE',
    uidvalidity: counters[0],
    createdmodseq: counters[1],
    foldermodseq: counters[2],
    revision: 0,
    nameHistory: [],
    reservedUntilMs: 0,
    requestId: '',
  };
}

/** A character that makes a JSON string differ from its text: an escape, a quote's end, a control character. */
const notPlainText = /[\\\x00-\x1f]/;

/**
 * An entry exactly as Cyrus 3.6 writes one (both forms: `server` in the
 * master's, `uniqueid` in a backend's; no name history). With no backslash or
 * control character in the member, every `[^"]*` is a JSON string's value as written.
 */
const cyrusMember = new RegExp(
  '^"([^"]*)": \\{"name": "([^"]*)", "mtime": "([^"]*)", "uidvalidity": "([^"]*)", "createdmodseq": "([^"]*)", ' +
    '"foldermodseq": "([^"]*)", "mbtype": "([^"]*)", "partition": "([^"]*)", (?:"server": "([^"]*)", )?' +
    '"acl": \\{((?:"[^"]*": "[^"]*")(?:, "[^"]*": "[^"]*")*)?\\}, (?:"uniqueid": "([^"]*)", )?"name_history": \\[\\]\\}$',
);
const cyrusAclEntry = /"([^"]*)": "([^"]*)"/g;

/**
 * `parseMemberEntry` for a member in Cyrus's own formatting, read with one
 * regular expression instead of JSON.parse: the same answer, or null when the
 * member looks otherwise or holds anything to complain about (then the general
 * reader reads it, and words the error).
 */
function parseCyrusMember(member: string): DumpLine | null {
  if (notPlainText.test(member)) return null;
  const match = cyrusMember.exec(member);
  if (match === null) return null;
  const [, key = '', entryName = '', mtime = '', uidvalidity = '', createdmodseq = '', foldermodseq = ''] = match;
  const [mbtypeText = '', partition = '', server = '', aclText = '', uniqueid = ''] = match.slice(7);
  const name = entryName || key;
  const mbtype = mbtypeText || 'e';
  if (mbtype.includes('d')) return { kind: 'tombstone', name };
  const acl = cyrusAcl(aclText);
  const counters = [plainCount(uidvalidity), plainCount(createdmodseq), plainCount(foldermodseq)] as const;
  if (acl === null || counters[0] < 0 || counters[1] < 0 || counters[2] < 0) return null;
  const mailbox = mailboxOf(name, uniqueid, server, partition, acl, mbtype, counters);
  return { kind: 'mailbox', mailbox, mtime, hasUniqueid: uniqueid !== '', hasServer: server !== '' };
}

/**
 * The ACL members as JSON.parse then Object.entries give them, or null for
 * what they would reorder or merge: an identifier seen twice, or one starting
 * with a digit (an integer-like key comes first in Object.entries).
 */
function cyrusAcl(members: string): AclEntry[] | null {
  const acl: AclEntry[] = [];
  for (const [, identifier = '', rights = ''] of members.matchAll(cyrusAclEntry)) {
    const first = identifier.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39) return null;
    if (acl.length > 0 && acl.some((entry) => entry.identifier === identifier)) return null;
    acl.push({ identifier, rights });
  }
  return acl;
}

/** `count` of a plain string, or -1 where `count` would throw. */
function plainCount(raw: string): number {
  if (raw === '') return 0;
  const parsed = Number(raw);
  return Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : -1;
}

interface Member {
  key: string | undefined;
  entry: Record<string, unknown> | undefined;
}

/** `"name": {...}` as JSON.parse reads `{` + member + `}`: its first key and that key's value. */
function parseMember(member: string): Member {
  let parsed: Record<string, Record<string, unknown>>;
  try {
    parsed = JSON.parse(`{${member}}`) as Record<string, Record<string, unknown>>;
  } catch (error) {
    throw invalidArgument(`dump line is not a "name": {...} member: ${(error as Error).message}`);
  }
  let key: string | undefined;
  for (const name in parsed) {
    key = name;
    break;
  }
  return { key, entry: key === undefined ? undefined : parsed[key] };
}

/** A key that JSON.parse takes as written: no escape, no control character. */
const plainKey = /^[^\\\x00-\x1f]*$/;

/**
 * `parseMember` for the member Cyrus writes (`"plain key": {...}`) without
 * wrapping it in braces: the key is cut out and only the value parsed. Gives
 * the same answer as `parseMember`, or null when the member looks otherwise
 * (then `parseMember` reads it, and words the error).
 */
function parseMemberFast(member: string): Member | null {
  const close = member.indexOf('"', 1);
  if (member.charCodeAt(0) !== 0x22 || close < 0 || !member.startsWith(': {', close + 1)) return null;
  const key = member.slice(1, close);
  if (!plainKey.test(key)) return null;
  try {
    return { key, entry: JSON.parse(member.slice(close + 3)) as Record<string, unknown> };
  } catch {
    return null;
  }
}

function aclOf(value: unknown, name: string): AclEntry[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`dump entry ${quote(name)}: acl must be an object`);
  return Object.entries(value as Record<string, unknown>).map(([identifier, rights]) => ({
    identifier,
    rights: text(rights, `acl ${identifier}`, name),
  }));
}

function historyOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((item) => (typeof item === 'string' ? item : typeof item === 'object' && item !== null ? String((item as Record<string, unknown>)['name'] ?? '') : ''))
    .filter((item) => item !== '');
}

export interface DumpFormat {
  /** The mupdate master's form carries `server`. */
  withServer: boolean;
  /** The backend's form carries `uniqueid`; the master's (Cyrus 3.6) does not. */
  withUniqueid: boolean;
  /** Cyrus's `mtime`; the directory does not keep one. */
  mtime: string;
}

/** A string as Cyrus writes it: JSON string escaping. */
function dumpString(value: string): string {
  return JSON.stringify(value);
}

/** `{"k": "v", "k2": "v2"}` with Cyrus's separators (`": "` and `", "`), `{}` when empty. */
function dumpObject(members: ReadonlyArray<readonly [string, string]>): string {
  return `{${members.map(([key, value]) => `${dumpString(key)}: ${value}`).join(', ')}}`;
}

/**
 * One dump line for a mailbox, member and trailing comma excluded, exactly as
 * Cyrus 3.6 `ctl_mboxlist -d` writes it: fields in Cyrus's order, numbers as
 * strings, `": "` and `", "` separators.
 */
export function formatDumpLine(mailbox: MailboxRecord, format: DumpFormat): string {
  const members: Array<readonly [string, string]> = [
    ['name', dumpString(mailbox.name)],
    ['mtime', dumpString(format.mtime)],
    ['uidvalidity', dumpString(String(mailbox.uidvalidity))],
    ['createdmodseq', dumpString(String(mailbox.createdmodseq))],
    ['foldermodseq', dumpString(String(mailbox.foldermodseq))],
    ['mbtype', dumpString(mailbox.mbtype)],
    ['partition', dumpString(mailbox.partition)],
  ];
  if (format.withServer) members.push(['server', dumpString(mailbox.server)]);
  members.push(['acl', dumpObject(mailbox.acl.map((entry) => [entry.identifier, dumpString(entry.rights)] as const))]);
  if (format.withUniqueid) members.push(['uniqueid', dumpString(mailbox.uniqueid)]);
  members.push(['name_history', `[${mailbox.nameHistory.map(dumpString).join(', ')}]`]);
  return `${dumpString(mailbox.name)}: ${dumpObject(members)}`;
}

/** The first line of a dump. */
export const dumpHeader = '{';
/** The last line of a dump. */
export const dumpFooter = '}';
