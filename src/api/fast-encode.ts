/**
 * Fast protobuf encoders for the responses that carry mailboxes by the
 * dozen (GetMailbox, LookupMailboxes, LookupStream, ListMailboxes). The generic
 * path (proto-loader: fromObject, then protobufjs's writer) spends about 5 µs
 * per mailbox; sizing each message first and writing it into one buffer costs
 * a fraction of that, and LIST and the lookups are mostly this.
 *
 * The fields written are those of the tables in fast-fields.ts (checked against
 * the .proto when src/api loads), each table compiled once into its encoder. It takes the plain objects proto-loader takes
 * (snake_case fields, enums as their names, 64-bit integers as numbers below
 * 2^53) and writes standard proto3: default values are left out. A value of
 * another shape (a string where a number goes, a negative enum) throws, and
 * proto.ts hands it to the generic encoder. It must never be the only encoder.
 * test/property/fast-encode.property.test.ts checks it against protobufjs.
 */
import { fieldKind, type FastField, type FastMessage, listMailboxesResponseTable, lookupMailboxesResponseTable, mailboxResponseTable } from './fast-fields.js';

type Plain = Record<string, unknown>;

/** Strings up to this length are copied in JS when ASCII; a native call costs more than the copy. */
const inlineCopyMax = 64;

/** UTF-8 length: the string's own length when it is ASCII (nearly every name, id and right). */
function utf8Length(value: string): number {
  for (let index = 0; index < value.length; index += 1) {
    if (value.charCodeAt(index) > 127) return Buffer.byteLength(value, 'utf8');
  }
  return value.length;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

function refuse(message: FastMessage, entry: FastField, what: string): never {
  throw new TypeError(`fast-encode: ${message.name}.${entry.name} ${what}`);
}

/** A field's string, '' when absent; anything else is refused (the generic encoder converts it). */
function textOf(value: unknown, message: FastMessage, entry: FastField): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return refuse(message, entry, 'is not a string');
}

/** A field's varint (uint64, bool, enum), 0 when absent; a value the fast path does not write as given throws. */
function varintOf(value: unknown, message: FastMessage, entry: FastField): number {
  if (value === undefined || value === null) return 0;
  if (entry.kind === fieldKind.bool) {
    if (typeof value !== 'boolean') refuse(message, entry, 'is not a boolean');
    return value ? 1 : 0;
  }
  if (entry.kind === fieldKind.enumeration && typeof value === 'string') {
    return entry.numbers.get(value) ?? refuse(message, entry, `has no value ${JSON.stringify(value.slice(0, 64))}`);
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) refuse(message, entry, 'is not a non-negative integer below 2^53');
  return value;
}

function listOf(value: unknown, message: FastMessage, entry: FastField): readonly unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === null) return [];
  return refuse(message, entry, 'is not a list');
}

function objectOf(value: unknown, message: FastMessage, entry: FastField): Plain {
  if (typeof value === 'object' && value !== null) return value as Plain;
  return refuse(message, entry, 'is not a message');
}

/** The bytes of one message, written into a buffer of the size measured. */
class Writer {
  position = 0;
  /** The next of the sizes `measure` pushed. */
  sizeIndex = 0;

  constructor(
    readonly buffer: Buffer,
    readonly sizes: readonly number[],
  ) {}

  nextSize(): number {
    return this.sizes[this.sizeIndex++] as number;
  }

