/**
 * Wrappers that give every gRPC handler the same four steps (after etcd's
 * v3rpc): check the caller, call the core, map the error, answer. Handlers are
 * plain async functions of the request; these wrappers own callbacks, stream
 * ends and error mapping, so no handler can forget one.
 */
import * as grpc from '@grpc/grpc-js';
import type { Directory } from '../../directory/directory.js';
import type { Logger } from '../../logging.js';
import type { Principal } from '../auth/roles.js';
import type { InFlight } from '../adapter.js';
import { limits } from '../../model/limits.js';
import { unavailable } from '../../model/errors.js';
import { toGrpcError } from './errors.js';
import { wireNumber } from '../../api/wire.js';
import { writeLogFor } from './write-log.js';

/** Called before every handler: who is calling; throws a typed error to refuse the call. */
export type CallGuard = (method: string, metadata: grpc.Metadata) => Principal;

export type CallType = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';

/** Told when a call starts; the function it returns is told the call's status code once, at its end. */
export type CallObserver = (method: string, type: CallType) => (code: grpc.status) => void;

/** An observer that records nothing (tools that build a server without metrics). */
export const unobserved: CallObserver = () => () => undefined;

export interface CallContext {
  guard: CallGuard;
  logger: Logger;
  /** Metrics of each call of this context's service. */
  observe: CallObserver;
  /** The directory as the principal may use it (a backend's writes are scoped to its server). */
  directoryFor(principal: Principal): Directory;
  /** Calls in flight, which a stopping node waits for (bounded by limits.shutdownGraceMs). */
  inFlight: InFlight;
  /** Aborted when the node starts to stop: open-ended streams (LookupStream) end after what they read. */
  stopping: AbortSignal;
}

/** Milliseconds left before the call's deadline, capped by the min_revision wait bound. */
export function timeLeftMs(call: { getDeadline(): grpc.Deadline }): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  if (!Number.isFinite(at)) return limits.minRevisionWaitMsMax;
  return Math.max(0, Math.min(limits.minRevisionWaitMsMax, at - Date.now()));
}

export function unary<Request, Response>(
  context: CallContext,
  method: string,
  handler: (
    request: Request,
    call: grpc.ServerUnaryCall<Request, Response>,
    directory: Directory,
  ) => Promise<Response> | Response,
): grpc.handleUnaryCall<Request, Response> {
  const writeLog = writeLogFor(method, context.logger);
  return (call, callback) => {
    const inFlight = context.inFlight;
    inFlight.enter();
    const ended = context.observe(method, 'unary');
    const fail = (error: unknown): void => {
      inFlight.leave();
      const status = toGrpcError(error, method, context.logger);
      ended(status.code ?? grpc.status.UNKNOWN);
      callback(status);
    };
    let answer: Promise<Response> | Response;
    let principal: Principal;
    try {
      principal = context.guard(method, call.metadata);
      answer = handler(call.request, call, context.directoryFor(principal));
    } catch (error) {
      fail(error);
      return;
    }
    const succeed = (response: Response): void => {
      inFlight.leave();
      ended(grpc.status.OK);
      writeLog?.(principal, call.request, response);
      callback(null, response);
    };
    // A read that needs no wait answers in the same tick, with no promise (what makes lookups cheap).
    if (answer instanceof Promise) answer.then(succeed, fail);
    else succeed(answer);
  };
}

/** Runs `read` once this node has applied the request's `min_revision` (Directory.readAfter). */
export function readAfterRevision<Response>(
  request: Record<string, unknown>,
  call: { getDeadline(): grpc.Deadline },
  directory: Directory,
  read: () => Response | Promise<Response>,
): Response | Promise<Response> {
  return directory.readAfter(wireNumber(request['min_revision'], 'min_revision'), timeLeftMs(call), read);
}

export function serverStream<Request, Response>(
  context: CallContext,
  method: string,
  handler: (request: Request, call: grpc.ServerWritableStream<Request, Response>, directory: Directory) => Promise<void>,
): grpc.handleServerStreamingCall<Request, Response> {
  return (call) => {
    const inFlight = context.inFlight;
    inFlight.enter();
    const ended = context.observe(method, 'server_stream');
    (async () => {
      const principal = context.guard(method, call.metadata);
      await handler(call.request, call, context.directoryFor(principal));
    })().then(
      () => {
        inFlight.leave();
        ended(call.cancelled ? grpc.status.CANCELLED : grpc.status.OK);
        call.end();
      },
      (error: unknown) => {
        inFlight.leave();
        endStreamWithError(call, error, method, context, ended);
      },
    );
  };
}

export function clientStream<Request, Response>(
  context: CallContext,
  method: string,
  handler: (
    call: grpc.ServerReadableStream<Request, Response>,
    directory: Directory,
    principal: Principal,
  ) => Promise<Response>,
): grpc.handleClientStreamingCall<Request, Response> {
  return (call, callback) => {
    const inFlight = context.inFlight;
    inFlight.enter();
    const ended = context.observe(method, 'client_stream');
    (async () => {
      const principal = context.guard(method, call.metadata);
      return handler(call, context.directoryFor(principal), principal);
    })().then(
      (response) => {
        inFlight.leave();
        ended(grpc.status.OK);
        callback(null, response);
      },
      (error: unknown) => {
        inFlight.leave();
        const status = toGrpcError(error, method, context.logger);
        ended(status.code ?? grpc.status.UNKNOWN);
        callback(status);
      },
    );
  };
}

