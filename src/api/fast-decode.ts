/**
 * Fast protobuf decoders for the messages that carry mailboxes to a
 * client: WatchEvent (a proxy receives them by the hundred per second on one
 * connection) and the responses of GetMailbox, LookupMailboxes, LookupStream and
 * ListMailboxes (up to thousands of mailboxes each). Clients use them as
 * grpc-js's deserializers (see proto.ts). proto-loader's generic path (protobufjs
 * decode, then toObject) builds every message twice; these read the bytes once,
 * field by field as the tables of fast-fields.ts say (checked against the .proto
 * when src/api loads; each compiled once into its reader), into the plain object
 * proto-loader gives (snake_case fields, enums as names, 64-bit integers as
 * numbers, defaults filled in).
 * test/property/watch-decode.property.test.ts checks them against proto-loader.
 * Malformed input throws; they never read past the message they are given.
 */
import {
  fieldKind,
  type FastField,
  type FastMessage,
  listMailboxesResponseTable,
  lookupMailboxesResponseTable,
  mailboxResponseTable,
  watchEventTable,
  wireType as wire,
} from './fast-fields.js';

type Plain = Record<string, unknown>;

/** Node's Buffer method behind toString('utf8', start, end), without its argument checks. */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

/** A cursor over one message's bytes, `end` excluded. */
class Reader {
  constructor(
    readonly bytes: Buffer,
    public position: number,
    public end: number,
  ) {}

  /** The low 32 bits of the last varint read, unsigned. */
  private low = 0;

  /** A varint as an unsigned 64-bit value, as protobufjs turns one into a number (high * 2^32 + low). */
  varint(): number {
    let low = 0;
    let high = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.position >= this.end) throw new Error('protobuf: varint runs past the message');
      const byte = this.bytes[this.position++] as number;
      const bits = byte & 127;
      if (shift < 28) low |= bits << shift;
      else if (shift === 28) {
        low |= bits << 28;
        high |= bits >>> 4;
      } else high |= bits << (shift - 32);
      if (byte < 128) {
        this.low = low >>> 0;
        return (high >>> 0) * 4294967296 + this.low;
      }
    }
    throw new Error('protobuf: varint longer than 10 bytes');
  }

  /** A varint as int32 (enum values): its low 32 bits, signed, as protobufjs reads one. */
  int32(): number {
    this.varint();
    return this.low | 0;
  }

  /** A length-delimited field's end, checked against the message's. */
  lengthEnd(): number {
    const length = this.varint();
    const end = this.position + length;
    if (end > this.end) throw new Error('protobuf: field runs past the message');
    return end;
  }

  string(): string {
    const end = this.lengthEnd();
    const start = this.position;
    this.position = end;
    // Buffer's own utf8Slice, as protobufjs calls it: toString(encoding, start, end) checks and slices first.
    return (this.bytes as unknown as Utf8Slicer).utf8Slice(start, end);
  }

  /** Skips a field of an unknown number (protobuf's rule: unknown fields are ignored). */
  skip(wireType: number): void {
    if (wireType === wire.varint) this.varint();
    else if (wireType === wire.fixed64) this.advance(8);
    else if (wireType === wire.bytes) this.position = this.lengthEnd();
    else if (wireType === wire.fixed32) this.advance(4);
    else if (wireType === wire.groupStart) this.skipGroup();
    else throw new Error(`protobuf: wire type ${wireType} where a field was expected`);
  }

  private advance(bytes: number): void {
    if (this.position + bytes > this.end) throw new Error('protobuf: field runs past the message');
    this.position += bytes;
  }

  /** A deprecated group: fields up to its end tag, nested groups counted (no recursion). */
  private skipGroup(): void {
    let depth = 1;
    while (depth > 0) {
      const wireType = this.varint() & 7;
      if (wireType === wire.groupStart) depth += 1;
      else if (wireType === wire.groupEnd) depth -= 1;
      else this.skip(wireType);
    }
  }
}

/** Reads one message's fields from a reader bounded to it. */
type MessageReader = (reader: Reader) => Plain;

/** The default a field has in proto-loader's objects (`defaults: true`), as JavaScript source. */
function defaultSource(entry: FastField): string {
  if (entry.repeated) return '[]';
  if (entry.kind === fieldKind.string) return "''";
  if (entry.kind === fieldKind.uint64) return '0';
  if (entry.kind === fieldKind.bool) return 'false';
  if (entry.kind === fieldKind.enumeration) return JSON.stringify(entry.values[0]);
  return 'null';
}

