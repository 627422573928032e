/**
 * The HTTP routes over ResolveUser: `GET /auth` for nginx's mail auth_http (where
 * to proxy an IMAP or POP3 login) and `GET /v1/resolve?user=` as JSON for scripts
 * and other proxies. Each checks the caller (the gRPC principals and roles: any
 * role may resolve), calls Directory.resolveUser and userAvailability, and maps
 * errors through errors.ts. Which server a user is on, and whether they may be
 * served now, is decided in src/directory/placement-rules.ts, never here.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Directory } from '../../directory/directory.js';
import { userAvailability, type ResolvedUser } from '../../directory/placement-rules.js';
import type { Logger } from '../../logging.js';
import { failedPrecondition, invalidArgument, quote } from '../../model/errors.js';
import { recipientUser, type RecipientRules } from '../../model/recipients.js';
import { splitAddress } from '../../model/labels.js';
import { limits } from '../../model/limits.js';
import { authorize, type Principal } from '../auth/roles.js';
import { authAnswerHeaders, framingHeaders, parseAuthRequest, type AuthAnswer, type AuthRequest, type MailProtocol } from './auth-http.js';
import { httpErrorOf, refusal } from './errors.js';
import { sendJson, type HttpRoute } from './listener.js';
import { RateLimitedLog, refusalKind } from '../rate-limited-log.js';

export interface ResolveRoutesOptions {
  directory: Directory;
  /** The caller's principal from its token header; throws Unauthenticated. */
  principalOf: (headers: IncomingHttpHeaders) => Principal;
  logger: Logger;
  /** Where nginx sends authenticated SMTP sessions (numeric IP:port); '' answers SMTP logins with a refusal. */
  smtpRelay: string;
  /** From a login to the directory's user id (case, local domains), as every adapter reads a user. */
  loginRules: RecipientRules;
  /** Told each answer (metrics): the route (`auth`, `resolve`) and its result (`ok`, `refused`, `retry`, or an error code). */
  onAnswer?: (command: string, result: string) => void;
}

/** The policy's name for what both routes do: any role may call it. */
const method = 'ResolveUser';

export function resolveRoutes(options: ResolveRoutesOptions): HttpRoute[] {
  const refusals = new RateLimitedLog(options.logger, limits.httpRefusalLogIntervalMs, 'info');
  return [
    { path: '/auth', handler: (request, response) => answerAuthHttp(options, refusals, request, response) },
    { path: '/v1/resolve', handler: (request, response, url) => answerResolve(options, refusals, request, response, url) },
  ];
}

// ------------------------------------------------------------ nginx auth_http

function answerAuthHttp(options: ResolveRoutesOptions, refusals: RateLimitedLog, request: IncomingMessage, response: ServerResponse): void {
  let login: AuthRequest | null = null;
  let answer: AuthAnswer;
  try {
    authorize(options.principalOf(request.headers), method);
    login = parseAuthRequest(request.headers);
    answer = routeLogin(options, login);
  } catch (error) {
    const mapped = httpErrorOf(error);
    if (mapped.internal) options.logger.error({ err: error, path: '/auth' }, 'internal error');
    refusals.note(refusalKind(mapped.code, mapped.message), { path: '/auth', code: mapped.code, reason: mapped.message, clientIp: login?.clientIp }, 'auth_http login refused');
    answer = refusal(mapped.refusal, login?.protocol ?? protocolOf(request.headers));
  }
  options.onAnswer?.('auth', answer.kind === 'route' ? 'ok' : answer.temporary ? 'retry' : 'refused');
  const headers = authAnswerHeaders(answer, { loginAttempt: login?.loginAttempt ?? 1, protocol: login?.protocol ?? protocolOf(request.headers) });
  // nginx ignores the status line and reads the headers into 1,024 bytes: no Date, nothing unasked.
  response.sendDate = false;
  response.writeHead(200, [...headers, ...framingHeaders].flat());
  response.end();
}

/** The protocol to word a refusal in when the request could not be read. */
function protocolOf(headers: IncomingHttpHeaders): MailProtocol {
  const value = headers['auth-protocol'];
  return value === 'pop3' || value === 'smtp' ? value : 'imap';
}

function routeLogin(options: ResolveRoutesOptions, login: AuthRequest): AuthAnswer {
  if (login.protocol === 'smtp') {
    if (options.smtpRelay === '') {
      throw failedPrecondition('an SMTP login reached /auth, but no SMTP relay is configured (mbdir serve --http-smtp-relay IP:PORT)');
    }
    return { kind: 'route', ...splitAddress(options.smtpRelay), password: login.password };
  }
  // nginx needs a password to log in to an IMAP or POP3 backend, and refuses an OK without one
  // (Auth-Method external, a client certificate): refuse it here, saying why in the log.
  if (login.password === null) {
    throw invalidArgument(`an ${login.protocol} login without a password (Auth-Method external?) cannot be proxied: the backend needs one, and mbdir holds none`);
  }
  // The node's route cache: one read per user until a write touches them (moving, DOWN and
  // unknown servers are typed errors: the catch answers them as a temporary refusal).
  const route = options.directory.routeUser(recipientUser(login.user, options.loginRules), login.protocol);
  const address = login.protocol === 'imap' ? route.imapAddress : route.pop3Address;
  return { kind: 'route', ...splitAddress(address), password: login.password };
}

// ------------------------------------------------------------ JSON resolve

async function answerResolve(
  options: ResolveRoutesOptions,
  refusals: RateLimitedLog,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    authorize(options.principalOf(request.headers), method);
    const user = url.searchParams.get('user');
    if (user === null) throw invalidArgument('query parameter user is missing: /v1/resolve?user=alice@example.com');
    const minRevision = revisionParameter(url.searchParams.get('min_revision'));
    const resolved = await options.directory.readAfter(minRevision, limits.minRevisionWaitMsMax, () => options.directory.resolveUser(user));
    sendJson(response, 200, { ...resolvedJson(resolved.value), revision: resolved.revision });
    options.onAnswer?.('resolve', 'ok');
  } catch (error) {
    const mapped = httpErrorOf(error);
    options.onAnswer?.('resolve', mapped.code.toLowerCase());
    if (mapped.internal) options.logger.error({ err: error, path: url.pathname }, 'internal error');
    if (mapped.status !== 404) refusals.note(refusalKind(mapped.code, mapped.message), { path: url.pathname, code: mapped.code, reason: mapped.message }, 'resolve refused');
    sendJson(response, mapped.status, { error: { code: mapped.code, message: mapped.message } });
  }
}

function revisionParameter(text: string | null): number {
  if (text === null) return 0;
  if (!/^[0-9]{1,15}$/.test(text)) throw invalidArgument(`min_revision ${quote(text)} is not a whole number`);
  return Number(text);
}

/** The JSON fields of a resolved user: ResolveUserResponse's names, plus whether a proxy may route now. */
function resolvedJson(resolved: ResolvedUser): Record<string, unknown> {
  const { mailbox, server, record } = resolved;
  return {
    user: resolved.user,
    server: mailbox.server,
    partition: mailbox.partition,
    imap_address: server?.imapAddress ?? '',
    pop3_address: server?.pop3Address ?? '',
    lmtp_address: server?.lmtpAddress ?? '',
    server_state: server?.state ?? '',
    moving: (record?.movingSinceMs ?? 0) > 0,
    moving_to: record?.movingTo ?? '',
    availability: userAvailability(resolved),
    business: record?.business ?? '',
  };
}
