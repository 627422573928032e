/**
 * The one table from the core's typed errors to MUPDATE answers. Where Cyrus's
 * master has a fixed text (`NO "mailbox already exists"`, `NO "mailbox doesn't
 * exist"`) that text is sent, since tools and people grep for it; otherwise the
 * core's message goes out as a quoted NO (or BAD for bad input). Anything not a
 * DirectoryError is logged in full and answered with no internals.
 */
import type { Logger } from '../../logging.js';
import { DirectoryError, type ErrorKind } from '../../model/errors.js';
import type { ResponseWriter } from './writer.js';

interface Answer {
  response: 'NO' | 'BAD';
  /** The text sent for an error of this kind, from its message. */
  text: (message: string) => string;
}

const answerOf: Record<ErrorKind, Answer> = {
  NotFound: { response: 'NO', text: () => "mailbox doesn't exist" },
  Conflict: { response: 'NO', text: () => 'mailbox already exists' },
  InvalidArgument: { response: 'BAD', text: (message) => message },
  PermissionDenied: { response: 'NO', text: (message) => `permission denied: ${message}` },
  Unauthenticated: { response: 'NO', text: () => 'authentication failure' },
  Unavailable: { response: 'NO', text: (message) => message },
  ResourceExhausted: { response: 'NO', text: (message) => message },
  FailedPrecondition: { response: 'NO', text: (message) => message },
  DeadlineExceeded: { response: 'NO', text: (message) => message },
};

/** The tagged answer line for `error` raised by command `command`. */
export function answerForError(error: unknown, tag: string, command: string, writer: ResponseWriter, logger: Logger): string {
  if (error instanceof DirectoryError) {
    const answer = answerOf[error.kind];
    logger.debug({ command, kind: error.kind, message: error.message }, 'mupdate command refused');
    const text = answer.text(error.message);
    return answer.response === 'NO' ? writer.no(tag, text) : writer.bad(tag, text);
  }
  logger.error({ err: error, command }, 'internal error');
  return writer.no(tag, `internal error in ${command}; see the server log`);
}
