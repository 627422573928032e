// nginx auth_http as pure values: reading nginx's request headers (Auth-User and
// Auth-Pass escaped as NGX_ESCAPE_MAIL_AUTH does), and the answer's header block
// within nginx's 1,024-byte buffer, at the bound and one past it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DirectoryError } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import {
  authAnswerHeaders,
  parseAuthRequest,
  responseHeadBytes,
  unescapeMailAuth,
  type AuthAnswer,
} from '../../src/server/http/auth-http.js';
import { refusal } from '../../src/server/http/errors.js';

/** nginx's ngx_escape_uri with NGX_ESCAPE_MAIL_AUTH (the memcached table): control bytes, space and % as %XX. */
function nginxEscape(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) {
    text += byte < 0x20 || byte === 0x20 || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return text; // as node:http hands header values over: one latin1 character per byte
}

/** The headers nginx sends for an IMAP LOGIN (lower-case, as node:http gives them). */
function nginxHeaders(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    host: 'localhost',
    'auth-method': 'plain',
    'auth-user': 'alice',
    'auth-pass': 'secret',
    'auth-protocol': 'imap',
    'auth-login-attempt': '1',
    'client-ip': '192.0.2.7',
    ...overrides,
  };
}

function errorOf(run: () => unknown): DirectoryError {
  try {
    run();
  } catch (error) {
    if (error instanceof DirectoryError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('parseAuthRequest', () => {
  it('reads the login nginx describes', () => {
    expect(parseAuthRequest(nginxHeaders({ 'auth-user': 'alice@example.com', 'auth-protocol': 'pop3', 'auth-login-attempt': '3' }))).toEqual({
      user: 'alice@example.com',
      password: Buffer.from('secret'),
      protocol: 'pop3',
      loginAttempt: 3,
      clientIp: '192.0.2.7',
    });
  });

  it('unescapes what nginx escaped, and leaves + alone', () => {
    const parsed = parseAuthRequest(nginxHeaders({ 'auth-user': nginxEscape(Buffer.from('jürgen')), 'auth-pass': 'a%20b%25c+d%0D' }));
    expect(parsed.user).toBe('jürgen');
    expect(parsed.password?.toString('latin1')).toBe('a b%c+d\r');
  });

  it('names the header that is missing or malformed', () => {
    expect(errorOf(() => parseAuthRequest(nginxHeaders({ 'auth-user': undefined }))).message).toMatch(/auth-user is missing/);
    expect(errorOf(() => parseAuthRequest(nginxHeaders({ 'auth-protocol': 'nntp' }))).message).toMatch(/Auth-Protocol "nntp" is not imap, pop3 or smtp/);
    expect(errorOf(() => parseAuthRequest(nginxHeaders({ 'auth-user': 'al%4' }))).message).toMatch(/Auth-User has a "%" not followed by two hex digits/);
    expect(errorOf(() => parseAuthRequest(nginxHeaders({ 'auth-user': '%FF' }))).message).toMatch(/not UTF-8/);
    expect(errorOf(() => parseAuthRequest(nginxHeaders({ 'auth-login-attempt': 'x' }))).kind).toBe('InvalidArgument');
    expect(errorOf(() => parseAuthRequest(nginxHeaders({ 'auth-user': 'a'.repeat(3 * limits.userIdBytesMax + 1) }))).message).toMatch(/longer than/);
  });

  it('takes a missing Auth-Login-Attempt as the first', () => {
    expect(parseAuthRequest(nginxHeaders({ 'auth-login-attempt': undefined })).loginAttempt).toBe(1);
  });

  it('undoes nginx escaping for any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(unescapeMailAuth(nginxEscape(bytes), 'Auth-Pass').equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: 6, numRuns: 500 },
    );
  });
});

describe('authAnswerHeaders', () => {
  const route = (password: Buffer | null, host = '10.0.0.11'): AuthAnswer => ({ kind: 'route', host, port: 143, password });
  const imap = { loginAttempt: 1, protocol: 'imap' as const };

  it('answers OK with the server, port and password', () => {
    expect(authAnswerHeaders(route(Buffer.from('se cret')), imap)).toEqual([
      ['Auth-Status', 'OK'],
      ['Auth-Server', '10.0.0.11'],
      ['Auth-Port', '143'],
      ['Auth-Pass', 'se cret'],
    ]);
  });

  it('keeps the password at the 1,024-byte bound and leaves it out one byte past it', () => {
    const withoutPass = responseHeadBytes(authAnswerHeaders(route(null), imap));
    const fitting = limits.authHttpResponseBytesMax - withoutPass - 'Auth-Pass: \r\n'.length;
    const atBound = authAnswerHeaders(route(Buffer.alloc(fitting, 'p')), imap);
    expect(atBound.find(([name]) => name === 'Auth-Pass')?.[1]).toHaveLength(fitting);
    expect(responseHeadBytes(atBound)).toBe(limits.authHttpResponseBytesMax);
    const past = authAnswerHeaders(route(Buffer.alloc(fitting + 1, 'p')), imap);
    expect(past.map(([name]) => name)).toEqual(['Auth-Status', 'Auth-Server', 'Auth-Port']);
    expect(responseHeadBytes(past)).toBeLessThanOrEqual(limits.authHttpResponseBytesMax);
  });

  it('leaves out a password that would break the header (CR, LF, NUL, DEL)', () => {
    for (const bad of ['a\r\nAuth-Server: 6.6.6.6', 'a\nb', 'a\0b', 'a\x7fb']) {
      expect(authAnswerHeaders(route(Buffer.from(bad, 'latin1')), imap).some(([name]) => name === 'Auth-Pass')).toBe(false);
    }
  });

  it('leaves out a password with a leading or trailing space, which nginx would trim (it keeps its own copy)', () => {
    for (const spaced of [' secret', 'secret ', ' ']) {
      expect(authAnswerHeaders(route(Buffer.from(spaced)), imap).some(([name]) => name === 'Auth-Pass')).toBe(false);
    }
    expect(authAnswerHeaders(route(Buffer.from('se cret')), imap).find(([name]) => name === 'Auth-Pass')?.[1]).toBe('se cret');
  });

  it('passes non-ASCII password bytes back as they came (nginx does not unescape answers)', () => {
    const password = Buffer.from('pässwörd');
    const pass = authAnswerHeaders(route(password), imap).find(([name]) => name === 'Auth-Pass')?.[1] ?? '';
    expect(Buffer.from(pass, 'latin1').equals(password)).toBe(true);
  });

  it('fits the longest fixed answer: an IPv6 server, every refusal text', () => {
    const longestHost = 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255';
    expect(responseHeadBytes(authAnswerHeaders(route(null, longestHost), imap))).toBeLessThan(200);
    for (const kind of ['login', 'temporary'] as const) {
      for (const protocol of ['imap', 'pop3', 'smtp'] as const) {
        expect(responseHeadBytes(authAnswerHeaders(refusal(kind, protocol), { loginAttempt: 1, protocol }))).toBeLessThan(300);
      }
    }
  });

  it('asks the client to wait until the last allowed attempt, then lets nginx close', () => {
    const before = authAnswerHeaders(refusal('login', 'imap'), { loginAttempt: limits.authHttpLoginAttemptsMax - 1, protocol: 'imap' });
    expect(before).toEqual([
      ['Auth-Status', '[AUTHENTICATIONFAILED] Invalid login or password'],
      ['Auth-Wait', String(limits.authHttpRefusalWaitSeconds)],
    ]);
    const last = authAnswerHeaders(refusal('login', 'imap'), { loginAttempt: limits.authHttpLoginAttemptsMax, protocol: 'imap' });
    expect(last).toEqual([['Auth-Status', '[AUTHENTICATIONFAILED] Invalid login or password']]);
  });

  it('words refusals for the protocol, with an SMTP code for SMTP', () => {
    expect(authAnswerHeaders(refusal('temporary', 'pop3'), { loginAttempt: 1, protocol: 'pop3' })[0]).toEqual([
      'Auth-Status',
      '[SYS/TEMP] Mailbox temporarily unavailable, try again shortly',
    ]);
    expect(authAnswerHeaders(refusal('temporary', 'smtp'), { loginAttempt: 1, protocol: 'smtp' })).toContainEqual(['Auth-Error-Code', '454 4.7.0']);
  });
});
