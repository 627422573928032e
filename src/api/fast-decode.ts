/**
 * Hand-written protobuf decoders for the messages that carry mailboxes to a
 * client: WatchEvent (a proxy receives them by the hundred per second on one
 * connection) and the responses of GetMailbox, LookupMailboxes, LookupStream and
 * ListMailboxes (up to thousands of mailboxes each). Clients use them as
 * grpc-js's deserializers (see proto.ts). proto-loader's generic path (protobufjs
 * decode, then toObject) builds every message twice; these read the bytes once
 * into the same plain object proto-loader gives (snake_case fields, enums as
 * names, 64-bit integers as numbers, defaults filled in).
 * test/property/watch-decode.property.test.ts checks them against proto-loader.
 * Malformed input throws; they never read past the message they are given.
 */

type Plain = Record<string, unknown>;

const watchEventTypes = ['WATCH_EVENT_TYPE_UNSPECIFIED', 'SNAPSHOT', 'SNAPSHOT_END', 'PUT', 'DELETE', 'PROGRESS'];
const mailboxStates = ['MAILBOX_STATE_UNSPECIFIED', 'RESERVED', 'ACTIVE'];

const wireVarint = 0;
const wire64Bit = 1;
const wireBytes = 2;
const wireGroupStart = 3;
const wireGroupEnd = 4;
const wire32Bit = 5;

/** Node's Buffer method behind toString('utf8', start, end), without its argument checks. */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

/** A cursor over one message's bytes, `end` excluded. */
class Reader {
  constructor(
    readonly bytes: Buffer,
    public position: number,
    readonly end: number,
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
    if (wireType === wireVarint) this.varint();
    else if (wireType === wire64Bit) this.advance(8);
    else if (wireType === wireBytes) this.position = this.lengthEnd();
    else if (wireType === wire32Bit) this.advance(4);
    else if (wireType === wireGroupStart) this.skipGroup();
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
      if (wireType === wireGroupStart) depth += 1;
      else if (wireType === wireGroupEnd) depth -= 1;
      else this.skip(wireType);
    }
  }
}

/** Field numbers up to these are the contract's: one of them with another wire type is malformed. */
const pairFieldsMax = 2;
const mailboxFieldsMax = 14;
const watchEventFieldsMax = 3;
const responseFieldsMax = 3;

/** A tag no case took: an unknown field (skipped by the caller), or a known one of the wrong wire type. */
function checkUnknown(tag: number, fieldsMax: number, message: string): void {
  const field = Math.floor(tag / 8);
  if (field >= 1 && field <= fieldsMax) throw new Error(`protobuf: ${message} field ${field} has wire type ${tag & 7}`);
}

/** Reads fields up to `reader.end`, each through `decodeField` (false: not one it knows, skipped as protobuf says). */
type FieldDecoder = (reader: Reader, tag: number) => boolean;

function readFields(reader: Reader, what: string, fieldsMax: number, decodeField: FieldDecoder): void {
  while (reader.position < reader.end) {
    const tag = reader.varint();
    if (decodeField(reader, tag)) continue;
    checkUnknown(tag, fieldsMax, what);
    reader.skip(tag & 7);
  }
}

/** A length-delimited field holding a message, read through `decodeField`. */
function readEmbedded(reader: Reader, what: string, fieldsMax: number, decodeField: FieldDecoder): void {
  const end = reader.lengthEnd();
  readFields(new Reader(reader.bytes, reader.position, end), what, fieldsMax, decodeField);
  reader.position = end;
}

/** Two strings, fields 1 and 2: Location { server, partition } and AclEntry { identifier, rights }. */
function decodePair(reader: Reader, first: string, second: string): Plain {
  const pair: Plain = { [first]: '', [second]: '' };
  readEmbedded(reader, first, pairFieldsMax, (inner, tag) => {
    if (tag === ((1 << 3) | wireBytes)) pair[first] = inner.string();
    else if (tag === ((2 << 3) | wireBytes)) pair[second] = inner.string();
    else return false;
    return true;
  });
  return pair;
}

function emptyMailbox(): Plain {
  return {
    uniqueid: '',
    name: '',
    server: '',
    partition: '',
    replicas: [],
    acl: [],
    mbtype: '',
    state: 'MAILBOX_STATE_UNSPECIFIED',
    uidvalidity: 0,
    createdmodseq: 0,
    foldermodseq: 0,
    revision: 0,
    name_history: [],
    uniqueid_generated: false,
  };
}

/** The fields of a Mailbox (a tag of none of them answers false). */
function decodeMailboxField(mailbox: Plain, inner: Reader, tag: number): boolean {
  switch (tag) {
    case (1 << 3) | wireBytes:
      mailbox['uniqueid'] = inner.string();
      break;
    case (2 << 3) | wireBytes:
      mailbox['name'] = inner.string();
      break;
    case (3 << 3) | wireBytes:
      mailbox['server'] = inner.string();
      break;
    case (4 << 3) | wireBytes:
      mailbox['partition'] = inner.string();
      break;
    case (5 << 3) | wireBytes:
      (mailbox['replicas'] as Plain[]).push(decodePair(inner, 'server', 'partition'));
      break;
    case (6 << 3) | wireBytes:
      (mailbox['acl'] as Plain[]).push(decodePair(inner, 'identifier', 'rights'));
      break;
    case (7 << 3) | wireBytes:
      mailbox['mbtype'] = inner.string();
      break;
    case (8 << 3) | wireVarint: {
      const state = inner.int32();
      mailbox['state'] = mailboxStates[state] ?? state;
      break;
    }
    case (9 << 3) | wireVarint:
      mailbox['uidvalidity'] = inner.varint();
      break;
    case (10 << 3) | wireVarint:
      mailbox['createdmodseq'] = inner.varint();
      break;
    case (11 << 3) | wireVarint:
      mailbox['foldermodseq'] = inner.varint();
      break;
    case (12 << 3) | wireVarint:
      mailbox['revision'] = inner.varint();
      break;
    case (13 << 3) | wireBytes:
      (mailbox['name_history'] as string[]).push(inner.string());
      break;
    case (14 << 3) | wireVarint:
      mailbox['uniqueid_generated'] = inner.varint() !== 0;
      break;
    default:
      return false;
  }
  return true;
}

