/**
 * The mbdir.v1 messages as proto-loader hands them over (snake_case, numbers,
 * enum names, defaults filled), and the conversions between them and the
 * core's records. Values arriving from the wire are untrusted: `fromWire*`
 * checks types and enum names and throws InvalidArgument naming the field.
 */
import type { AclEntry } from '../model/acl.js';
import { invalidArgument } from '../model/errors.js';
import type { Location, MailboxRecord, ServerRecord, ServerState } from '../model/records.js';

export interface WireLocation {
  server: string;
  partition: string;
}

export interface WireAclEntry {
  identifier: string;
  rights: string;
}

export type WireMailboxState = 'MAILBOX_STATE_UNSPECIFIED' | 'RESERVED' | 'ACTIVE';

export interface WireMailbox {
  uniqueid: string;
  name: string;
  server: string;
  partition: string;
  replicas: WireLocation[];
  acl: WireAclEntry[];
  mbtype: string;
  state: WireMailboxState;
  uidvalidity: number;
  createdmodseq: number;
  foldermodseq: number;
  revision: number;
  name_history: string[];
  uniqueid_generated: boolean;
}

export type WireServerState = 'SERVER_STATE_UNSPECIFIED' | ServerState;

export interface WireServer {
  name: string;
  imap_address: string;
  lmtp_address: string;
  pop3_address: string;
  state: WireServerState;
  weight: number;
  datacenter: string;
  replica_partner: string;
}

// ------------------------------------------------------------ checks of untrusted values

export function wireString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidArgument(`${field} must be a string`);
  return value;
}

export function wireNumber(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${field} must be a non-negative integer below 2^53`);
  }
  return value;
}

export function wireBool(value: unknown): boolean {
  return value === true;
}

export function wireArray<T>(value: unknown, field: string, max: number, item: (entry: unknown, index: number) => T): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidArgument(`${field} must be a list`);
  if (value.length > max) throw invalidArgument(`${field} has ${value.length} entries, more than the limit of ${max}`);
  return value.map(item);
}

function wireObject(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') throw invalidArgument(`${field} must be a message`);
  return value as Record<string, unknown>;
}

// ------------------------------------------------------------ mailboxes

export function aclFromWire(value: unknown, field = 'acl'): AclEntry[] {
  return wireArray(value, field, 10_000, (entry, index) => {
    const object = wireObject(entry, `${field}[${index}]`);
    return {
      identifier: wireString(object['identifier'], `${field}[${index}].identifier`),
      rights: wireString(object['rights'], `${field}[${index}].rights`),
    };
  });
}

export function locationsFromWire(value: unknown, field: string): Location[] {
  return wireArray(value, field, 1000, (entry, index) => {
    const object = wireObject(entry, `${field}[${index}]`);
    return {
      server: wireString(object['server'], `${field}[${index}].server`),
      partition: wireString(object['partition'], `${field}[${index}].partition`),
    };
  });
}

export function mailboxStateFromWire(value: unknown): 'RESERVED' | 'ACTIVE' {
  if (value === undefined || value === null || value === 'MAILBOX_STATE_UNSPECIFIED' || value === 'ACTIVE') return 'ACTIVE';
  if (value === 'RESERVED') return 'RESERVED';
  throw invalidArgument(`mailbox.state ${String(value)} is not RESERVED or ACTIVE`);
}

/** A mailbox as a client sent it; fields unchecked by rules are type-checked here. */
export function mailboxFromWire(value: unknown, field = 'mailbox'): MailboxRecord {
  const object = wireObject(value, field);
  return {
    uniqueid: wireString(object['uniqueid'], `${field}.uniqueid`),
    name: wireString(object['name'], `${field}.name`),
    server: wireString(object['server'], `${field}.server`),
    partition: wireString(object['partition'], `${field}.partition`),
    replicas: locationsFromWire(object['replicas'], `${field}.replicas`),
    acl: aclFromWire(object['acl'], `${field}.acl`),
    mbtype: wireString(object['mbtype'], `${field}.mbtype`),
    state: mailboxStateFromWire(object['state']),
    uidvalidity: wireNumber(object['uidvalidity'], `${field}.uidvalidity`),
    createdmodseq: wireNumber(object['createdmodseq'], `${field}.createdmodseq`),
    foldermodseq: wireNumber(object['foldermodseq'], `${field}.foldermodseq`),
    revision: 0,
    nameHistory: wireArray(object['name_history'], `${field}.name_history`, 64, (entry, index) =>
      wireString(entry, `${field}.name_history[${index}]`),
    ),
    reservedUntilMs: 0,
    requestId: '',
  };
}

export function mailboxToWire(mailbox: MailboxRecord): WireMailbox {
  return {
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
    revision: mailbox.revision,
    name_history: mailbox.nameHistory,
    uniqueid_generated: mailbox.uniqueidGenerated === true,
  };
}

// ------------------------------------------------------------ servers

const serverStates = new Set(['UP', 'DRAINING', 'DOWN']);

export function serverFromWire(value: unknown): ServerRecord {
  const object = wireObject(value, 'server');
  const state = object['state'];
  if (state !== undefined && state !== 'SERVER_STATE_UNSPECIFIED' && !serverStates.has(String(state))) {
    throw invalidArgument(`server.state ${String(state)} is not UP, DRAINING or DOWN`);
  }
  return {
    name: wireString(object['name'], 'server.name'),
    imapAddress: wireString(object['imap_address'], 'server.imap_address'),
    lmtpAddress: wireString(object['lmtp_address'], 'server.lmtp_address'),
    pop3Address: wireString(object['pop3_address'], 'server.pop3_address'),
    state: state === undefined || state === 'SERVER_STATE_UNSPECIFIED' ? 'UP' : (state as ServerState),
    weight: wireNumber(object['weight'], 'server.weight'),
    datacenter: wireString(object['datacenter'], 'server.datacenter'),
    replicaPartner: wireString(object['replica_partner'], 'server.replica_partner'),
  };
}

export function serverToWire(server: ServerRecord): WireServer {
  return {
    name: server.name,
    imap_address: server.imapAddress,
    lmtp_address: server.lmtpAddress,
    pop3_address: server.pop3Address,
    state: server.state,
    weight: server.weight,
    datacenter: server.datacenter,
    replica_partner: server.replicaPartner ?? '',
  };
}
