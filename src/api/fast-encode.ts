/**
 * Hand-written protobuf encoders for the responses that carry mailboxes by the
 * dozen (GetMailbox, LookupMailboxes, LookupStream, ListMailboxes). The generic
 * path (proto-loader: fromObject, then protobufjs's writer) spends about 5 µs
 * per mailbox; sizing each message first and writing it into one buffer costs
 * a fraction of that, and LIST and the lookups are mostly this.
 *
 * It takes the same plain objects as proto-loader (snake_case fields, enums as
 * their names, 64-bit integers as numbers below 2^53) and writes standard
 * proto3: default values are left out. test/property/fast-encode.test.ts checks
 * that protobufjs decodes every output to what the generic encoder's gives.
 * It must never be the only encoder: methods not listed in proto.ts keep theirs.
 */

type Plain = Record<string, unknown>;

const mailboxStates: Record<string, number> = { MAILBOX_STATE_UNSPECIFIED: 0, RESERVED: 1, ACTIVE: 2 };

const wireVarint = 0;
const wireBytes = 2;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const stateNumber = (value: unknown): number => (typeof value === 'number' ? value : (mailboxStates[text(value)] ?? 0));
const whole = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

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
  if (value < 0) return 10; // int32 negatives take ten bytes; none of ours are negative
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

/** A field's tag, key and payload sizes, computed once per message and written in the same order. */
class Writer {
  position = 0;

  constructor(readonly buffer: Buffer) {}

