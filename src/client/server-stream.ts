/**
 * Reads one server-streaming call (ScanMailboxes, Watch, Backup) as an async
 * iterator of its typed messages. It owns the call's flow: at most
 * `limits.clientStreamBufferMessagesMax` unread messages are queued before the
 * call is paused, so a slow reader slows the server instead of growing memory.
 * Errors become ClientError; `return()` or the abort signal cancels the call.
 */
import type * as grpc from '@grpc/grpc-js';
import { limits } from '../model/limits.js';
import { toClientError } from './errors.js';

/** A server stream's messages; `return()` (also leaving a for-await loop early) cancels the call. */
export interface MessageStream<T> extends AsyncIterableIterator<T> {
  return(value?: unknown): Promise<IteratorResult<T>>;
}

/**
 * Reads a server stream with one promise per message taken, none per message
 * queued (an async generator over the call's own iterator costs several): a
 * proxy following hundreds of Watch streams spends its time on them. The call
 * starts at the first `next()`. Past `limits.clientStreamBufferMessagesMax`
 * unread messages the call is paused, so a slow reader slows the server's
 * sending (which cuts off a Watch that falls too far behind) instead of
 * growing this queue.
 */
export class ServerStreamReader<T> implements MessageStream<T> {
  private call: grpc.ClientReadableStream<T> | null = null;
  private readonly queue: T[] = [];
  private head = 0;
  private waiter: { resolve(result: IteratorResult<T>): void; reject(error: Error): void } | null = null;
  /** Returned or aborted: nothing more is read. */
  private closed = false;
  private ended = false;
  private failure: Error | null = null;
  private readonly abort = (): void => {
    void this.return();
  };

  constructor(
    private readonly open: () => grpc.ClientReadableStream<T>,
    private readonly signal: AbortSignal | undefined,
    private readonly endpoint: string,
  ) {}

  [Symbol.asyncIterator](): MessageStream<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.call === null && !this.closed) this.start();
    if (this.head < this.queue.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.closed || (this.ended && this.failure === null)) return Promise.resolve({ value: undefined, done: true });
    // A failed call's status can come before the messages it sent are read: those first.
    if (this.failure !== null && (this.ended || this.call?.readableLength === 0)) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.signal?.removeEventListener('abort', this.abort);
      this.call?.cancel();
      this.queue.length = 0;
      this.head = 0;
      this.settle({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  private start(): void {
    if (this.signal?.aborted === true) {
      this.closed = true;
      return;
    }
    const call = this.open();
    this.call = call;
    this.signal?.addEventListener('abort', this.abort);
    call.on('data', (message: T) => this.onMessage(message));
    call.on('end', () => {
      this.ended = true;
      this.settle(this.failure ?? { value: undefined, done: true });
    });
    call.on('error', (error: unknown) => {
      if (this.closed) return; // cancelled by return() or the abort signal
      this.failure = toClientError(error, this.endpoint);
      if (call.readableLength === 0) this.settle(this.failure);
    });
  }

  private take(): T {
    const value = this.queue[this.head] as T;
    this.head += 1;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.call?.resume();
    }
    return value;
  }

  private onMessage(message: T): void {
    if (this.closed) return;
    if (this.waiter !== null) {
      this.settle({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    if (this.queue.length - this.head >= limits.clientStreamBufferMessagesMax) this.call?.pause();
  }

  private settle(outcome: IteratorResult<T> | Error): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}
