/**
 * The mbdir.v1 messages as proto-loader hands them over (the types of
 * generated/: snake_case, numbers, enum names, defaults filled), and the
 * conversions between them and the core's records. Both directions walk the
 * .proto's descriptor once, when this module loads, into a plan per message:
 * the wire field `name_history` is the record's `nameHistory`, and the few
 * rules that are not that (a client sets no revision and claims no generated
 * uniqueid; states are checked) are declared per message below. No field list
 * is written out here. Values from the wire are untrusted: `*FromWire` checks
 * types, list sizes and enum names and throws InvalidArgument naming the field.
 */
import type protobuf from 'protobufjs';
import type { AclEntry } from '../model/acl.js';
import { invalidArgument } from '../model/errors.js';
import { limits } from '../model/limits.js';
import type { BusinessRecord, Location, MailboxRecord, ServerRecord, ServerState } from '../model/records.js';
import type { AclEntry__Output } from './generated/mbdir/v1/AclEntry.js';
import type { Business__Output } from './generated/mbdir/v1/Business.js';
import type { Location__Output } from './generated/mbdir/v1/Location.js';
import type { Mailbox__Output } from './generated/mbdir/v1/Mailbox.js';
import type { Server__Output } from './generated/mbdir/v1/Server.js';
import { protoRoot } from './proto.js';

export type WireLocation = Location__Output;
export type WireAclEntry = AclEntry__Output;
export type WireMailbox = Mailbox__Output;
export type WireMailboxState = WireMailbox['state'];
export type WireServer = Server__Output;
export type WireServerState = WireServer['state'];
export type WireBusiness = Business__Output;

