/**
 * The fields the hand-written codecs (fast-encode.ts, fast-decode.ts) carry,
 * one table per message, and the check of those tables against the .proto as
 * protobufjs loads it. The codecs are driven by these tables, so a field the
 * .proto gains and the tables lack would be dropped without a word: the check
 * (run when src/api loads, and by test/unit/fast-fields.test.ts) names every
 * such field, and every field carried with another number or type, as
 * `mbdir.v1.Message.field`. The tables are constants; nesting is the schema's
 * (Mailbox inside a response), never the input's.
 */
import type protobuf from 'protobufjs';

/** How a field is carried: the kinds the fast codecs know; `type` is the .proto's name for it. */
export const fieldKind = { string: 0, uint64: 1, bool: 2, enumeration: 3, message: 4 } as const;
export type FieldKind = (typeof fieldKind)[keyof typeof fieldKind];

/** Protobuf's wire types (the low three bits of a field's key). */
export const wireType = { varint: 0, fixed64: 1, bytes: 2, groupStart: 3, groupEnd: 4, fixed32: 5 } as const;

export interface FastField {
  readonly name: string; // as in the .proto (proto-loader keeps the case)
  readonly number: number;
  readonly kind: FieldKind;
  /** The .proto's type: `string`, `uint64`, `bool`, or the enum's or message's full name. */
  readonly type: string;
  readonly repeated: boolean;
  /** The field's key: number and wire type. */
  readonly tag: number;
  /** The key's size as a varint. */
  readonly tagBytes: number;
  /** An enum's value names by number (0 up, no gaps). */
  readonly values: readonly string[];
  /** An enum's numbers by name. */
  readonly numbers: ReadonlyMap<string, number>;
  /** A message field's table. */
  readonly message: FastMessage | null;
}

export interface FastMessage {
  readonly name: string; // full name, e.g. mbdir.v1.Mailbox
  readonly fields: readonly FastField[];
  /** Fields by tag (number << 3 | wire type); a tag of none of them is undefined. */
  readonly byTag: ReadonlyArray<FastField | undefined>;
  /** Fields by number, whatever their wire type. */
  readonly byNumber: ReadonlyArray<FastField | undefined>;
}

interface FieldShape {
  name: string;
  number: number;
  kind: FieldKind;
  type: string;
  repeated?: boolean;
  values?: readonly string[];
  message?: FastMessage;
}

function field(shape: FieldShape): FastField {
  const values = shape.values ?? [];
  const wire = shape.kind === fieldKind.string || shape.kind === fieldKind.message ? wireType.bytes : wireType.varint;
  return {
    name: shape.name,
    number: shape.number,
    kind: shape.kind,
    type: shape.type,
    repeated: shape.repeated === true,
    tag: shape.number * 8 + wire,
    tagBytes: shape.number < 16 ? 1 : shape.number < 2048 ? 2 : shape.number < 262_144 ? 3 : shape.number < 33_554_432 ? 4 : 5,
    values,
    numbers: new Map(values.map((value, index) => [value, index])),
    message: shape.message ?? null,
  };
}

function message(name: string, fields: readonly FastField[]): FastMessage {
  const byTag: Array<FastField | undefined> = [];
  const byNumber: Array<FastField | undefined> = [];
  for (const entry of fields) {
    byTag[entry.tag] = entry;
    byNumber[entry.number] = entry;
  }
  // Holes read as undefined; filled so the arrays stay packed (a faster read on the hot path).
  for (let index = 0; index < byTag.length; index += 1) byTag[index] ??= undefined;
  for (let index = 0; index < byNumber.length; index += 1) byNumber[index] ??= undefined;
  return { name, fields, byTag, byNumber };
}

const text = (name: string, number: number): FastField => field({ name, number, kind: fieldKind.string, type: 'string' });
const texts = (name: string, number: number): FastField => field({ name, number, kind: fieldKind.string, type: 'string', repeated: true });
const uint64 = (name: string, number: number): FastField => field({ name, number, kind: fieldKind.uint64, type: 'uint64' });
const bool = (name: string, number: number): FastField => field({ name, number, kind: fieldKind.bool, type: 'bool' });
const enumeration = (name: string, number: number, type: string, values: readonly string[]): FastField =>
  field({ name, number, kind: fieldKind.enumeration, type, values });
const one = (name: string, number: number, table: FastMessage): FastField =>
  field({ name, number, kind: fieldKind.message, type: table.name, message: table });
const many = (name: string, number: number, table: FastMessage): FastField =>
  field({ name, number, kind: fieldKind.message, type: table.name, message: table, repeated: true });

export const mailboxStates = ['MAILBOX_STATE_UNSPECIFIED', 'RESERVED', 'ACTIVE'] as const;
export const watchEventTypes = ['WATCH_EVENT_TYPE_UNSPECIFIED', 'SNAPSHOT', 'SNAPSHOT_END', 'PUT', 'DELETE', 'PROGRESS'] as const;

export const locationTable = message('mbdir.v1.Location', [text('server', 1), text('partition', 2)]);
export const aclEntryTable = message('mbdir.v1.AclEntry', [text('identifier', 1), text('rights', 2)]);

