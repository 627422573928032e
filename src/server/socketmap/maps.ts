/**
 * The socketmap's maps, by the name Postfix puts before the key:
 * `transport` (transport_maps: `lmtp:inet:[IP]:PORT` of the user's server) and
 * `mailbox` (virtual_mailbox_maps: a non-empty value for a deliverable user).
 * Requests are `name key`, split at the first space (keys may hold spaces).
 * The recipient -> user rule is src/model/recipients.ts; where a user goes and
 * whether they are being moved is the directory's routeUser; errors map in one
 * table (./errors.ts). This module only phrases answers.
 */
import type { Directory } from '../../directory/directory.js';
import { invalidArgument, notFound, permissionDenied, quote } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import { recipientUser, type RecipientRules } from '../../model/recipients.js';
import type { FramedProtocol } from '../framed-server.js';
import { replyOfError } from './errors.js';
import { encodeNetstring, NetstringParser } from '../../model/netstring.js';

export const socketmapNames = ['transport', 'mailbox'] as const;

/** Postfix's transport form of an `IP:PORT` address: IPv6 as `[ipv6:...]`. */
export function lmtpTransport(address: string): string {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = address.slice(colon + 1);
  return host.includes(':') ? `lmtp:inet:[ipv6:${host}]:${port}` : `lmtp:inet:[${host}]:${port}`;
}

/** The reply text (without framing) to one request payload; never throws. */
export function answerRequest(directory: Directory, rules: RecipientRules, payload: Buffer): string {
  try {
    const text = payload.toString('utf8');
    const space = text.indexOf(' ');
    if (space < 0) throw permissionDenied(`request ${quote(text)} is not "name key"`);
    const name = text.slice(0, space);
    const key = text.slice(space + 1);
    if (!(socketmapNames as readonly string[]).includes(name)) {
      throw permissionDenied(`no socketmap named ${quote(name)}; mbdir serves ${socketmapNames.join(' and ')}`);
    }
    // transport(5)'s wildcard probe: "*" is never a recipient.
    if (key === '*') throw notFound('the wildcard is not a recipient');
    if (key.length === 0) throw invalidArgument('empty key');
    const route = directory.routeUser(recipientUser(key, rules), 'lmtp');
    return name === 'transport' ? `OK ${lmtpTransport(route.lmtpAddress)}` : `OK ${route.server}`;
  } catch (error) {
    return replyOfError(error);
  }
}

/** The map a request names, for metrics: one of socketmapNames, or `other`. */
function mapNameOf(payload: Buffer): string {
  const space = payload.indexOf(0x20);
  const name = payload.toString('latin1', 0, space < 0 ? Math.min(payload.length, 16) : space);
  return (socketmapNames as readonly string[]).includes(name) ? name : 'other';
}

/** A reply's status word in lower case (ok, notfound, temp, perm), for metrics. */
function replyStatusOf(reply: Buffer | null): string {
  if (reply === null) return 'none';
  const text = reply.toString('latin1', reply.indexOf(0x3a) + 1, Math.min(reply.length, 32));
  return /^(OK|NOTFOUND|TEMP|PERM)/.exec(text)?.[1]?.toLowerCase() ?? 'other';
}

/** The socketmap as a framed protocol: netstrings in, netstrings out. */
export function socketmapProtocol(directory: Directory, rules: RecipientRules): FramedProtocol<Buffer> {
  return {
    name: 'socketmap',
    newParser: () => new NetstringParser(limits.socketmapQueryBytesMax),
    answer: (payload) => {
      const reply = answerRequest(directory, rules, payload);
      // Replies are short (an address or one error line); the bound is Postfix's.
      const bounded = Buffer.byteLength(reply) <= limits.socketmapReplyBytesMax ? reply : 'TEMP reply too long';
      return encodeNetstring(bounded);
    },
    malformed: (error) => encodeNetstring(`PERM ${error.message}`),
    classify: (payload, reply) => [mapNameOf(payload), replyStatusOf(reply)],
  };
}
