/**
 * Wrappers that give every gRPC handler the same four steps (after etcd's
 * v3rpc): check the caller, call the core, map the error, answer. Handlers are
 * plain async functions of the request; these wrappers own callbacks, stream
 * ends and error mapping, so no handler can forget one.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../logging.js';
import { limits } from '../../model/limits.js';
import { toGrpcError } from './errors.js';

/** Called before every handler; throws a typed error to refuse the call. */
export type CallGuard = (method: string, metadata: grpc.Metadata, request: unknown) => void;

export interface CallContext {
  guard: CallGuard;
  logger: Logger;
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
  handler: (request: Request, call: grpc.ServerUnaryCall<Request, Response>) => Promise<Response> | Response,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    (async () => {
      context.guard(method, call.metadata, call.request);
      return handler(call.request, call);
    })().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcError(error, method, context.logger)),
    );
  };
}

export function serverStream<Request, Response>(
  context: CallContext,
  method: string,
  handler: (request: Request, call: grpc.ServerWritableStream<Request, Response>) => Promise<void>,
): grpc.handleServerStreamingCall<Request, Response> {
  return (call) => {
    (async () => {
      context.guard(method, call.metadata, call.request);
      await handler(call.request, call);
    })().then(
      () => call.end(),
      (error: unknown) => {
        // grpc-js sends a stream's status from 'error' (then end); destroy() would drop it.
        if (!call.cancelled) call.emit('error', toGrpcError(error, method, context.logger));
      },
    );
  };
}

export function clientStream<Request, Response>(
  context: CallContext,
  method: string,
  handler: (call: grpc.ServerReadableStream<Request, Response>) => Promise<Response>,
): grpc.handleClientStreamingCall<Request, Response> {
  return (call, callback) => {
    (async () => {
      context.guard(method, call.metadata, undefined);
      return handler(call);
    })().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcError(error, method, context.logger)),
    );
  };
}

export function bidiStream<Request, Response>(
  context: CallContext,
  method: string,
  handler: (call: grpc.ServerDuplexStream<Request, Response>) => Promise<void>,
): grpc.handleBidiStreamingCall<Request, Response> {
  return (call) => {
    (async () => {
      context.guard(method, call.metadata, undefined);
      await handler(call);
    })().then(
      () => call.end(),
      (error: unknown) => {
        // grpc-js sends a stream's status from 'error' (then end); destroy() would drop it.
        if (!call.cancelled) call.emit('error', toGrpcError(error, method, context.logger));
      },
    );
  };
}

/** Writes to a stream, waiting for the transport to drain when its buffer is full. */
export async function writeWithBackpressure<Response>(
  call: grpc.ServerWritableStream<unknown, Response> | grpc.ServerDuplexStream<unknown, Response>,
  message: Response,
): Promise<void> {
  if (call.write(message)) return;
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
