/**
 * How records are laid out in SQLite rows and read back: the mailbox columns
 * and their order, the state codes, and the decoders of mailbox, user and
 * server rows. Pure values, no connection: the queries, `apply` and the bulk
 * load share them so a column is written and read the same way everywhere.
 * It must never hold state or run SQL.
 */
import { nameColumns } from '../model/names.js';
import type { MailboxRecord, ServerRecord, UserRecord } from '../model/records.js';
import { mailboxRecordText } from './packed-rows.js';

export const stateCode = { RESERVED: 1, ACTIVE: 2 } as const;

/** The columns of `mailboxes`, in order, for `INSERT INTO mailboxes(...)`. */
export const mailboxColumnsSql = 'uniqueid, name, sortkey, owner, is_root, server, state, reserved_until_ms, revision, record';

/** The row of `mailboxes` for a record, in `mailboxColumnsSql` order (the record JSON without its revision). */
export function mailboxRow(mailbox: MailboxRecord): unknown[] {
  const columns = nameColumns(mailbox.name);
  return [
    mailbox.uniqueid,
    mailbox.name,
    columns.sortkey,
    columns.owner,
    columns.isRoot ? 1 : 0,
    mailbox.server,
    stateCode[mailbox.state],
    mailbox.reservedUntilMs,
    mailbox.revision,
    mailboxRecordText(mailbox),
  ];
}

export interface MailboxRow {
  record: string;
  revision: number;
}

export function decodeMailbox(row: MailboxRow): MailboxRecord {
  const record = JSON.parse(row.record) as MailboxRecord;
  record.revision = row.revision;
  return record;
}

export interface UserRow {
  user: string;
  business: string;
  moving_from: string;
  moving_to: string;
  moving_since_ms: number;
}

export function decodeUser(row: UserRow): UserRecord {
  return {
    user: row.user,
    business: row.business,
    movingFrom: row.moving_from,
    movingTo: row.moving_to,
    movingSinceMs: row.moving_since_ms,
  };
}

/** A stored server record; records written before pop3Address existed read as without one. */
export function serverFromJson(text: string): ServerRecord {
  return { pop3Address: '', ...(JSON.parse(text) as Partial<ServerRecord>) } as ServerRecord;
}

/** A user's route as one read gives it (Store.routeOfRoot). */
export interface RouteRow {
  server: string;
  /** stateCode: 2 is ACTIVE. */
  state: number;
  /** The server's record; undefined when the server is not registered. */
  serverRecord: ServerRecord | undefined;
  /** The user's move mark; null without a user record. */
  movingFrom: string | null;
  movingTo: string | null;
  movingSinceMs: number | null;
}

export type RouteRowText = Omit<RouteRow, 'serverRecord'> & { serverRecord: string | null };

export interface MisplacedRow {
  user: string;
  server: string;
  home: string;
  business: string;
  moving_since_ms: number | null;
}

/** A LIST candidate: a mailbox with its sort key as stored, and whether it is in the caller's own hierarchy. */
export interface ListCandidate {
  mailbox: MailboxRecord;
  key: Buffer;
  own: boolean;
}

/** Users and mailboxes one server holds, as the placement counters keep them. */
export interface PlacementCount {
  server: string;
  users: number;
  mailboxes: number;
}