export function bidiStream<Request, Response>(
  context: CallContext,
  method: string,
  handler: (call: grpc.ServerDuplexStream<Request, Response>, directory: Directory) => Promise<void>,
): grpc.handleBidiStreamingCall<Request, Response> {
  return (call) => {
    const inFlight = context.inFlight;
    inFlight.enter();
    const ended = context.observe(method, 'bidi_stream');
    (async () => {
      const principal = context.guard(method, call.metadata);
      await handler(call, context.directoryFor(principal));
    })().then(
      () => {
        inFlight.leave();
        ended(call.cancelled ? grpc.status.CANCELLED : grpc.status.OK);
        call.end();
      },
      (error: unknown) => {
        inFlight.leave();
        endStreamWithError(call, error, method, context, ended);
      },
    );
  };
}

/** Ends a server-sent stream with the error's status (or notes it cancelled when the client went). */
function endStreamWithError(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  error: unknown,
  method: string,
  context: CallContext,
  ended: (code: grpc.status) => void,
): void {
  if (call.cancelled) {
    ended(grpc.status.CANCELLED);
    return;
  }
  const status = toGrpcError(error, method, context.logger);
  ended(status.code ?? grpc.status.UNKNOWN);
  // grpc-js sends a stream's status from 'error' (then end); destroy() would drop it.
  call.emit('error', status);
}

/**
 * Writes to a stream, waiting for the transport to drain when its buffer is
 * full. A call the client left returns at once: grpc-js may find it gone
 * inside write() itself, emitting 'cancelled' and 'close' before anyone could
 * wait for them, and no 'drain' comes after that; callers look at
 * call.cancelled to stop.
 */
export async function writeWithBackpressure<Response>(
  call: grpc.ServerWritableStream<unknown, Response> | grpc.ServerDuplexStream<unknown, Response>,
  message: Response,
): Promise<void> {
  if (call.write(message) || call.cancelled || call.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
    call.on('cancelled', done);
  });
}

/** Answers a duplex stream keeps waiting at most before it stops reading the client's messages (until half are written). */
export const answersWaitingMax = 64;

/**
 * Answers each message of a duplex stream in arrival order. An answer that is
 * ready (a plain value) is written at once, in the 'data' handler, with no
 * promise per message: that is what makes a streaming lookup fast. An answer
 * that must wait (a promise, e.g. for min_revision) holds the ones after it
 * back until it settles. Reading pauses while the transport asks to drain, so
 * a client that does not read its answers cannot make the server buffer
 * without bound, and while answersWaitingMax answers wait to be written (batches
 * on read threads, messages waiting for their min_revision, and those behind
 * them), so that one client sending faster than they are answered neither
 * queues without bound nor fills the read threads' queue, which refuses past
 * its own bound. Resolves when the client has ended and every answer is written.
 * When `stopping` aborts (the node stops), no further message is read; once the
 * ones read are answered, the stream fails with UNAVAILABLE, so the client
 * sends what was not answered to another node.
 */
export function answerInOrder<Request, Response>(
  call: grpc.ServerDuplexStream<Request, Response>,
  answer: (request: Request) => Response | Promise<Response>,
  stopping?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const queue: Array<Response | Promise<Response>> = [];
    let ended = false;
    let pumping = false;
    let draining = false;
    let heldBack = false; // reading paused: answersWaitingMax answers wait
    let settled = false;
    let stopped = false;
    const finish = (error?: unknown): void => {
      if (settled) return;
      if (error === undefined && !(call.cancelled || (ended && queue.length === 0 && !pumping && !draining))) return;
      settled = true;
      call.off('data', onData);
      stopping?.removeEventListener('abort', stop);
      // Stopped by the node: what was read is answered; the status says why the rest was not.
      if (error === undefined && stopped && !call.cancelled) reject(unavailable('the node is stopping; send the names not answered to another node'));
      else if (error === undefined) resolve();
      else reject(error);
    };
    function stop(): void {
      stopped = true;
      ended = true;
      call.off('data', onData);
      finish();
    }
    const write = (response: Response): void => {
      if (call.write(response) || draining) return;
      draining = true;
      call.pause();
      call.once('drain', () => {
        draining = false;
        if (!heldBack) call.resume();
        if (queue.length > 0) void pump();
        else finish();
      });
    };
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        while (queue.length > 0 && !draining && !settled) {
          const head = queue[0] as Response | Promise<Response>;
          const response = head instanceof Promise ? await head : head;
          void queue.shift(); // already awaited above
          write(response);
          if (heldBack && queue.length <= answersWaitingMax / 2) {
            heldBack = false;
            if (!draining) call.resume();
          }
        }
      } catch (error) {
        finish(error);
      } finally {
        pumping = false;
      }
      finish();
    };
    const holdBackWhenFull = (): void => {
      if (queue.length < answersWaitingMax || heldBack) return;
      heldBack = true;
      call.pause();
    };
    const onData = (request: Request): void => {
      let result: Response | Promise<Response>;
      try {
        result = answer(request);
      } catch (error) {
        finish(error);
        return;
      }
      if (result instanceof Promise) {
        result.catch(() => undefined); // awaited by pump in order; marked handled here
        queue.push(result);
        holdBackWhenFull();
        void pump();
      } else if (queue.length === 0 && !pumping && !draining) {
        write(result);
      } else {
        queue.push(result);
        holdBackWhenFull();
        if (!draining) void pump();
      }
    };
    call.on('data', onData);
    call.once('end', () => {
      ended = true;
      finish();
    });
    if (stopping?.aborted === true) stop();
    else stopping?.addEventListener('abort', stop, { once: true });
    call.once('error', (error: unknown) => finish(error));
    call.once('cancelled', () => finish());
  });
}