  varint(value: number): void {
    while (value >= 128) {
      this.buffer[this.position++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.buffer[this.position++] = value;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  string(field: number, value: string, bytes: number): void {
    if (bytes === 0) return;
    this.tag(field, wireBytes);
    this.varint(bytes);
    this.text(value, bytes);
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

  number(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, wireVarint);
    this.varint(value);
  }

  header(field: number, bytes: number): void {
    this.tag(field, wireBytes);
    this.varint(bytes);
  }
}

// Sizes: a field's full size (tag + length + payload), 0 when it is left out.
const stringField = (field: number, bytes: number): number => (bytes === 0 ? 0 : varintSize(field * 8) + varintSize(bytes) + bytes);
const numberField = (field: number, value: number): number => (value === 0 ? 0 : varintSize(field * 8) + varintSize(value));
const messageField = (field: number, bytes: number): number => varintSize(field * 8) + varintSize(bytes) + bytes;

/** A message of two strings, fields 1 and 2 (Location, AclEntry), with their UTF-8 lengths and its size. */
interface PairPlan {
  first: string;
  second: string;
  firstBytes: number;
  secondBytes: number;
  size: number;
}

function planPair(entry: unknown, firstKey: string, secondKey: string): PairPlan {
  const first = text((entry as Plain)[firstKey]);
  const second = text((entry as Plain)[secondKey]);
  const firstBytes = utf8Length(first);
  const secondBytes = utf8Length(second);
  return { first, second, firstBytes, secondBytes, size: stringField(1, firstBytes) + stringField(2, secondBytes) };
}

function writePair(writer: Writer, field: number, pair: PairPlan): void {
  writer.header(field, pair.size);
  writer.string(1, pair.first, pair.firstBytes);
  writer.string(2, pair.second, pair.secondBytes);
}

/** A Mailbox's strings' UTF-8 lengths, measured once for sizing and writing. */
interface MailboxPlan {
  mailbox: Plain;
  lengths: number[];
  replicas: PairPlan[];
  acl: PairPlan[];
  history: Array<{ name: string; bytes: number }>;
  size: number;
}

const mailboxStringFields = [
  ['uniqueid', 1],
  ['name', 2],
  ['server', 3],
  ['partition', 4],
  ['mbtype', 7],
] as const;
const mailboxNumberFields = [
  ['uidvalidity', 9],
  ['createdmodseq', 10],
  ['foldermodseq', 11],
  ['revision', 12],
] as const;

/** `bool uniqueid_generated = 14` as its varint (0 is not written). */
const generatedFlag = (mailbox: Plain): number => (mailbox['uniqueid_generated'] === true ? 1 : 0);

function planMailbox(mailbox: Plain): MailboxPlan {
  let size = 0;
  const lengths = mailboxStringFields.map(([key, field]) => {
    const bytes = utf8Length(text(mailbox[key]));
    size += stringField(field, bytes);
    return bytes;
  });
  const replicas = list(mailbox['replicas']).map((entry) => planPair(entry, 'server', 'partition'));
  const acl = list(mailbox['acl']).map((entry) => planPair(entry, 'identifier', 'rights'));
  for (const replica of replicas) size += messageField(5, replica.size);
  for (const ace of acl) size += messageField(6, ace.size);
  size += numberField(8, stateNumber(mailbox['state']));
  for (const [key, field] of mailboxNumberFields) size += numberField(field, whole(mailbox[key]));
  size += numberField(14, generatedFlag(mailbox));
  const history = list(mailbox['name_history']).map((entry) => {
    const name = text(entry);
    const bytes = utf8Length(name);
    // Repeated strings are written even when empty: an empty entry is still an entry.
    size += messageField(13, bytes);
    return { name, bytes };
  });
  return { mailbox, lengths, replicas, acl, history, size };
}

function writeMailbox(writer: Writer, plan: MailboxPlan): void {
  const { mailbox } = plan;
  // Fields may come in any order on the wire: the strings first, then the rest.
  mailboxStringFields.forEach(([key, field], index) => writer.string(field, text(mailbox[key]), plan.lengths[index] ?? 0));
  for (const replica of plan.replicas) writePair(writer, 5, replica);
  for (const ace of plan.acl) writePair(writer, 6, ace);
  writer.number(8, stateNumber(mailbox['state']));
  for (const [key, field] of mailboxNumberFields) writer.number(field, whole(mailbox[key]));
  writer.number(14, generatedFlag(mailbox));
  for (const entry of plan.history) {
    writer.header(13, entry.bytes);
    writer.text(entry.name, entry.bytes);
  }
}

/** A message holding mailboxes: its planned parts, summed, then written into one buffer. */
function finish(size: number, write: (writer: Writer) => void): Buffer {
  const writer = new Writer(Buffer.allocUnsafe(size));
  write(writer);
  if (writer.position !== size) throw new Error(`fast-encode: wrote ${writer.position} bytes of ${size}`);
  return writer.buffer;
}

const optionalMailbox = (value: unknown): MailboxPlan | null =>
  value === null || value === undefined ? null : planMailbox(value as Plain);

/** mbdir.v1.MailboxResponse { Mailbox mailbox = 1; uint64 revision = 2; } */
export function encodeMailboxResponse(response: Plain): Buffer {
  const mailbox = optionalMailbox(response['mailbox']);
  const revision = whole(response['revision']);
  const size = (mailbox === null ? 0 : messageField(1, mailbox.size)) + numberField(2, revision);
  return finish(size, (writer) => {
    if (mailbox !== null) {
      writer.header(1, mailbox.size);
      writeMailbox(writer, mailbox);
    }
    writer.number(2, revision);
  });
}

/** LookupMailboxesResponse and LookupStreamResponse: { repeated LookupResult results = 1; uint64 revision = 2; } */
export function encodeLookupResponse(response: Plain): Buffer {
  const results = list(response['results']).map((entry) => {
    const result = entry as Plain;
    const name = text(result['name']);
    const nameBytes = utf8Length(name);
    const found = result['found'] === true;
    const mailbox = optionalMailbox(result['mailbox']);
    const size = stringField(1, nameBytes) + (found ? 2 : 0) + (mailbox === null ? 0 : messageField(3, mailbox.size));
    return { name, nameBytes, found, mailbox, size };
  });
  const revision = whole(response['revision']);
  const size = results.reduce((sum, result) => sum + messageField(1, result.size), 0) + numberField(2, revision);
  return finish(size, (writer) => {
    for (const result of results) {
      writer.header(1, result.size);
      writer.string(1, result.name, result.nameBytes);
      if (result.found) writer.number(2, 1);
      if (result.mailbox !== null) {
        writer.header(3, result.mailbox.size);
        writeMailbox(writer, result.mailbox);
      }
    }
    writer.number(2, revision);
  });
}

/** ListMailboxesResponse { repeated ListedMailbox mailboxes = 1; string next_page_token = 2; uint64 revision = 3; } */
export function encodeListResponse(response: Plain): Buffer {
  const entries = list(response['mailboxes']).map((entry) => {
    const listed = entry as Plain;
    const mailbox = optionalMailbox(listed['mailbox']);
    const rights = text(listed['my_rights']);
    const rightsBytes = utf8Length(rights);
    const hasChildren = listed['has_children'] === true;
    const size = (mailbox === null ? 0 : messageField(1, mailbox.size)) + stringField(2, rightsBytes) + (hasChildren ? 2 : 0);
    return { mailbox, rights, rightsBytes, hasChildren, size };
  });
  const token = text(response['next_page_token']);
  const tokenBytes = utf8Length(token);
  const revision = whole(response['revision']);
  const size = entries.reduce((sum, entry) => sum + messageField(1, entry.size), 0) + stringField(2, tokenBytes) + numberField(3, revision);
  return finish(size, (writer) => {
    for (const entry of entries) {
      writer.header(1, entry.size);
      if (entry.mailbox !== null) {
        writer.header(1, entry.mailbox.size);
        writeMailbox(writer, entry.mailbox);
      }
      writer.string(2, entry.rights, entry.rightsBytes);
      if (entry.hasChildren) writer.number(3, 1);
    }
    writer.string(2, token, tokenBytes);
    writer.number(3, revision);
  });
}
