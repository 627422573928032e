/**
 * The lookups `bench mixed` times, sent by a minimal HTTP/2 client written on
 * a plain socket, their frames encoded before the phase starts. Any client on
 * node:http2 (grpc-js included) creates an Http2Stream per call, held by a
 * native handle that young-generation collections keep alive: each call's
 * objects are promoted and copied, and at 1,000 calls/s the load generator's
 * own scavenges (7-28 ms) made most of the quiet phase's p99, so the bench
 * timed itself. Here a call allocates nothing: its frames are copied from a
 * template into one write per tick, and the answers are read into one buffer
 * the connection keeps (net's `onread`) and parsed there: 'data' events cost
 * a fresh chunk per read, and a copy of every frame split across two reads,
 * which a LIST's answer always is.
 *
 * It speaks just enough HTTP/2 (RFC 9113) for gRPC calls to one server, unary
 * ones (a stream each) or LookupStream messages (one stream a connection):
 * the preface and SETTINGS, SETTINGS/PING acknowledgements, both flow-control
 * windows (it opens its receive windows wide and returns what it reads; it
 * holds requests back while the server's window or stream limit is full),
 * RST_STREAM and GOAWAY. Header blocks are HPACK literals that never touch the
 * dynamic table, so nothing the server sends needs decoding: an answer that
 * carries a message and then trailers is a found mailbox; a trailers-only
 * answer is how gRPC reports an error (here: usually no such mailbox), and is
 * counted as one without decoding its status. On a LookupStream the n-th
 * answer is the n-th message's (the node answers in order). It is a load generator, not a
 * client: TLS, tokens, and reading the answers are out of its scope.
 */
import net from 'node:net';
import { packageDefinition } from '../../src/api/proto.js';

/** A method of mbdir.v1.Mailboxes: its path and request encoder, from the contract itself. */
function mailboxesMethod(name: string): { path: string; requestSerialize: (value: object) => Buffer } {
  const method = (packageDefinition['mbdir.v1.Mailboxes'] as Record<string, { path: string; requestSerialize: (value: object) => Buffer } | undefined>)[name];
  if (method === undefined) throw new Error(`the mbdir.v1 contract has no Mailboxes.${name}`);
  return method;
}

/** The methods this sender calls: unary ones, a stream per call; LookupStream, a call per message. */
export type LeanMethod = 'GetMailbox' | 'ListMailboxes' | 'LookupStream';

const frameHeaderBytes = 9;
const enum FrameType { Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8 }
/** Frame flags: END_STREAM on DATA and HEADERS, ACK on SETTINGS and PING (the same bit), END_HEADERS. */
const endStreamFlag = 0x1;
const ackFlag = 0x1;
const endHeadersFlag = 0x4;
const paddedFlag = 0x8;
const enum Setting { MaxConcurrentStreams = 0x3, InitialWindowSize = 0x4 }
/** The receive window this client asks for, on each stream and on the connection (the largest HTTP/2 allows). */
const receiveWindow = 2 ** 31 - 1;
/** What the client returns to the server's connection window once it has read this much. */
const windowReturnBytes = 1 << 20;
/** HTTP/2's default window, until the server's SETTINGS say otherwise. */
const defaultWindow = 65_535;
/** Calls one connection keeps waiting for the server's window or stream limit, at most. */
const queuedCallsMax = 100_000;
/** The largest frame payload a server may send this client: HTTP/2's default SETTINGS_MAX_FRAME_SIZE, which it never raises. */
const maxFramePayload = 16_384;
/** Each connection's read buffer: the frames of one read, parsed where they landed (a partial frame moves to the front). */
const readBufferBytes = 1 << 20;

/** A GetMailbox request by name as its gRPC length-prefixed message (not compressed). */
export function getMailboxFrame(name: string): Buffer {
  return requestFrame('GetMailbox', { name });
}

/** A request of `method` as its gRPC length-prefixed message (not compressed). */
export function requestFrame(method: LeanMethod, request: object): Buffer {
  const message = mailboxesMethod(method).requestSerialize(request);
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** An HPACK string literal, not Huffman-coded (RFC 7541 5.2). */
function hpackString(value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7, 0x00), bytes]);
}

/** An HPACK integer with an `prefixBits` prefix under `firstByteFlags` (RFC 7541 5.1). */
function hpackInteger(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) return Buffer.from([firstByteFlags | value]);
  const bytes = [firstByteFlags | limit];
  let rest = value - limit;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** The request's header block: static-table entries and literals without indexing (RFC 7541 6.1, 6.2.2). */
