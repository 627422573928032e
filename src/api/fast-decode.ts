/**
 * Hand-written protobuf decoders for the messages that carry mailboxes to a
 * client: WatchEvent (a proxy receives them by the hundred per second on one
 * connection) and the responses of GetMailbox, LookupMailboxes, LookupStream and
 * ListMailboxes (up to thousands of mailboxes each). Clients use them as
 * grpc-js's deserializers (see proto.ts). proto-loader's generic path (protobufjs
 * decode, then toObject) builds every message twice; these read the bytes once,
 * field by field as the tables of fast-fields.ts say (checked against the .proto
 * when src/api loads), into the plain object proto-loader gives (snake_case
 * fields, enums as names, 64-bit integers as numbers, defaults filled in).
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

/** A message's fields with their defaults, as proto-loader fills them in (`defaults: true`). */
function emptyMessage(table: FastMessage): Plain {
  const message: Plain = {};
  for (const entry of table.fields) {
    if (entry.repeated) message[entry.name] = [];
    else if (entry.kind === fieldKind.string) message[entry.name] = '';
    else if (entry.kind === fieldKind.uint64) message[entry.name] = 0;
    else if (entry.kind === fieldKind.bool) message[entry.name] = false;
    else if (entry.kind === fieldKind.enumeration) message[entry.name] = entry.values[0];
    else message[entry.name] = null;
  }
  return message;
}

/**
 * `table`'s fields from `reader` up to its end. An embedded message is read by
 * the same function with the end narrowed: the depth is the tables' nesting
 * (a Mailbox inside a response, a Location inside it), never the input's.
 */
function readMessage(reader: Reader, table: FastMessage): Plain {
  const message = emptyMessage(table);
  while (reader.position < reader.end) {
    const tag = reader.varint();
    const entry = table.byTag[tag];
    if (entry === undefined) {
      skipUnknown(reader, table, tag);
      continue;
    }
    const value = readValue(reader, entry);
    if (entry.repeated) (message[entry.name] as unknown[]).push(value);
    else message[entry.name] = value; // a repeated embedded message replaces the earlier one, as protobufjs does
  }
  return message;
}

function readValue(reader: Reader, entry: FastField): unknown {
  switch (entry.kind) {
    case fieldKind.string:
      return reader.string();
    case fieldKind.uint64:
      return reader.varint();
    case fieldKind.bool:
      return reader.varint() !== 0;
    case fieldKind.enumeration: {
      const number = reader.int32();
      return entry.values[number] ?? number;
    }
    default: {
      const end = reader.lengthEnd();
      const outerEnd = reader.end;
      reader.end = end;
      const message = readMessage(reader, entry.message as FastMessage);
      reader.end = outerEnd;
      return message;
    }
  }
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
  return readMessage(new Reader(bytes, start, end), table);
}

/** mbdir.v1.WatchEvent as proto-loader gives it, from `bytes` between `start` and `end` (a DATA chunk may hold more). */
export const decodeWatchEvent = (bytes: Buffer, start = 0, end = bytes.length): Plain => decodeMessage(watchEventTable, bytes, start, end);
/** MailboxResponse (GetMailbox's answer). */
export const decodeMailboxResponse = (bytes: Buffer): Plain => decodeMessage(mailboxResponseTable, bytes);
/** LookupMailboxesResponse and LookupStreamResponse (the same fields). */
export const decodeLookupResponse = (bytes: Buffer): Plain => decodeMessage(lookupMailboxesResponseTable, bytes);
/** ListMailboxesResponse. */
export const decodeListResponse = (bytes: Buffer): Plain => decodeMessage(listMailboxesResponseTable, bytes);
