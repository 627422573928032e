/**
 * The records the directory keeps, as plain values shared by every layer below
 * the adapters: mailboxes (keyed by uniqueid), servers, businesses, users, and
 * the changes a commit applies. No I/O here; validation lives beside each value.
 */
import type { AclEntry } from './acl.js';

export type MailboxState = 'RESERVED' | 'ACTIVE';
export type ServerState = 'UP' | 'DRAINING' | 'DOWN';

export interface Location {
  server: string;
  partition: string;
}

export interface MailboxRecord {
  uniqueid: string;
  name: string;
  server: string;
  partition: string;
  replicas: Location[];
  acl: AclEntry[];
  mbtype: string;
  state: MailboxState;
  uidvalidity: number;
  createdmodseq: number;
  foldermodseq: number;
  /** Directory revision of the last change; stamped by the engine on commit. */
  revision: number;
  nameHistory: string[];
  /** For RESERVED records: when the reservation lapses (ms since epoch), else 0. */
  reservedUntilMs: number;
  /** The create request that made it, so a retried create is recognised. */
  requestId: string;
  /**
   * True when the directory made the uniqueid up because the client sent none (MUPDATE
   * carries no uniqueid): the backend's real uniqueid, when it comes, replaces it.
   */
  uniqueidGenerated?: boolean;
}

export interface ServerRecord {
  name: string;
  imapAddress: string;
  lmtpAddress: string;
  /** POP3 address (numeric IP:port), '' when the server serves no POP3; absent in records stored before it existed. */
  pop3Address: string;
  state: ServerState;
  weight: number;
  datacenter: string;
  /**
   * The server this one is a replica pair with ('' or absent: none). A mailbox held by
   * one may be registered by the other (MUPDATE RESERVE/ACTIVATE) as its replica.
   */
  replicaPartner?: string;
}

export interface BusinessRecord {
  id: string;
  homeServer: string;
}

export interface UserRecord {
  user: string;
  business: string;
  /** A move under way: target server and start time, or '' / 0. */
  movingFrom: string;
  movingTo: string;
  movingSinceMs: number;
}

/** A named lease (e.g. the rebalance job's lock): held by `holder` until `expiresAtMs`. */
export interface LockRecord {
  name: string;
  holder: string;
  expiresAtMs: number;
}

/** One change of a commit; a commit applies its changes atomically at one revision. */
export type Change =
  | {
      kind: 'mailbox.put';
      mailbox: MailboxRecord;
      /** Where the record was before this change, when its name or servers moved (Watch filters on both). */
      previous?: { name: string; servers: string[] };
    }
  | { kind: 'mailbox.delete'; mailbox: MailboxRecord }
  | { kind: 'server.put'; server: ServerRecord }
  | { kind: 'business.put'; business: BusinessRecord }
  | { kind: 'user.put'; user: UserRecord }
  | { kind: 'user.delete'; user: string }
  | { kind: 'lock.put'; lock: LockRecord }
  | { kind: 'lock.delete'; name: string };

/** A committed change as Watch delivers it. */
export interface ChangeEvent {
  revision: number;
  change: Change;
}
