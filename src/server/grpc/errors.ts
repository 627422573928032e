/**
 * The one table from the core's typed errors to gRPC status codes. Anything
 * that is not a DirectoryError is a programmer error or an I/O failure: it is
 * logged in full and the caller gets INTERNAL with no internals in the text.
 */
import * as grpc from '@grpc/grpc-js';
import { DirectoryError, type ErrorKind } from '../../model/errors.js';
import type { Logger } from '../../logging.js';

const statusOf: Record<ErrorKind, grpc.status> = {
  NotFound: grpc.status.NOT_FOUND,
  Conflict: grpc.status.ALREADY_EXISTS,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  PermissionDenied: grpc.status.PERMISSION_DENIED,
  Unauthenticated: grpc.status.UNAUTHENTICATED,
  Unavailable: grpc.status.UNAVAILABLE,
  ResourceExhausted: grpc.status.RESOURCE_EXHAUSTED,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION,
  DeadlineExceeded: grpc.status.DEADLINE_EXCEEDED,
};

export function toGrpcError(error: unknown, method: string, logger: Logger): Partial<grpc.StatusObject> {
  if (error instanceof DirectoryError) {
    return { code: statusOf[error.kind], details: error.message };
  }
  logger.error({ err: error, method }, 'internal error');
  return { code: grpc.status.INTERNAL, details: `internal error in ${method}; see the server log` };
}