function requestHeaderBlock(authority: string, path: string): Buffer {
  const literalWithIndexedName = (index: number, value: string): Buffer => Buffer.concat([hpackInteger(index, 4, 0x00), hpackString(value)]);
  return Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http
    literalWithIndexedName(4, path), // :path
    literalWithIndexedName(1, authority), // :authority
    literalWithIndexedName(31, 'application/grpc'), // content-type
    Buffer.from([0x00]), hpackString('te'), hpackString('trailers'),
  ]);
}

function writeFrameHeader(into: Buffer, offset: number, length: number, type: FrameType, flags: number, streamId: number): void {
  into.writeUIntBE(length, offset, 3);
  into.writeUInt8(type, offset + 3);
  into.writeUInt8(flags, offset + 4);
  into.writeUInt32BE(streamId, offset + 5);
}

function frame(type: FrameType, flags: number, streamId: number, payload: Buffer): Buffer {
  const bytes = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  writeFrameHeader(bytes, 0, payload.length, type, flags, streamId);
  payload.copy(bytes, frameHeaderBytes);
  return bytes;
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FrameType.WindowUpdate, 0, streamId, payload);
}

/** Called once per call with the call's tag and null when the node answered with a message, else what went wrong. */
export type LookupDone = (tag: number, error: string | null) => void;

/**
 * One HTTP/2 connection to the node: the preface, SETTINGS and PING answers,
 * the connection's windows both ways, and frames read in place. What a frame
 * of a stream means is the subclass's (a call per stream, or one stream of
 * many calls).
 */
abstract class Connection {
  protected readonly socket: net.Socket;
  protected readonly headerBlock: Buffer;
  protected sendWindow = defaultWindow;
  /** The send window each new stream starts with (the server's SETTINGS_INITIAL_WINDOW_SIZE). */
  protected initialStreamWindow = defaultWindow;
  protected maxStreams = Number.POSITIVE_INFINITY;
  protected failure: string | null = null;
  private unreturnedBytes = 0;
  /** Where reads land; bytes `parsed`..`received` are a frame not yet whole. */
  private readonly inbox = Buffer.allocUnsafe(readBufferBytes);
  private received = 0;
  private parsed = 0;

