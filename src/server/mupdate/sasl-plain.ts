/**
 * SASL PLAIN (RFC 4616) as MUPDATE carries it: base64 of
 * `authzid NUL authcid NUL password`. Pure: decoding and shape checks only;
 * the session turns the password (an mbdir token) into a principal. The
 * authzid and authcid are returned for logging; the password decides.
 */
import { invalidArgument } from '../../model/errors.js';

export interface PlainCredentials {
  authzid: string;
  authcid: string;
  password: string;
}

const base64Shape = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a PLAIN response (`=` is the empty response); throws InvalidArgument on any other shape. */
export function decodePlain(response: string): PlainCredentials {
  const text = response.trim();
  if (text !== '=' && (!base64Shape.test(text) || text.length % 4 !== 0)) {
    throw invalidArgument('SASL PLAIN response is not base64');
  }
  const decoded = text === '=' ? '' : Buffer.from(text, 'base64').toString('utf8');
  const fields = decoded.split('\0');
  if (fields.length !== 3) throw invalidArgument('SASL PLAIN response is not authzid NUL authcid NUL password');
  const [authzid, authcid, password] = fields as [string, string, string];
  if (authcid === '' || password === '') throw invalidArgument('SASL PLAIN response has an empty user or password');
  return { authzid, authcid, password };
}
