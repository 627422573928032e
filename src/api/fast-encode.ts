/**
 * Hand-written protobuf encoders for the responses that carry mailboxes by the
 * dozen (GetMailbox, LookupMailboxes, LookupStream, ListMailboxes). The generic
 * path (proto-loader: fromObject, then protobufjs's writer) spends about 5 µs
 * per mailbox; sizing each message first and writing it into one buffer costs
 * a fraction of that, and LIST and the lookups are mostly this.
 *
 * The fields written are those of the tables in fast-fields.ts (checked against
 * the .proto when src/api loads). It takes the plain objects proto-loader takes
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

/**
 * First pass: the size of `value` as `table` says, pushing into `sizes`, in the
 * order the write pass takes them, each string's UTF-8 length and each embedded
 * message's size (its slot taken before its own fields').
 */
function measure(table: FastMessage, value: Plain, sizes: number[]): number {
  let size = 0;
  for (const entry of table.fields) {
    const field = value[entry.name];
    if (entry.kind === fieldKind.string) {
      if (entry.repeated) {
        // Repeated strings are written even when empty: an empty entry is still an entry.
        for (const item of listOf(field, table, entry)) {
          if (typeof item !== 'string') refuse(table, entry, 'has an entry that is not a string');
          size += stringSize(entry, utf8Length(item), sizes);
        }
      } else {
        const bytes = utf8Length(textOf(field, table, entry));
        if (bytes === 0) sizes.push(0);
        else size += stringSize(entry, bytes, sizes);
      }
    } else if (entry.kind === fieldKind.message) {
      if (entry.repeated) {
        for (const item of listOf(field, table, entry)) size += messageSize(entry, objectOf(item, table, entry), sizes);
      } else if (field !== undefined && field !== null) {
        size += messageSize(entry, objectOf(field, table, entry), sizes);
      }
    } else {
      const number = varintOf(field, table, entry);
      if (number !== 0) size += entry.tagBytes + varintSize(number);
    }
  }
  return size;
}

/** A string field's whole size (key, length, bytes), its length pushed for the write pass. */
function stringSize(entry: FastField, bytes: number, sizes: number[]): number {
  sizes.push(bytes);
  return entry.tagBytes + varintSize(bytes) + bytes;
}

/** An embedded message's whole size; its slot in `sizes` comes before its own fields'. */
function messageSize(entry: FastField, item: Plain, sizes: number[]): number {
  const slot = sizes.length;
  sizes.push(0);
  const bytes = measure(entry.message as FastMessage, item, sizes);
  sizes[slot] = bytes;
  return entry.tagBytes + varintSize(bytes) + bytes;
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
  message(entry: FastField, value: Plain): void {
    this.varint(entry.tag);
    this.varint(this.nextSize());
    write(entry.message as FastMessage, value, this);
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

/** Second pass: `value`'s fields as `table` says, in the order `measure` went (values already checked there). */
function write(table: FastMessage, value: Plain, writer: Writer): void {
  for (const entry of table.fields) {
    const field = value[entry.name];
    if (entry.kind === fieldKind.string) {
      if (entry.repeated) {
        for (const item of (field as string[] | null | undefined) ?? []) writer.string(entry.tag, item, writer.nextSize());
      } else {
        const bytes = writer.nextSize();
        if (bytes !== 0) writer.string(entry.tag, field as string, bytes);
      }
    } else if (entry.kind === fieldKind.message) {
      if (entry.repeated) {
        for (const item of (field as Plain[] | null | undefined) ?? []) writer.message(entry, item);
      } else if (field !== undefined && field !== null) {
        writer.message(entry, field as Plain);
      }
    } else {
      const number = varintOf(field, table, entry);
      if (number === 0) continue;
      writer.varint(entry.tag);
      writer.varint(number);
    }
  }
}

/** `value` encoded as `table`'s message. */
export function encodeMessage(table: FastMessage, value: Plain): Buffer {
  if (typeof value !== 'object' || value === null) throw new TypeError(`fast-encode: a ${table.name} must be an object`);
  const sizes: number[] = [];
  const size = measure(table, value, sizes);
  const writer = new Writer(Buffer.allocUnsafe(size), sizes);
  write(table, value, writer);
  if (writer.position !== size) throw new Error(`fast-encode: wrote ${writer.position} bytes of ${size}`);
  return writer.buffer;
}

/** mbdir.v1.MailboxResponse (GetMailbox, and the writes that answer a mailbox). */
export const encodeMailboxResponse = (response: Plain): Buffer => encodeMessage(mailboxResponseTable, response);
/** LookupMailboxesResponse and LookupStreamResponse (the same fields). */
export const encodeLookupResponse = (response: Plain): Buffer => encodeMessage(lookupMailboxesResponseTable, response);
/** ListMailboxesResponse. */
export const encodeListResponse = (response: Plain): Buffer => encodeMessage(listMailboxesResponseTable, response);