/** Source of the statement that reads `entry`'s value into `m` (`t[i]`: the field's nested reader or enum names). */
function readSource(entry: FastField, index: number): string {
  const name = JSON.stringify(entry.name);
  const value =
    entry.kind === fieldKind.string
      ? 'r.string()'
      : entry.kind === fieldKind.uint64
        ? 'r.varint()'
        : entry.kind === fieldKind.bool
          ? 'r.varint() !== 0'
          : entry.kind === fieldKind.enumeration
            ? `enumName(t[${index}], r.int32())`
            : `embedded(r, t[${index}])`;
  // A singular embedded message sent twice: the later one wins, as protobufjs does.
  return entry.repeated ? `m[${name}].push(${value});` : `m[${name}] = ${value};`;
}

const enumName = (values: readonly string[], number: number): string | number => values[number] ?? number;

/** A message `reader` holds next (length-delimited), read by `read` with the reader's end narrowed to it. */
function embedded(reader: Reader, read: MessageReader): Plain {
  const end = reader.lengthEnd();
  const outerEnd = reader.end;
  reader.end = end;
  const message = read(reader);
  reader.end = outerEnd;
  return message;
}

const compiled = new Map<FastMessage, MessageReader>();

/**
 * `table`'s reader, compiled once: an object literal of its defaults, then a
 * switch on each field's key, as a decoder written by hand for that message
 * would be (a loop over the table costs a third more per mailbox). The source
 * holds only the table's names (as JSON literals) and numbers. Nested tables
 * are the schema's (a Mailbox in a response), compiled first.
 */
function readerOf(table: FastMessage): MessageReader {
  const known = compiled.get(table);
  if (known !== undefined) return known;
  const nested = table.fields.map((entry) => (entry.message !== null ? readerOf(entry.message) : entry.values));
  const defaults = table.fields.map((entry) => `${JSON.stringify(entry.name)}: ${defaultSource(entry)}`).join(', ');
  const cases = table.fields.map((entry, index) => `case ${entry.tag}: ${readSource(entry, index)} break;`).join('\n');
  const source = `return (r) => {
    const m = { ${defaults} };
    while (r.position < r.end) {
      const tag = r.varint();
      switch (tag) {
        ${cases}
        default: skipUnknown(r, table, tag);
      }
    }
    return m;
  };`;
  const read = new Function('t', 'table', 'enumName', 'embedded', 'skipUnknown', source)(nested, table, enumName, embedded, skipUnknown) as MessageReader;
  compiled.set(table, read);
  return read;
}

/** A tag no field of `table` has: an unknown field (skipped, as protobuf says), or a known one of the wrong wire type (malformed). */
function skipUnknown(reader: Reader, table: FastMessage, tag: number): void {
  const number = Math.floor(tag / 8);
  if (table.byNumber[number] !== undefined) throw new Error(`protobuf: ${table.name} field ${number} has wire type ${tag & 7}`);
  reader.skip(tag & 7);
}

/** `bytes` between `start` and `end` (the whole buffer by default) as `table`'s message. */
export function decodeMessage(table: FastMessage, bytes: Buffer, start = 0, end = bytes.length): Plain {
  if (start < 0 || end > bytes.length || start > end) throw new Error('protobuf: bounds outside the buffer');
  return readerOf(table)(new Reader(bytes, start, end));
}

/** mbdir.v1.WatchEvent as proto-loader gives it, from `bytes` between `start` and `end` (a DATA chunk may hold more). */
export const decodeWatchEvent = (bytes: Buffer, start = 0, end = bytes.length): Plain => decodeMessage(watchEventTable, bytes, start, end);
/** MailboxResponse (GetMailbox's answer). */
export const decodeMailboxResponse = (bytes: Buffer): Plain => decodeMessage(mailboxResponseTable, bytes);
/** LookupMailboxesResponse and LookupStreamResponse (the same fields). */
export const decodeLookupResponse = (bytes: Buffer): Plain => decodeMessage(lookupMailboxesResponseTable, bytes);
/** ListMailboxesResponse. */
export const decodeListResponse = (bytes: Buffer): Plain => decodeMessage(listMailboxesResponseTable, bytes);