  varint(value: number): void {
    while (value >= 128) {
      this.buffer[this.position++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.buffer[this.position++] = value;
  }

  /** A string field: key, length and the UTF-8 bytes ('' for an absent value, whose length is 0). */
  string(tag: number, value: string | null | undefined, bytes: number): void {
    this.varint(tag);
    this.varint(bytes);
    if (bytes > 0) this.text(value as string, bytes);
  }

  /** An embedded message field: key, the size measured, then its fields. */
  message(tag: number, value: Plain, write: WriteMessage): void {
    this.varint(tag);
    this.varint(this.nextSize());
    write(value, this);
  }

  /** The UTF-8 bytes of `value` (`bytes` of them, from utf8Length). */
  text(value: string, bytes: number): void {
    if (bytes === value.length && bytes <= inlineCopyMax) {
      for (let index = 0; index < bytes; index += 1) this.buffer[this.position + index] = value.charCodeAt(index);
      this.position += bytes;
    } else {
      this.position += this.buffer.write(value, this.position, bytes, 'utf8');
    }
  }
}

/**
 * First pass: the size of a message, pushing into `sizes`, in the order the
 * write pass takes them, each string's UTF-8 length and each embedded message's
 * size (its slot taken before its own fields'). Refuses what it would not write
 * as protobufjs does.
 */
type MeasureMessage = (value: Plain, sizes: number[]) => number;
/** Second pass: the message's fields, in the order of the first (values already checked there). */
type WriteMessage = (value: Plain, writer: Writer) => void;

interface MessageCodec {
  measure: MeasureMessage;
  write: WriteMessage;
}

/** Source of one field's part of the first pass (`f[i]`: the field, `n[i]`: its message's codec). */
function measureSource(entry: FastField, index: number): string {
  const value = `v[${JSON.stringify(entry.name)}]`;
  const field = `f[${index}]`;
  const key = entry.tagBytes;
  if (entry.kind === fieldKind.string && entry.repeated) {
    // Repeated strings are written even when empty: an empty entry is still an entry.
    return `for (const x of listOf(${value}, T, ${field})) { const b = utf8Length(typeof x === 'string' ? x : refuse(T, ${field}, 'has an entry that is not a string')); sizes.push(b); size += ${key} + varintSize(b) + b; }`;
  }
  if (entry.kind === fieldKind.string) return `{ const b = utf8Length(textOf(${value}, T, ${field})); sizes.push(b); if (b !== 0) size += ${key} + varintSize(b) + b; }`;
  if (entry.kind === fieldKind.message) {
    const one = `{ const slot = sizes.length; sizes.push(0); const b = n[${index}].measure(objectOf(x, T, ${field}), sizes); sizes[slot] = b; size += ${key} + varintSize(b) + b; }`;
    return entry.repeated ? `for (const x of listOf(${value}, T, ${field})) ${one}` : `{ const x = ${value}; if (x !== undefined && x !== null) ${one} }`;
  }
  return `{ const k = varintOf(${value}, T, ${field}); if (k !== 0) size += ${key} + varintSize(k); }`;
}

/** Source of one field's part of the second pass. */
function writeSource(entry: FastField, index: number): string {
  const value = `v[${JSON.stringify(entry.name)}]`;
  if (entry.kind === fieldKind.string && entry.repeated) return `{ const x = ${value}; if (x != null) for (const s of x) w.string(${entry.tag}, s, w.nextSize()); }`;
  if (entry.kind === fieldKind.string) return `{ const b = w.nextSize(); if (b !== 0) w.string(${entry.tag}, ${value}, b); }`;
  if (entry.kind === fieldKind.message && entry.repeated) return `{ const x = ${value}; if (x != null) for (const e of x) w.message(${entry.tag}, e, n[${index}].write); }`;
  if (entry.kind === fieldKind.message) return `{ const x = ${value}; if (x !== undefined && x !== null) w.message(${entry.tag}, x, n[${index}].write); }`;
  return `{ const k = varintOf(${value}, T, f[${index}]); if (k !== 0) { w.varint(${entry.tag}); w.varint(k); } }`;
}

const codecs = new Map<FastMessage, MessageCodec>();

/**
 * `table`'s two passes, compiled once into straight-line code over its fields,
 * as an encoder written by hand for that message would be (a loop over the
 * table costs a fifth more per mailbox). The source holds only the table's
 * names (as JSON literals) and numbers; nested tables are the schema's.
 */
function codecOf(table: FastMessage): MessageCodec {
  const known = codecs.get(table);
  if (known !== undefined) return known;
  const nested = table.fields.map((entry) => (entry.message === null ? null : codecOf(entry.message)));
  const measureBody = `return (v, sizes) => { let size = 0;\n${table.fields.map(measureSource).join('\n')}\nreturn size; };`;
  const writeBody = `return (v, w) => {\n${table.fields.map(writeSource).join('\n')}\n};`;
  const helpers = ['T', 'f', 'n', 'utf8Length', 'varintSize', 'textOf', 'varintOf', 'listOf', 'objectOf', 'refuse'];
  const values = [table, table.fields, nested, utf8Length, varintSize, textOf, varintOf, listOf, objectOf, refuse];
  const codec: MessageCodec = {
    measure: new Function(...helpers, measureBody)(...values) as MeasureMessage,
    write: new Function(...helpers, writeBody)(...values) as WriteMessage,
  };
  codecs.set(table, codec);
  return codec;
}

/** `value` encoded as `table`'s message. */
export function encodeMessage(table: FastMessage, value: Plain): Buffer {
  if (typeof value !== 'object' || value === null) throw new TypeError(`fast-encode: a ${table.name} must be an object`);
  const codec = codecOf(table);
  const sizes: number[] = [];
  const size = codec.measure(value, sizes);
  const writer = new Writer(Buffer.allocUnsafe(size), sizes);
  codec.write(value, writer);
  if (writer.position !== size) throw new Error(`fast-encode: wrote ${writer.position} bytes of ${size}`);
  return writer.buffer;
}

/** mbdir.v1.MailboxResponse (GetMailbox, and the writes that answer a mailbox). */
export const encodeMailboxResponse = (response: Plain): Buffer => encodeMessage(mailboxResponseTable, response);
/** LookupMailboxesResponse and LookupStreamResponse (the same fields). */
export const encodeLookupResponse = (response: Plain): Buffer => encodeMessage(lookupMailboxesResponseTable, response);
/** ListMailboxesResponse. */
export const encodeListResponse = (response: Plain): Buffer => encodeMessage(listMailboxesResponseTable, response);