function decodeMailbox(reader: Reader): Plain {
  const mailbox = emptyMailbox();
  readEmbedded(reader, 'mailbox', mailboxFieldsMax, (inner, tag) => decodeMailboxField(mailbox, inner, tag));
  return mailbox;
}

/**
 * mbdir.v1.WatchEvent { WatchEventType type = 1; Mailbox mailbox = 2; uint64 revision = 3; } as
 * proto-loader gives it, from `bytes` between `start` and `end` (the whole buffer by default).
 */
export function decodeWatchEvent(bytes: Buffer, start = 0, end = bytes.length): Plain {
  if (start < 0 || end > bytes.length || start > end) throw new Error('protobuf: bounds outside the buffer');
  const event: Plain = { type: 'WATCH_EVENT_TYPE_UNSPECIFIED', mailbox: null, revision: 0 };
  readFields(new Reader(bytes, start, end), 'event', watchEventFieldsMax, (reader, tag) => {
    if (tag === ((1 << 3) | wireVarint)) {
      const type = reader.int32();
      event['type'] = watchEventTypes[type] ?? type;
    } else if (tag === ((2 << 3) | wireBytes)) {
      event['mailbox'] = decodeMailbox(reader); // a repeated embedded message replaces the earlier one, as protobufjs does
    } else if (tag === ((3 << 3) | wireVarint)) {
      event['revision'] = reader.varint();
    } else return false;
    return true;
  });
  return event;
}

/** The fields of a whole message in `bytes`. */
function readMessage(bytes: Buffer, what: string, fieldsMax: number, decodeField: FieldDecoder): void {
  readFields(new Reader(bytes, 0, bytes.length), what, fieldsMax, decodeField);
}

/** LookupResult { string name = 1; bool found = 2; Mailbox mailbox = 3; } */
function decodeLookupResult(reader: Reader): Plain {
  const result: Plain = { name: '', found: false, mailbox: null };
  readEmbedded(reader, 'lookup result', responseFieldsMax, (inner, tag) => {
    if (tag === ((1 << 3) | wireBytes)) result['name'] = inner.string();
    else if (tag === ((2 << 3) | wireVarint)) result['found'] = inner.varint() !== 0;
    else if (tag === ((3 << 3) | wireBytes)) result['mailbox'] = decodeMailbox(inner);
    else return false;
    return true;
  });
  return result;
}

/** ListedMailbox { Mailbox mailbox = 1; string my_rights = 2; bool has_children = 3; } */
function decodeListedMailbox(reader: Reader): Plain {
  const listed: Plain = { mailbox: null, my_rights: '', has_children: false };
  readEmbedded(reader, 'listed mailbox', responseFieldsMax, (inner, tag) => {
    if (tag === ((1 << 3) | wireBytes)) listed['mailbox'] = decodeMailbox(inner);
    else if (tag === ((2 << 3) | wireBytes)) listed['my_rights'] = inner.string();
    else if (tag === ((3 << 3) | wireVarint)) listed['has_children'] = inner.varint() !== 0;
    else return false;
    return true;
  });
  return listed;
}

/** MailboxResponse { Mailbox mailbox = 1; uint64 revision = 2; } (GetMailbox's answer). */
export function decodeMailboxResponse(bytes: Buffer): Plain {
  const response: Plain = { mailbox: null, revision: 0 };
  readMessage(bytes, 'mailbox response', responseFieldsMax, (reader, tag) => {
    if (tag === ((1 << 3) | wireBytes)) response['mailbox'] = decodeMailbox(reader);
    else if (tag === ((2 << 3) | wireVarint)) response['revision'] = reader.varint();
    else return false;
    return true;
  });
  return response;
}

/** LookupMailboxesResponse and LookupStreamResponse { repeated LookupResult results = 1; uint64 revision = 2; } */
export function decodeLookupResponse(bytes: Buffer): Plain {
  const results: Plain[] = [];
  const response: Plain = { results, revision: 0 };
  readMessage(bytes, 'lookup response', responseFieldsMax, (reader, tag) => {
    if (tag === ((1 << 3) | wireBytes)) results.push(decodeLookupResult(reader));
    else if (tag === ((2 << 3) | wireVarint)) response['revision'] = reader.varint();
    else return false;
    return true;
  });
  return response;
}

/** ListMailboxesResponse { repeated ListedMailbox mailboxes = 1; string next_page_token = 2; uint64 revision = 3; } */
export function decodeListResponse(bytes: Buffer): Plain {
  const mailboxes: Plain[] = [];
  const response: Plain = { mailboxes, next_page_token: '', revision: 0 };
  readMessage(bytes, 'list response', responseFieldsMax, (reader, tag) => {
    if (tag === ((1 << 3) | wireBytes)) mailboxes.push(decodeListedMailbox(reader));
    else if (tag === ((2 << 3) | wireBytes)) response['next_page_token'] = reader.string();
    else if (tag === ((3 << 3) | wireVarint)) response['revision'] = reader.varint();
    else return false;
    return true;
  });
  return response;
}
