/**
 * Dovecot 2.3's passdb over the dict protocol: the auth worker looks up
 * `shared/passdb/<login>` (dict file: `password_key = passdb/%u`) and takes the
 * JSON object as the passdb's fields. mbdir answers where the user's mail lives:
 * `proxy=y host=IP port=PORT nopassword=y`, so Dovecot proxies the login with the
 * password the client gave and the backend checks it (mbdir holds no passwords).
 * Unknown user: `N` (authentication fails); while the user is being moved or the
 * directory cannot answer: `F` (Dovecot: "Temporary authentication failure").
 * One error table below; the rules are the directory's routeUser and
 * src/model/recipients.ts.
 */
import type { Directory } from '../../directory/directory.js';
import type { Logger } from '../../logging.js';
import { DirectoryError, invalidArgument, quote } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import { recipientUser, type RecipientRules } from '../../model/recipients.js';
import type { FramedProtocol, SessionState } from '../framed-server.js';
import { DictLineParser, escapeField, type DictCommand } from './protocol.js';

/** The key prefix a passdb lookup carries: `shared/` (a shared dict key) + `passdb/` from password_key. */
export const passdbKeyPrefix = 'shared/passdb/';

/** The reply line (without LF) to an error: N for "no such user", F (temporary failure) for anything else. */
export function dictReplyOfError(error: unknown): string {
  if (error instanceof DirectoryError && (error.kind === 'NotFound' || error.kind === 'InvalidArgument')) return 'N';
  const reason = error instanceof DirectoryError ? error.message : 'internal error in the directory; see its log';
  return `F${escapeField(reason)}`;
}

/** The passdb fields of a route: Dovecot proxies to IP:PORT; the backend checks the password. */
export function passdbFields(imapAddress: string): Record<string, string> {
  const colon = imapAddress.lastIndexOf(':');
  return {
    proxy: 'y',
    host: imapAddress.slice(0, colon).replace(/^\[|\]$/g, ''),
    port: imapAddress.slice(colon + 1),
    nopassword: 'y',
  };
}

/** The reply line (without LF) to one lookup key; never throws. */
export function answerLookup(directory: Directory, rules: RecipientRules, key: string): string {
  try {
    if (!key.startsWith(passdbKeyPrefix)) {
      throw new DirectoryError('FailedPrecondition', `mbdir answers only ${passdbKeyPrefix}<user> (password_key = passdb/%u), not ${quote(key)}`);
    }
    const login = key.slice(passdbKeyPrefix.length);
    if (login.length === 0) throw invalidArgument('empty user');
    const route = directory.routeUser(recipientUser(login, rules), 'imap');
    return `O${escapeField(JSON.stringify(passdbFields(route.imapAddress)))}`;
  } catch (error) {
    return dictReplyOfError(error);
  }
}

function answerCommand(directory: Directory, rules: RecipientRules, command: DictCommand, state: SessionState, logger: Logger): string | null {
  switch (command.kind) {
    case 'hello':
      state['hello'] = true;
      // Dovecot connects for a lookup and closes when idle: one line per connection, at debug.
      logger.debug({ major: command.major, minor: command.minor, valueType: command.valueType, uri: command.uri }, 'Dovecot dict hello');
      return null;
    case 'lookup':
      return state['hello'] === true ? answerLookup(directory, rules, command.key) : 'Fno hello before the lookup';
    case 'silent':
      return null;
    case 'unsupported':
      return `Fmbdir serves only lookups, not command ${quote(command.command)}`;
  }
}

/** The Dovecot dict server as a framed protocol. `rules` should keep extensions (no delimiters): logins carry none. */
export function dovecotDictProtocol(directory: Directory, rules: RecipientRules, logger: Logger): FramedProtocol<DictCommand> {
  return {
    name: 'dovecot-dict',
    newParser: () => new DictLineParser(limits.dovecotDictLineBytesMax),
    answer: (command, state) => {
      const line = answerCommand(directory, rules, command, state, logger);
      return line === null ? null : Buffer.from(`${line}\n`, 'utf8');
    },
    malformed: () => null,
    classify: (command, reply) => {
      if (command.kind !== 'lookup') return command.kind === 'hello' ? null : [command.kind, reply === null ? 'none' : 'fail'];
      const status = reply?.[0];
      return ['lookup', status === 0x4f ? 'ok' : status === 0x4e ? 'notfound' : 'fail'];
    },
  };
}