  constructor(host: string, port: number, path: string, protected readonly done: LookupDone) {
    this.headerBlock = requestHeaderBlock(`${host}:${port}`, path);
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: () => this.inbox.subarray(this.received), callback: (bytes: number) => this.read(bytes) },
    });
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(Setting.InitialWindowSize, 0);
    settings.writeUInt32BE(receiveWindow, 2);
    settings.writeUInt16BE(0x2, 6); // ENABLE_PUSH
    settings.writeUInt32BE(0, 8);
    this.socket.write(Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
      frame(FrameType.Settings, 0, 0, settings),
      windowUpdate(0, receiveWindow - defaultWindow),
    ]));
    this.socket.on('error', (error: Error) => this.fail(`connection failed: ${error.message}`));
    this.socket.on('close', () => this.fail('connection closed'));
  }

  /** Sends the calls now (as many as the server's windows and stream limit allow), in one write. */
  abstract send(calls: ReadonlyArray<readonly [number, Buffer]>): void;

  close(): void {
    this.socket.end();
  }

  /** Writes what the server's windows now allow of the calls waiting. */
  protected abstract flush(): void;
  /** DATA of a stream: `start`..`end` is its content, padding left out. */
  protected abstract onData(streamId: number, endStream: boolean, buffer: Buffer, start: number, end: number): void;
  /** A header block of a stream (not decoded). */
  protected abstract onHeaders(streamId: number, endStream: boolean): void;
  protected abstract onReset(streamId: number, reason: string): void;
  protected abstract onStreamWindow(streamId: number, increment: number): void;
  /** The server changed SETTINGS_INITIAL_WINDOW_SIZE by `delta`: open streams' windows move with it (RFC 9113 6.9.2). */
  protected abstract onInitialWindowChange(delta: number): void;
  /** Every call waiting or in flight has failed with `reason`. */
  protected abstract failAll(reason: string): void;

  protected fail(reason: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    this.failAll(reason);
  }

  /** `bytes` more landed in the inbox: handles every whole frame, and keeps a partial one at the front; true: read on. */
  private read(bytes: number): boolean {
    const inbox = this.inbox;
    this.received += bytes;
    while (this.failure === null && this.received - this.parsed >= frameHeaderBytes) {
      const offset = this.parsed;
      const length = inbox.readUIntBE(offset, 3);
      if (length > maxFramePayload) {
        this.fail(`the server sent a ${length}-byte frame, larger than HTTP/2's default limit of ${maxFramePayload}`);
        this.socket.destroy();
        return false;
      }
      if (this.received - offset < frameHeaderBytes + length) break;
      const type = inbox.readUInt8(offset + 3) as FrameType;
      const flags = inbox.readUInt8(offset + 4);
      const streamId = inbox.readUInt32BE(offset + 5) & 0x7fff_ffff;
      this.parsed += frameHeaderBytes + length;
      this.onFrame(type, flags, streamId, inbox, offset + frameHeaderBytes, length);
    }
    if (this.parsed > 0) {
      inbox.copy(inbox, 0, this.parsed, this.received);
      this.received -= this.parsed;
      this.parsed = 0;
    }
    this.flush();
    return true;
  }

  private onFrame(type: FrameType, flags: number, streamId: number, buffer: Buffer, start: number, length: number): void {
    switch (type) {
      case FrameType.Data: {
        this.unreturnedBytes += length;
        if (this.unreturnedBytes >= windowReturnBytes) {
          this.socket.write(windowUpdate(0, this.unreturnedBytes));
          this.returnStreamWindow(this.unreturnedBytes);
          this.unreturnedBytes = 0;
        }
        const padding = (flags & paddedFlag) !== 0 ? buffer.readUInt8(start) : 0;
        const contentStart = (flags & paddedFlag) !== 0 ? start + 1 : start;
        this.onData(streamId, (flags & endStreamFlag) !== 0, buffer, contentStart, start + length - padding);
        return;
      }
      case FrameType.Headers:
        this.onHeaders(streamId, (flags & endStreamFlag) !== 0);
        return;
      case FrameType.RstStream:
        this.onReset(streamId, `stream reset by the server (HTTP/2 error ${buffer.readUInt32BE(start)})`);
        return;
      case FrameType.Settings:
        if ((flags & ackFlag) !== 0) return;
        for (let at = start; at + 6 <= start + length; at += 6) {
          const value = buffer.readUInt32BE(at + 2);
          const id = buffer.readUInt16BE(at);
          if (id === Setting.MaxConcurrentStreams) this.maxStreams = value;
          if (id === Setting.InitialWindowSize) {
            this.onInitialWindowChange(value - this.initialStreamWindow);
            this.initialStreamWindow = value;
          }
        }
        this.socket.write(frame(FrameType.Settings, ackFlag, 0, Buffer.alloc(0)));
        return;
      case FrameType.Ping:
        if ((flags & ackFlag) === 0) this.socket.write(frame(FrameType.Ping, ackFlag, 0, buffer.subarray(start, start + length)));
        return;
      case FrameType.GoAway:
        this.fail(`the server sent GOAWAY (HTTP/2 error ${buffer.readUInt32BE(start + 4)})`);
        return;
      case FrameType.WindowUpdate: {
        const increment = buffer.readUInt32BE(start) & 0x7fff_ffff;
        if (streamId === 0) this.sendWindow += increment;
        else this.onStreamWindow(streamId, increment);
        return;
      }
      default:
        return; // PRIORITY, CONTINUATION of a block it does not decode, unknown types: ignored (RFC 9113 5.5)
    }
  }

  /** Streams that live long enough to read past their receive window get it back here (a unary call never does). */
  protected returnStreamWindow(_bytes: number): void {}
}

/** Unary calls: one stream each, its request in one HEADERS and one DATA frame. */
class UnaryConnection extends Connection {
  /** Open streams: stream id -> the call's tag, times 2, plus 1 once a message arrived. */
  private readonly open = new Map<number, number>();
  /** Calls waiting for the server's window or stream limit: [tag, frame] pairs in order. */
  private readonly queue: Array<[number, Buffer]> = [];
  private nextStreamId = 1;

  send(calls: ReadonlyArray<readonly [number, Buffer]>): void {
    for (const call of calls) {
      if (this.failure !== null) {
        this.done(call[0], this.failure);
        continue;
      }
      if (this.queue.length >= queuedCallsMax) {
        this.done(call[0], `over ${queuedCallsMax} calls waiting for the server's flow-control window`);
        continue;
      }
      this.queue.push([call[0], call[1]]);
    }
    this.flush();
  }