/** `name_history` -> `nameHistory`: how records.ts names a wire field. */
type RecordName<Name extends string> = Name extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<RecordName<Tail>>}` : Name;
/** The wire fields of `Wire` that `Record` has no field for (never, when every one has). */
type Uncovered<Record, Wire> = Exclude<RecordName<keyof Wire & string>, keyof Record>;
// Compile-time: every field of the generated wire types has its record field (a field added to the
// .proto and regenerated fails here until records.ts has it).
const recordsCoverWire: [Uncovered<MailboxRecord, WireMailbox>, Uncovered<ServerRecord, WireServer>, Uncovered<BusinessRecord, WireBusiness>] extends [never, never, never]
  ? true
  : never = true;
void recordsCoverWire;

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

// ------------------------------------------------------------ plans derived from the descriptor

type Plain = Record<string, unknown>;

/** What a message's conversion does besides field `a_b` <-> record `aB`. */
interface MessageRules {
  /** Wire fields a client does not set: the record takes this value (undefined: the record has no such key). */
  readonly fixed?: Readonly<Record<string, unknown>>;
  /** Enum fields: the record's value for a wire value (checked). */
  readonly enums?: Readonly<Record<string, (value: unknown) => unknown>>;
  /** Repeated fields: entries at most. */
  readonly listsMax?: Readonly<Record<string, number>>;
  /** Record fields the wire does not carry, and their value when read from the wire. */
  readonly recordOnly?: Readonly<Plain>;
  /** Record fields that may be absent, and the wire's value then. */
  readonly absentAs?: Readonly<Plain>;
}

interface FieldPlan {
  readonly wire: string;
  readonly record: string;
  readonly kind: 'string' | 'number' | 'bool' | 'enum' | 'message';
  readonly repeated: boolean;
  readonly listMax: number;
  readonly message: MessagePlan | null;
  readonly fixed: { value: unknown } | null;
  readonly fromEnum: ((value: unknown) => unknown) | null;
  readonly absentAs: unknown;
}

interface MessagePlan {
  readonly name: string;
  readonly fields: readonly FieldPlan[];
  readonly recordOnly: Readonly<Plain>;
}

const recordName = (wire: string): string => wire.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
const numberTypes = new Set(['uint64', 'uint32', 'int64', 'int32', 'fixed64', 'fixed32']);

function fieldKindOf(field: protobuf.Field): FieldPlan['kind'] {
  const resolved = field.resolvedType;
  if (resolved !== null) return 'fieldsArray' in resolved ? 'message' : 'enum';
  if (field.type === 'string') return 'string';
  if (field.type === 'bool') return 'bool';
  if (numberTypes.has(field.type)) return 'number';
  throw new Error(`wire: ${field.fullName} has type ${field.type}, which no record field takes`);
}

/** The plan of message `name` (nested messages get plain rules: a Location, an AclEntry). */
function planOf(name: string, rules: MessageRules = {}): MessagePlan {
  const type = protoRoot.lookupType(name);
  const fields = type.fieldsArray.map((field): FieldPlan => {
    const kind = fieldKindOf(field);
    const fromEnum = rules.enums?.[field.name] ?? null;
    if (kind === 'enum' && fromEnum === null) throw new Error(`wire: ${name}.${field.name} is an enum with no rule`);
    const listMax = rules.listsMax?.[field.name];
    if (field.repeated && listMax === undefined) throw new Error(`wire: ${name}.${field.name} is a list with no bound`);
    const fixed = rules.fixed !== undefined && field.name in rules.fixed ? { value: rules.fixed[field.name] } : null;
    return {
      wire: field.name,
      record: recordName(field.name),
      kind,
      repeated: field.repeated,
      listMax: listMax ?? 0,
      message: kind === 'message' ? planOf((field.resolvedType as protobuf.Type).fullName.slice(1)) : null,
      fixed,
      fromEnum,
      absentAs: rules.absentAs?.[recordName(field.name)],
    };
  });
  return { name, fields, recordOnly: rules.recordOnly ?? {} };
}

/** `parent.field`, or `field` for a message read at the top (PutBusiness's request is the Business). */
function joinPath(parent: string, field: string): string {
  return parent === '' ? field : `${parent}.${field}`;
}

type FromWire = (value: unknown, at: string) => Plain;
type ToWire = (record: Plain) => Plain;

/**
 * The conversions of `plan`, compiled once into functions that build each object
 * as one literal (as protobufjs compiles its codecs): a loop over the plan builds
 * the same objects five to fifteen times slower, and mailboxToWire runs for every
 * mailbox a lookup or LIST answers. The source holds no value from the wire:
 * field names go in as JSON string literals, constants and helpers as arguments.
 */
function compile(plan: MessagePlan): { fromWire: FromWire; toWire: ToWire } {
  const nested = plan.fields.map((field) => (field.message === null ? null : compile(field.message)));
  const constants: unknown[] = [];
  const constant = (value: unknown): string => `k[${constants.push(value) - 1}]`;
  const read: string[] = [];
  const write: string[] = [];
  plan.fields.forEach((field, index) => {
    const wire = JSON.stringify(field.wire);
    const record = JSON.stringify(field.record);
    const absent = field.absentAs === undefined ? '' : ` ?? ${constant(field.absentAs)}`;
    const inner = nested[index] ?? null;
    write.push(
      inner === null
        ? `${wire}: r[${record}]${absent}`
        : field.repeated
          ? `${wire}: r[${record}].map(${constant(inner.toWire)})`
          : `${wire}: r[${record}] == null ? null : ${constant(inner.toWire)}(r[${record}])`,
    );
    if (field.fixed !== null) {
      if (field.fixed.value !== undefined) read.push(`${record}: ${constant(field.fixed.value)}`);
      return;
    }
    const one = (value: string, at: string): string => {
      if (inner !== null) return `${constant(inner.fromWire)}(${value}, ${at})`;
      if (field.kind === 'enum') return `${constant(field.fromEnum)}(${value})`;
      return `${constant(field.kind === 'string' ? wireString : field.kind === 'number' ? wireNumber : wireBool)}(${value}, ${at})`;
    };
    const at = `join(at, ${wire})`;
    read.push(
      field.repeated
        ? `${record}: array(o[${wire}], ${at}, ${field.listMax}, (e, i) => ${one('e', `${at} + "[" + i + "]"`)})`
        : `${record}: ${one(`o[${wire}]`, at)}`,
    );
  });
  for (const [name, value] of Object.entries(plan.recordOnly)) read.push(`${JSON.stringify(name)}: ${constant(value)}`);
  const helpers = ['k', 'object', 'array', 'join'] as const;
  const fromWire = new Function(...helpers, `return (value, at) => { const o = object(value, at); return { ${read.join(', ')} }; };`);
  const toWire = new Function(...helpers, `return (r) => ({ ${write.join(', ')} });`);
  const bound = [constants, wireObject, wireArray, joinPath];
  return { fromWire: fromWire(...bound) as FromWire, toWire: toWire(...bound) as ToWire };
}

// ------------------------------------------------------------ the records' messages

export function mailboxStateFromWire(value: unknown): 'RESERVED' | 'ACTIVE' {
  if (value === undefined || value === null || value === 'MAILBOX_STATE_UNSPECIFIED' || value === 'ACTIVE') return 'ACTIVE';
  if (value === 'RESERVED') return 'RESERVED';
  throw invalidArgument(`mailbox.state ${String(value)} is not RESERVED or ACTIVE`);
}

const serverStates = new Set(['UP', 'DRAINING', 'DOWN']);

function serverStateFromWire(state: unknown): ServerState {
  if (state === undefined || state === 'SERVER_STATE_UNSPECIFIED') return 'UP';
  if (!serverStates.has(String(state))) throw invalidArgument(`server.state ${String(state)} is not UP, DRAINING or DOWN`);
  return state as ServerState;
}

const aclListMax = { acl: limits.wireAclEntriesMax };
const mailboxPlan = planOf('mbdir.v1.Mailbox', {
  // The directory stamps the revision and decides whether it made the uniqueid up.
  fixed: { revision: 0, uniqueid_generated: undefined },
  enums: { state: mailboxStateFromWire },
  listsMax: { ...aclListMax, replicas: limits.wireReplicasMax, name_history: limits.wireNameHistoryMax },
  recordOnly: { reservedUntilMs: 0, requestId: '' },
  absentAs: { uniqueidGenerated: false },
});
const mailbox = compile(mailboxPlan);
const location = compile(mailboxPlan.fields.find((field) => field.wire === 'replicas')?.message as MessagePlan);
const aclEntry = compile(planOf('mbdir.v1.AclEntry'));
const server = compile(planOf('mbdir.v1.Server', { enums: { state: serverStateFromWire }, absentAs: { replicaPartner: '' } }));
const business = compile(planOf('mbdir.v1.Business'));

export function aclFromWire(value: unknown, field = 'acl'): AclEntry[] {
  return wireArray(value, field, limits.wireAclEntriesMax, (entry, index) => aclEntry.fromWire(entry, `${field}[${index}]`) as unknown as AclEntry);
}

export function locationsFromWire(value: unknown, field: string): Location[] {
  return wireArray(value, field, limits.wireReplicasMax, (entry, index) => location.fromWire(entry, `${field}[${index}]`) as unknown as Location);
}

/** A mailbox as a client sent it; fields unchecked by rules are type-checked here. */
export function mailboxFromWire(value: unknown, field = 'mailbox'): MailboxRecord {
  return mailbox.fromWire(value, field) as unknown as MailboxRecord;
}

export function mailboxToWire(record: MailboxRecord): WireMailbox {
  return mailbox.toWire(record as unknown as Plain) as unknown as WireMailbox;
}

export function serverFromWire(value: unknown): ServerRecord {
  return server.fromWire(value, 'server') as unknown as ServerRecord;
}

export function serverToWire(record: ServerRecord): WireServer {
  return server.toWire(record as unknown as Plain) as unknown as WireServer;
}

/** A business as a client sent it (PutBusiness's request is the Business itself: fields named without a prefix). */
export function businessFromWire(value: unknown): BusinessRecord {
  return business.fromWire(value, '') as unknown as BusinessRecord;
}

export function businessToWire(record: BusinessRecord): WireBusiness {
  return business.toWire(record as unknown as Plain) as unknown as WireBusiness;
}
