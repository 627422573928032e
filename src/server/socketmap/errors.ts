/**
 * The socketmap adapter's one error table: the core's typed errors to Postfix's
 * replies. NOTFOUND makes Postfix treat the recipient as unknown (a bounce or a
 * 550 at RCPT), so only "no such user" maps to it; anything that may pass
 * (a move, a directory that cannot answer, an unknown error) is TEMP, which
 * defers the mail; PERM is a configuration error (Postfix defers and logs it).
 */
import { DirectoryError, type ErrorKind } from '../../model/errors.js';

export type SocketmapStatus = 'NOTFOUND' | 'TEMP' | 'PERM';

const statusOfKind: Record<ErrorKind, SocketmapStatus> = {
  NotFound: 'NOTFOUND',
  // A key that cannot name a user (too long, quoted, a bad domain) names no user of ours.
  InvalidArgument: 'NOTFOUND',
  Unavailable: 'TEMP',
  DeadlineExceeded: 'TEMP',
  ResourceExhausted: 'TEMP',
  // The user's server is not registered or has no LMTP address: an operator must fix it; mail waits.
  FailedPrecondition: 'TEMP',
  Conflict: 'TEMP',
  PermissionDenied: 'PERM',
  Unauthenticated: 'PERM',
};

/** The reply text (without framing) for an error thrown while answering. */
export function replyOfError(error: unknown): string {
  if (!(error instanceof DirectoryError)) return 'TEMP internal error in the directory; see its log';
  const status = statusOfKind[error.kind];
  // Postfix logs the reason: one line, printable.
  return status === 'NOTFOUND' ? 'NOTFOUND ' : `${status} ${error.message.replace(/[\x00-\x1f\x7f]/g, ' ')}`;
}