  protected flush(): void {
    let count = 0;
    let bytes = 0;
    let window = this.sendWindow;
    for (const [, body] of this.queue) {
      if (this.open.size + count >= this.maxStreams || body.length > window || body.length > this.initialStreamWindow) break;
      window -= body.length;
      bytes += 2 * frameHeaderBytes + this.headerBlock.length + body.length;
      count += 1;
    }
    if (count === 0) return;
    const out = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (const [tag, body] of this.queue.splice(0, count)) {
      const streamId = this.nextStreamId;
      this.nextStreamId += 2;
      this.open.set(streamId, tag * 2);
      writeFrameHeader(out, offset, this.headerBlock.length, FrameType.Headers, endHeadersFlag, streamId);
      offset += frameHeaderBytes + this.headerBlock.copy(out, offset + frameHeaderBytes);
      writeFrameHeader(out, offset, body.length, FrameType.Data, endStreamFlag, streamId);
      offset += frameHeaderBytes + body.copy(out, offset + frameHeaderBytes);
      this.sendWindow -= body.length;
    }
    this.socket.write(out);
  }

  protected onData(streamId: number, endStream: boolean, _buffer: Buffer, start: number, end: number): void {
    const state = this.open.get(streamId);
    if (state === undefined) return;
    if (end - start > 5) this.open.set(streamId, state | 1); // a gRPC message with content
    if (endStream) this.finish(streamId, 'the answer ended without trailers');
  }

  protected onHeaders(streamId: number, endStream: boolean): void {
    if (endStream) this.finish(streamId, null);
  }

  protected onReset(streamId: number, reason: string): void {
    this.finish(streamId, reason);
  }

  protected onStreamWindow(): void {} // a request is one small DATA frame: the initial window is all it uses
  protected onInitialWindowChange(): void {}

  protected failAll(reason: string): void {
    for (const [streamId] of this.open) this.finish(streamId, reason);
    for (const [tag] of this.queue.splice(0)) this.done(tag, reason);
  }

  /** A stream ended: with trailers after a message (found), trailers only (a gRPC error), or `error`. */
  private finish(streamId: number, error: string | null): void {
    const state = this.open.get(streamId);
    if (state === undefined) return;
    this.open.delete(streamId);
    const answered = (state & 1) === 1;
    const outcome = error ?? (answered ? null : 'answered with a gRPC error (a trailers-only answer; a missing mailbox, for one)');
    this.done(Math.floor(state / 2), outcome);
  }
}

/**
 * LookupStream: one stream the connection's life, a call per message. The
 * node answers each message with one, in order, so the n-th answer is the
 * n-th call's. The answers are not decoded: a message with content is an
 * answer (a name not found is one too: its result says so), an empty one or
 * the stream's end is an error.
 */
class StreamConnection extends Connection {
  private static readonly streamId = 1;
  /** Tags of the calls sent and not answered, oldest first (from `answered` on). */
  private readonly waiting: number[] = [];
  private answered = 0;
  private readonly queue: Array<[number, Buffer]> = [];
  private streamSendWindow = defaultWindow;
  /** Where the reading of the current answer is: bytes of its 5-byte prefix still to come, its length, bytes of it still to come. */
  private prefixLeft = 5;
  private messageLength = 0;
  private bodyLeft = 0;

  constructor(host: string, port: number, path: string, done: LookupDone) {
    super(host, port, path, done);
    const headers = Buffer.allocUnsafe(frameHeaderBytes + this.headerBlock.length);
    writeFrameHeader(headers, 0, this.headerBlock.length, FrameType.Headers, endHeadersFlag, StreamConnection.streamId);
    this.headerBlock.copy(headers, frameHeaderBytes);
    this.socket.write(headers);
  }

  send(calls: ReadonlyArray<readonly [number, Buffer]>): void {
    for (const call of calls) {
      if (this.failure !== null) this.done(call[0], this.failure);
      else if (this.queue.length >= queuedCallsMax) this.done(call[0], `over ${queuedCallsMax} calls waiting for the server's flow-control window`);
      else this.queue.push([call[0], call[1]]);
    }
    this.flush();
  }

  protected flush(): void {
    let count = 0;
    let bytes = 0;
    let window = Math.min(this.sendWindow, this.streamSendWindow);
    for (const [, body] of this.queue) {
      if (body.length > window) break;
      window -= body.length;
      bytes += frameHeaderBytes + body.length;
      count += 1;
    }
    if (count === 0) return;
    const out = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (const [tag, body] of this.queue.splice(0, count)) {
      this.waiting.push(tag);
      writeFrameHeader(out, offset, body.length, FrameType.Data, 0, StreamConnection.streamId);
      offset += frameHeaderBytes + body.copy(out, offset + frameHeaderBytes);
      this.sendWindow -= body.length;
      this.streamSendWindow -= body.length;
    }
    this.socket.write(out);
  }

