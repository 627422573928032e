/**
 * Rows of `mailboxes`, with their reverse-index rows, packed into one string:
 * how the import's parsing worker hands thousands of rows at a time to the
 * thread that loads them (cloning one string between threads is a copy;
 * cloning millions of small strings costs more than parsing them). Pure: no
 * I/O, no SQLite. It packs only validated, ACTIVE records: a validated name,
 * uniqueid, label or ACL identifier holds no control character, and a JSON
 * text holds none unescaped, so the two separators below never occur in a field.
 */
import { indexedIdentifier } from '../model/acl.js';
import { nameTextColumns } from '../model/names.js';
import type { MailboxRecord } from '../model/records.js';

/** Between two fields, and between the last field of a row and the next row's first. */
export const packedFieldSeparator = '\u0000';
/** Between the items of a list field (ACL identifiers, replica servers). */
export const packedListSeparator = '\u0002';

/** The fields of one packed row, in order. */
export const packedField = {
  uniqueid: 0,
  name: 1,
  /** The sort key as text (Cyrus's dbname): its UTF-8 encoding is the key's bytes. */
  sortkey: 2,
  /** The owner, '' when the name has none (a valid owner is never empty). */
  owner: 3,
  /** '1' for a user's root, '0' otherwise. */
  isRoot: 4,
  server: 5,
  /** The record JSON as the `record` column stores it (without `revision`). */
  record: 6,
  /** The identifiers of the ACL index rows. */
  aclIdentifiers: 7,
  /** The servers of the replica index rows. */
  replicaServers: 8,
} as const;

/** Fields per packed row. */
export const packedRowFields = 9;

/**
 * The JSON text of a record as the `record` column keeps it, for every write
 * (`mailboxRow`) and packed row alike: every field but `revision`, in
 * MailboxRecord's order. One JSON.stringify of a fresh object writes it flat in
 * native code: faster than joining pieces in JavaScript (and than copying the
 * record without `revision` by a rest pattern), and cheap to pack.
 */
export function mailboxRecordText(mailbox: MailboxRecord): string {
  return JSON.stringify({
    uniqueid: mailbox.uniqueid,
    name: mailbox.name,
    server: mailbox.server,
    partition: mailbox.partition,
    replicas: mailbox.replicas.map((replica) => ({ server: replica.server, partition: replica.partition })),
    acl: mailbox.acl.map((entry) => ({ identifier: entry.identifier, rights: entry.rights })),
    mbtype: mailbox.mbtype,
    state: mailbox.state,
    uidvalidity: mailbox.uidvalidity,
    createdmodseq: mailbox.createdmodseq,
    foldermodseq: mailbox.foldermodseq,
    nameHistory: mailbox.nameHistory,
    reservedUntilMs: mailbox.reservedUntilMs,
    requestId: mailbox.requestId,
    // Absent unless true: JSON.stringify drops undefined, so most records keep their text.
    uniqueidGenerated: mailbox.uniqueidGenerated === true ? true : undefined,
  });
}

/** One packed row (no trailing separator) for a validated ACTIVE record; throws InvalidArgument on an invalid name. */
export function packMailboxRow(mailbox: MailboxRecord): string {
  if (mailbox.state !== 'ACTIVE' || mailbox.reservedUntilMs !== 0) {
    throw new Error(`packMailboxRow: ${mailbox.name} is not a plain ACTIVE record`);
  }
  const columns = nameTextColumns(mailbox.name);
  let acl = '';
  for (const entry of mailbox.acl) acl += `${acl === '' ? '' : packedListSeparator}${indexedIdentifier(entry.identifier)}`;
  let replicas = '';
  for (const replica of mailbox.replicas) replicas += `${replicas === '' ? '' : packedListSeparator}${replica.server}`;
  const separator = packedFieldSeparator;
  return (
    `${mailbox.uniqueid}${separator}${mailbox.name}${separator}${columns.dbName}${separator}${columns.owner ?? ''}${separator}` +
    `${columns.isRoot ? '1' : '0'}${separator}${mailbox.server}${separator}${mailboxRecordText(mailbox)}${separator}` +
    `${acl}${separator}${replicas}`
  );
}

/** Splits a packed list field ('' is the empty list). */
export function packedList(field: string): string[] {
  return field === '' ? [] : field.split(packedListSeparator);
}
