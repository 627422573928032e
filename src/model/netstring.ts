/**
 * Netstrings (`<length>:<bytes>,`), the framing of Postfix's socketmap. A pure,
 * byte-driven parser: no socket, no timer. It takes chunks as they arrive (one
 * byte at a time is fine), hands each complete payload to a callback, and checks
 * the length against its bound while the digits arrive, so an oversized request
 * is refused before any of it is buffered. After an error it accepts nothing more.
 */

export class NetstringError extends Error {}

/** Digits of a length at most (leading zeros included): 10 covers any bound below 10 GB. */
export const netstringLengthDigitsMax = 10;

type State = 'length' | 'payload' | 'comma' | 'failed';

export class NetstringParser {
  private state: State = 'length';
  private length = 0;
  private digits = 0;
  private payload: Buffer = Buffer.alloc(0);
  private filled = 0;

  constructor(private readonly payloadBytesMax: number) {}

  /** Feeds bytes; calls `emit` once per complete payload, in order. Throws NetstringError on malformed input. */
  push(chunk: Uint8Array, emit: (payload: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === 'failed') throw new NetstringError('netstring stream already failed');
      if (this.state === 'length') offset = this.readLength(chunk, offset);
      else if (this.state === 'payload') offset = this.readPayload(chunk, offset);
      else {
        if (chunk[offset] !== 0x2c) this.fail(`netstring of ${this.length} bytes not followed by ","`);
        offset += 1;
        this.state = 'length';
        const payload = this.payload;
        this.reset();
        emit(payload);
      }
    }
  }

  /** True between netstrings (nothing partial buffered). */
  get idle(): boolean {
    return this.state === 'length' && this.digits === 0;
  }

  private readLength(chunk: Uint8Array, start: number): number {
    let offset = start;
    while (offset < chunk.length) {
      const byte = chunk[offset] ?? 0;
      offset += 1;
      if (byte >= 0x30 && byte <= 0x39) {
        this.length = this.length * 10 + (byte - 0x30);
        this.digits += 1;
        // Leading zeros are allowed, but not an endless run of them.
        if (this.digits > netstringLengthDigitsMax) this.fail(`netstring length has more than ${netstringLengthDigitsMax} digits`);
        if (this.length > this.payloadBytesMax) this.fail(`netstring longer than the limit of ${this.payloadBytesMax} bytes`);
      } else if (byte === 0x3a && this.digits > 0) {
        this.payload = Buffer.allocUnsafe(this.length);
        this.filled = 0;
        this.state = this.length === 0 ? 'comma' : 'payload';
        return offset;
      } else {
        this.fail(this.digits === 0 ? 'netstring does not start with a length' : 'netstring length not followed by ":"');
      }
    }
    return offset;
  }

  private readPayload(chunk: Uint8Array, start: number): number {
    const take = Math.min(this.length - this.filled, chunk.length - start);
    this.payload.set(chunk.subarray(start, start + take), this.filled);
    this.filled += take;
    if (this.filled === this.length) this.state = 'comma';
    return start + take;
  }

  private reset(): void {
    this.length = 0;
    this.digits = 0;
    this.filled = 0;
    this.payload = Buffer.alloc(0);
  }

  private fail(reason: string): never {
    this.state = 'failed';
    throw new NetstringError(reason);
  }
}

/** One netstring holding `payload`. */
export function encodeNetstring(payload: string | Buffer): Buffer {
  // A reply is a short string: one allocation for the whole netstring.
  if (typeof payload === 'string') return Buffer.from(`${Buffer.byteLength(payload, 'utf8')}:${payload},`, 'utf8');
  const body = payload;
  return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body, Buffer.from(',', 'latin1')]);
}