  protected onData(streamId: number, endStream: boolean, buffer: Buffer, start: number, end: number): void {
    if (streamId !== StreamConnection.streamId) return;
    let at = start;
    while (at < end) {
      if (this.prefixLeft > 0) {
        if (this.prefixLeft <= 4) this.messageLength = this.messageLength * 256 + buffer.readUInt8(at);
        this.prefixLeft -= 1;
        at += 1;
        this.bodyLeft = this.messageLength;
      } else {
        const taken = Math.min(this.bodyLeft, end - at);
        this.bodyLeft -= taken;
        at += taken;
      }
      if (this.prefixLeft === 0 && this.bodyLeft === 0) this.answerNext();
    }
    if (endStream) this.fail('the LookupStream ended without trailers');
  }

  protected onHeaders(streamId: number, endStream: boolean): void {
    // The first block is the response's headers; one that ends the stream is its trailers.
    if (streamId === StreamConnection.streamId && endStream) this.fail('the node ended the LookupStream (its trailers carry the gRPC status)');
  }

  protected onReset(streamId: number, reason: string): void {
    if (streamId === StreamConnection.streamId) this.fail(reason);
  }

  protected onStreamWindow(streamId: number, increment: number): void {
    if (streamId === StreamConnection.streamId) this.streamSendWindow += increment;
  }

  protected onInitialWindowChange(delta: number): void {
    this.streamSendWindow += delta;
  }

  protected override returnStreamWindow(bytes: number): void {
    this.socket.write(windowUpdate(StreamConnection.streamId, bytes));
  }

  protected failAll(reason: string): void {
    for (const tag of this.waiting.splice(this.answered)) this.done(tag, reason);
    this.waiting.length = 0;
    this.answered = 0;
    for (const [tag] of this.queue.splice(0)) this.done(tag, reason);
  }

  private answerNext(): void {
    const length = this.messageLength;
    this.prefixLeft = 5;
    this.messageLength = 0;
    const tag = this.waiting[this.answered];
    if (tag === undefined) {
      this.fail('the node sent an answer to no call');
      return;
    }
    this.answered += 1;
    // Answered calls are dropped from the front in bulk, not one shift() each.
    if (this.answered >= 1024 && this.answered * 2 >= this.waiting.length) {
      this.waiting.splice(0, this.answered);
      this.answered = 0;
    }
    this.done(tag, length > 0 ? null : 'an empty answer');
  }
}

/** Calls of one method (GetMailbox unless told; LookupStream: one stream a connection) spread over `connections` HTTP/2 connections to `endpoint` (host:port, no TLS, no token). */
export class LeanLookups {
  private readonly connections: Connection[];
  private readonly batches: Array<Array<[number, Buffer]>>;
  private next = 0;
  /** Where answers go: the phase under way sets it (onAnswer). */
  private handler: LookupDone = () => undefined;

  constructor(endpoint: string, connections: number, method: LeanMethod = 'GetMailbox') {
    const colon = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(endpoint.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port)) throw new Error(`bench mixed: endpoint ${JSON.stringify(endpoint)} is not host:port`);
    const path = mailboxesMethod(method).path;
    const done: LookupDone = (tag, error) => this.handler(tag, error);
    this.connections = Array.from({ length: Math.max(1, connections) }, () =>
      method === 'LookupStream' ? new StreamConnection(host, port, path, done) : new UnaryConnection(host, port, path, done));
    this.batches = this.connections.map(() => []);
  }

  /** Sends every answer from now on to `done`. */
  onAnswer(done: LookupDone): void {
    this.handler = done;
  }

  /** Queues one call (a requestFrame of the method) under `tag`; calls queued in one tick leave together on send(). */
  add(tag: number, request: Buffer): void {
    (this.batches[this.next] as Array<[number, Buffer]>).push([tag, request]);
    this.next = (this.next + 1) % this.connections.length;
  }

  /** Sends the calls queued since the last send, one write per connection. */
  send(): void {
    this.connections.forEach((connection, index) => {
      const batch = this.batches[index] as Array<[number, Buffer]>;
      if (batch.length === 0) return;
      connection.send(batch);
      batch.length = 0;
    });
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }
}
