/**
 * A raw gRPC client for tests that must send what no well-behaved client
 * would: arbitrary bytes as a request, messages of an exact size, wire types
 * that do not match the contract. Requests are Buffers passed through
 * unchanged; answers come back as a status code and details, never thrown.
 */
import * as grpc from '@grpc/grpc-js';

export interface RawAnswer {
  code: grpc.status;
  details: string;
  bytes: Buffer | null;
}

const identity = (bytes: Buffer): Buffer => bytes;

export class RawClient {
  readonly client: grpc.Client;

  constructor(
    endpoint: string,
    private readonly token: string | null = null,
  ) {
    // No client-side size limits: the server's limits are what is under test.
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
    });
  }

  metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token !== null) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  /** One unary call of `path` (e.g. /mbdir.v1.Mailboxes/CreateMailbox) with `bytes` as the request. */
  unary(path: string, bytes: Buffer, deadlineMs = 20_000): Promise<RawAnswer> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, bytes, this.metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
        if (error !== null) resolve({ code: error.code, details: error.details, bytes: null });
        else resolve({ code: grpc.status.OK, details: '', bytes: response ?? null });
      });
    });
  }

  /** A client stream whose messages are raw bytes; resolves with the final status. */
  clientStream(path: string, messages: Buffer[]): Promise<RawAnswer> {
    return new Promise((resolve) => {
      const call = this.client.makeClientStreamRequest(path, identity, identity, this.metadata(), { deadline: Date.now() + 20_000 }, (error, response) => {
        if (error !== null) resolve({ code: error.code, details: error.details, bytes: null });
        else resolve({ code: grpc.status.OK, details: '', bytes: response ?? null });
      });
      for (const message of messages) call.write(message);
      call.end();
    });
  }

  /** A server stream whose request is raw bytes; resolves with the final status and the messages received. */
  serverStream(path: string, bytes: Buffer): Promise<RawAnswer & { messages: number }> {
    return new Promise((resolve) => {
      let messages = 0;
      const call = this.client.makeServerStreamRequest(path, identity, identity, bytes, this.metadata(), { deadline: Date.now() + 20_000 });
      call.on('data', () => (messages += 1));
      call.on('error', (error: grpc.ServiceError) => resolve({ code: error.code, details: error.details, bytes: null, messages }));
      call.on('end', () => resolve({ code: grpc.status.OK, details: '', bytes: null, messages }));
    });
  }

  close(): void {
    this.client.close();
  }
}

// ------------------------------------------------------------ protobuf wire encoding by hand

export const wireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

export function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** One field: tag then payload (a number for varints, bytes or a string for length-delimited fields). */
export function field(fieldNumber: number, type: number, payload: number | string | Buffer): Buffer {
  const tag = varint(fieldNumber * 8 + type);
  if (typeof payload === 'number') return Buffer.concat([tag, varint(payload)]);
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (type === wireType.lengthDelimited) return Buffer.concat([tag, varint(bytes.length), bytes]);
  return Buffer.concat([tag, bytes]);
}

export const message = (...fields: Buffer[]): Buffer => Buffer.concat(fields);

/** Pads a message with an unknown length-delimited field (number 1000) so it is exactly `size` bytes. */
export function padTo(base: Buffer, size: number): Buffer {
  const tag = varint(1000 * 8 + wireType.lengthDelimited);
  for (let lengthBytes = 1; lengthBytes <= 5; lengthBytes += 1) {
    const payload = size - base.length - tag.length - lengthBytes;
    if (payload >= 0 && varint(payload).length === lengthBytes) {
      return Buffer.concat([base, tag, varint(payload), Buffer.alloc(payload, 0x61)]);
    }
  }
  throw new Error(`cannot pad ${base.length} bytes to ${size}`);
}

export const mailboxesPath = (method: string): string => `/mbdir.v1.Mailboxes/${method}`;
export const placementPath = (method: string): string => `/mbdir.v1.Placement/${method}`;
