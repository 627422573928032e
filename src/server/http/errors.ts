/**
 * The one table from the core's typed errors to the HTTP adapter's answers: an
 * HTTP status and JSON body for /v1/resolve, and an auth_http refusal for nginx
 * (the text nginx sends the client after `NO` or `-ERR`, whether the client may
 * retry, the SMTP code). A client is never told more than "invalid login" about
 * a user (no probing who exists); the full reason goes to the log. Anything not
 * a DirectoryError is a programmer error: logged in full, answered as internal.
 */
import { DirectoryError, type ErrorKind } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import type { AuthAnswer, MailProtocol } from './auth-http.js';

/** What a refusal means to the client: their login is wrong, or the service cannot route it now. */
export type RefusalKind = 'login' | 'temporary';

interface HttpError {
  status: number;
  code: string;
  refusal: RefusalKind;
}

const errorOf: Record<ErrorKind, HttpError> = {
  NotFound: { status: 404, code: 'NOT_FOUND', refusal: 'login' },
  InvalidArgument: { status: 400, code: 'INVALID_ARGUMENT', refusal: 'login' },
  Conflict: { status: 409, code: 'ALREADY_EXISTS', refusal: 'temporary' },
  PermissionDenied: { status: 403, code: 'PERMISSION_DENIED', refusal: 'temporary' },
  Unauthenticated: { status: 401, code: 'UNAUTHENTICATED', refusal: 'temporary' },
  Unavailable: { status: 503, code: 'UNAVAILABLE', refusal: 'temporary' },
  ResourceExhausted: { status: 503, code: 'RESOURCE_EXHAUSTED', refusal: 'temporary' },
  FailedPrecondition: { status: 409, code: 'FAILED_PRECONDITION', refusal: 'temporary' },
  DeadlineExceeded: { status: 504, code: 'DEADLINE_EXCEEDED', refusal: 'temporary' },
};

const internalError: HttpError = { status: 500, code: 'INTERNAL', refusal: 'temporary' };

/** The HTTP form of an error thrown by a route; `internal` when it is not a DirectoryError. */
export function httpErrorOf(error: unknown): HttpError & { message: string; internal: boolean } {
  if (error instanceof DirectoryError) return { ...errorOf[error.kind], message: error.message, internal: false };
  return { ...internalError, message: 'internal error; see the server log', internal: true };
}

/**
 * The client-facing texts, per protocol: IMAP response codes (RFC 5530), POP3
 * extended codes (RFC 2449, 3206), SMTP enhanced codes (RFC 3463).
 */
const refusalTexts: Record<RefusalKind, Record<MailProtocol, string>> = {
  login: {
    imap: '[AUTHENTICATIONFAILED] Invalid login or password',
    pop3: '[AUTH] Invalid login or password',
    smtp: 'Invalid login or password',
  },
  temporary: {
    imap: '[UNAVAILABLE] Mailbox temporarily unavailable, try again shortly',
    pop3: '[SYS/TEMP] Mailbox temporarily unavailable, try again shortly',
    smtp: 'Temporary failure, try again shortly',
  },
};

const smtpCodes: Record<RefusalKind, string> = { login: '535 5.7.8', temporary: '454 4.7.0' };

const waitSeconds: Record<RefusalKind, number> = {
  login: limits.authHttpRefusalWaitSeconds,
  temporary: limits.authHttpRetryWaitSeconds,
};

/** The auth_http refusal of a kind, in the client's protocol. */
export function refusal(kind: RefusalKind, protocol: MailProtocol): AuthAnswer {
  return { kind: 'refuse', text: refusalTexts[kind][protocol], waitSeconds: waitSeconds[kind], smtpErrorCode: smtpCodes[kind], temporary: kind === 'temporary' };
}
