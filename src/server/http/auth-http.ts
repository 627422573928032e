/**
 * nginx auth_http, as pure values: the login nginx describes in its request
 * headers (Auth-User and Auth-Pass URL-escaped with NGX_ESCAPE_MAIL_AUTH), and
 * the header block nginx reads back into its fixed 1,024-byte buffer
 * (ngx_mail_auth_http_module.c). No socket, no directory: the route joins them.
 * Every answer is checked against that buffer here; only Auth-Pass can grow, and
 * it is left out (nginx then uses the password it holds) rather than overflow.
 */
import { invalidArgument, quote } from '../../model/errors.js';
import { limits } from '../../model/limits.js';

export type MailProtocol = 'imap' | 'pop3' | 'smtp';

export interface AuthRequest {
  /** Auth-User, unescaped: the login name the client gave. */
  user: string;
  /** Auth-Pass, unescaped bytes, or null when nginx sent none. */
  password: Buffer | null;
  protocol: MailProtocol;
  /** Auth-Login-Attempt: 1 for the session's first login. */
  loginAttempt: number;
  /** Client-IP, for logs. */
  clientIp: string;
}

/** What to tell nginx: where to proxy the login, or a refusal nginx shows the client. */
export type AuthAnswer =
  | { kind: 'route'; host: string; port: number; password: Buffer | null }
  | { kind: 'refuse'; text: string; waitSeconds: number; smtpErrorCode: string; temporary: boolean };

/** The request headers nginx sends, as node:http gives them (lower-case names). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

const protocols: readonly MailProtocol[] = ['imap', 'pop3', 'smtp'];
/** A header value longer than this is refused before it is unescaped (a user id, escaped, is at most 3x its limit). */
const escapedValueBytesMax = 3 * limits.userIdBytesMax;
/** Replaces bad sequences with U+FFFD, which parseAuthRequest then refuses. */
const utf8 = new TextDecoder('utf-8', { fatal: false });
/** nginx writes the attempt as a decimal ngx_uint_t; more digits than this is not nginx. */
const attemptDigitsMax = 9;

/** Reads nginx's request headers; InvalidArgument naming the header when one is missing or malformed. */
export function parseAuthRequest(headers: RequestHeaders): AuthRequest {
  const protocol = single(headers, 'auth-protocol');
  if (!(protocols as readonly string[]).includes(protocol)) {
    throw invalidArgument(`Auth-Protocol ${quote(protocol)} is not imap, pop3 or smtp`);
  }
  const user = utf8.decode(unescapeMailAuth(single(headers, 'auth-user'), 'Auth-User'));
  if (user.includes('\uFFFD')) throw invalidArgument('Auth-User is not UTF-8 once unescaped');
  const attemptText = optional(headers, 'auth-login-attempt') ?? '1';
  if (!/^[0-9]+$/.test(attemptText) || attemptText.length > attemptDigitsMax) {
    throw invalidArgument(`Auth-Login-Attempt ${quote(attemptText)} is not a whole number`);
  }
  const pass = optional(headers, 'auth-pass', false);
  return {
    user,
    password: pass === undefined ? null : unescapeMailAuth(pass, 'Auth-Pass'),
    protocol: protocol as MailProtocol,
    loginAttempt: Number(attemptText),
    clientIp: optional(headers, 'client-ip') ?? '',
  };
}

/** A header given at most once; bounded unless `bounded` is false (Auth-Pass: node:http's header limit bounds it). */
function optional(headers: RequestHeaders, name: string, bounded = true): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidArgument(`header ${name} appears more than once`);
  if (bounded && value.length > escapedValueBytesMax) throw invalidArgument(`header ${name} is longer than ${escapedValueBytesMax} bytes`);
  return value;
}

function single(headers: RequestHeaders, name: string): string {
  const value = optional(headers, name);
  if (value === undefined) throw invalidArgument(`header ${name} is missing (is this nginx's auth_http?)`);
  return value;
}

/**
 * Undoes NGX_ESCAPE_MAIL_AUTH: `%XX` is the byte XX; nothing else is special
 * (nginx leaves `+` alone). A `%` without two hex digits is refused.
 */
export function unescapeMailAuth(text: string, what: string): Buffer {
  const bytes = Buffer.alloc(Buffer.byteLength(text, 'latin1'));
  let length = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code !== 0x25) {
      bytes[length++] = code & 0xff;
      continue;
    }
    const hex = text.slice(index + 1, index + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw invalidArgument(`${what} has a "%" not followed by two hex digits`);
    bytes[length++] = parseInt(hex, 16);
    index += 2;
  }
  return bytes.subarray(0, length);
}

// ------------------------------------------------------------ the answer

/** node:http's status line, and the two framing headers the route sets itself. */
const statusLine = 'HTTP/1.1 200 OK\r\n';
export const framingHeaders: ReadonlyArray<[string, string]> = [
  ['Content-Length', '0'],
  ['Connection', 'close'],
];

/** Bytes of the status line and header block nginx has to read for `headers`. */
export function responseHeadBytes(headers: ReadonlyArray<[string, string]>): number {
  let bytes = statusLine.length + 2;
  for (const [name, value] of [...headers, ...framingHeaders]) bytes += name.length + 2 + Buffer.byteLength(value, 'latin1') + 2;
  return bytes;
}

/**
 * The auth_http headers of an answer, within nginx's buffer. A refusal carries
 * Auth-Wait (nginx pauses, then lets the client log in again) until the login
 * attempt reaches authHttpLoginAttemptsMax; then none, and nginx closes the session.
 */
export function authAnswerHeaders(answer: AuthAnswer, request: Pick<AuthRequest, 'loginAttempt' | 'protocol'>): Array<[string, string]> {
  if (answer.kind === 'refuse') {
    const headers: Array<[string, string]> = [['Auth-Status', answer.text]];
    if (request.loginAttempt < limits.authHttpLoginAttemptsMax) headers.push(['Auth-Wait', String(answer.waitSeconds)]);
    if (request.protocol === 'smtp') headers.push(['Auth-Error-Code', answer.smtpErrorCode]);
    return checked(headers);
  }
  const headers: Array<[string, string]> = [
    ['Auth-Status', 'OK'],
    ['Auth-Server', answer.host],
    ['Auth-Port', String(answer.port)],
  ];
  const password = answer.password === null ? null : headerSafe(answer.password);
  if (password !== null) {
    const withPassword: Array<[string, string]> = [...headers, ['Auth-Pass', password]];
    if (responseHeadBytes(withPassword) <= limits.authHttpResponseBytesMax) return withPassword;
  }
  return checked(headers);
}

/**
 * Auth-Pass goes back verbatim (nginx does not unescape answers): bytes as latin1, none that would break the header.
 * Null (no Auth-Pass: nginx keeps the password it holds) also for a leading or trailing space, which nginx's header
 * parser would trim off, so that the backend would get another password.
 */
function headerSafe(bytes: Buffer): string | null {
  if (bytes.length > 0 && (bytes[0] === 0x20 || bytes[bytes.length - 1] === 0x20)) return null;
  for (const byte of bytes) if (byte < 0x20 || byte === 0x7f) return null;
  return bytes.toString('latin1');
}

function checked(headers: Array<[string, string]>): Array<[string, string]> {
  const bytes = responseHeadBytes(headers);
  // Programmer error: every text but Auth-Pass is fixed and short.
  if (bytes > limits.authHttpResponseBytesMax) throw new Error(`auth_http answer of ${bytes} bytes exceeds nginx's buffer`);
  return headers;
}