export const mailboxTable = message('mbdir.v1.Mailbox', [
  text('uniqueid', 1),
  text('name', 2),
  text('server', 3),
  text('partition', 4),
  many('replicas', 5, locationTable),
  many('acl', 6, aclEntryTable),
  text('mbtype', 7),
  enumeration('state', 8, 'mbdir.v1.MailboxState', mailboxStates),
  uint64('uidvalidity', 9),
  uint64('createdmodseq', 10),
  uint64('foldermodseq', 11),
  uint64('revision', 12),
  texts('name_history', 13),
  bool('uniqueid_generated', 14),
]);

export const mailboxResponseTable = message('mbdir.v1.MailboxResponse', [one('mailbox', 1, mailboxTable), uint64('revision', 2)]);

export const lookupResultTable = message('mbdir.v1.LookupResult', [text('name', 1), bool('found', 2), one('mailbox', 3, mailboxTable)]);
const lookupResponseFields = [many('results', 1, lookupResultTable), uint64('revision', 2)];
export const lookupMailboxesResponseTable = message('mbdir.v1.LookupMailboxesResponse', lookupResponseFields);
export const lookupStreamResponseTable = message('mbdir.v1.LookupStreamResponse', lookupResponseFields);

export const listedMailboxTable = message('mbdir.v1.ListedMailbox', [one('mailbox', 1, mailboxTable), text('my_rights', 2), bool('has_children', 3)]);
export const listMailboxesResponseTable = message('mbdir.v1.ListMailboxesResponse', [
  many('mailboxes', 1, listedMailboxTable),
  text('next_page_token', 2),
  uint64('revision', 3),
]);

export const watchEventTable = message('mbdir.v1.WatchEvent', [
  enumeration('type', 1, 'mbdir.v1.WatchEventType', watchEventTypes),
  one('mailbox', 2, mailboxTable),
  uint64('revision', 3),
]);

/** The responses the fast codecs write or read, and the messages inside them. */
export const fastMessages: readonly FastMessage[] = [
  mailboxResponseTable,
  lookupMailboxesResponseTable,
  lookupStreamResponseTable,
  listMailboxesResponseTable,
  watchEventTable,
];

// ------------------------------------------------------------ the check against the .proto

const describe = (entry: { number: number; type: string; repeated: boolean }): string =>
  `field ${entry.number}, ${entry.repeated ? 'repeated ' : ''}${entry.type}`;

/** The differences between one table and the .proto's message of the same name. */
function messageProblems(root: protobuf.Root, table: FastMessage): string[] {
  const found = root.lookup(table.name);
  if (found === null || !('fieldsArray' in found)) return [`${table.name}: no such message in the .proto`];
  const type = found as protobuf.Type;
  const problems: string[] = [];
  for (const protoField of type.fieldsArray) {
    const name = `${table.name}.${protoField.name}`;
    const resolved = protoField.resolvedType;
    const protoType = resolved === null ? protoField.type : resolved.fullName.replace(/^\./, '');
    const wanted = { number: protoField.id, type: protoType, repeated: protoField.repeated };
    const carried = table.fields.find((entry) => entry.name === protoField.name);
    if (carried === undefined) {
      problems.push(`${name} (${describe(wanted)}) is not carried by the fast codecs`);
    } else if (carried.number !== wanted.number || carried.type !== wanted.type || carried.repeated !== wanted.repeated || protoField.map) {
      problems.push(`${name}: the fast codecs carry ${describe(carried)}, the .proto has ${describe(wanted)}`);
    } else if (resolved !== null && 'values' in resolved) {
      const names = Object.entries((resolved as protobuf.Enum).values).map(([value, number]) => `${value}=${number}`);
      const carriedNames = carried.values.map((value, number) => `${value}=${number}`);
      if (names.sort().join(' ') !== carriedNames.sort().join(' ')) {
        problems.push(`${name}: the fast codecs know ${protoType} as ${carriedNames.join(' ')}, the .proto has ${names.join(' ')}`);
      }
    }
  }
  for (const carried of table.fields) {
    if (type.fields[carried.name] === undefined) problems.push(`${table.name}.${carried.name} is carried by the fast codecs but not in the .proto`);
  }
  return problems;
}

/** Every table reachable from `tables` (breadth first, each once). */
function reachable(tables: readonly FastMessage[]): FastMessage[] {
  const seen = new Map<string, FastMessage>();
  const queue = [...tables];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (seen.has(next.name)) continue;
    seen.set(next.name, next);
    for (const entry of next.fields) if (entry.message !== null) queue.push(entry.message);
  }
  return [...seen.values()];
}

/** The problems of `tables` against `root` (empty: they match), each naming message and field. */
export function fastFieldProblems(root: protobuf.Root, tables: readonly FastMessage[] = fastMessages): string[] {
  return reachable(tables).flatMap((table) => messageProblems(root, table));
}

/** Throws an Error listing every field the fast codecs drop or carry otherwise than `root` says. */
export function checkFastFields(root: protobuf.Root, tables: readonly FastMessage[] = fastMessages): void {
  const problems = fastFieldProblems(root, tables);
  if (problems.length > 0) throw new Error(`the fast codecs do not match the .proto: ${problems.join('; ')}`);
}
