/**
 * The call guard: turns a call's `authorization: Bearer TOKEN` metadata (or an
 * HTTP request's token header) into a principal and checks the method against its role. With no token table (the
 * node runs without --tokens, on loopback only) every caller is admin. The
 * table can be swapped at run time (SIGHUP reload) without touching calls.
 */
import type * as grpc from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';
import { unauthenticated } from '../../model/errors.js';
import type { CallGuard } from '../grpc/calls.js';
import { authorize, loopbackAdmin, type Principal } from './roles.js';
import type { TokenTable } from './token-file.js';

/** Longest authorization header value looked at. */
const authorizationBytesMax = 512;

export class TokenGuard {
  constructor(private table: TokenTable | null) {}

  /** Replaces the token table; calls in flight keep the principal they had. */
  replace(table: TokenTable): void {
    this.table = table;
  }

  /** The principal holding `token` (a MUPDATE SASL PLAIN password); admin when there is no table. */
  principalOfToken(token: string): Principal {
    if (this.table === null) return loopbackAdmin;
    if (token.length > authorizationBytesMax) throw unauthenticated('unknown token');
    return this.table.principalOf(token);
  }

  principalOf(metadata: grpc.Metadata): Principal {
    if (this.table === null) return loopbackAdmin;
    const values = metadata.get('authorization');
    const header = values[0];
    if (values.length === 0 || typeof header !== 'string') {
      throw unauthenticated('no token: send "authorization: Bearer TOKEN" (mbdir --token or MBDIR_TOKEN)');
    }
    return this.table.principalOf(bearerToken(header));
  }

  /**
   * The principal of an HTTP request: its `X-Mbdir-Token: TOKEN` header (what nginx's
   * `auth_http_header` can send) or `Authorization: Bearer TOKEN`.
   */
  principalOfHttp(headers: IncomingHttpHeaders): Principal {
    if (this.table === null) return loopbackAdmin;
    const plain = headers['x-mbdir-token'];
    const authorization = headers.authorization;
    if (typeof plain === 'string') {
      if (plain.length > authorizationBytesMax) throw unauthenticated(`X-Mbdir-Token is longer than ${authorizationBytesMax} bytes`);
      return this.table.principalOf(plain.trim());
    }
    if (authorization === undefined) {
      throw unauthenticated('no token: send "X-Mbdir-Token: TOKEN" (nginx: auth_http_header X-Mbdir-Token TOKEN) or "Authorization: Bearer TOKEN"');
    }
    return this.table.principalOf(bearerToken(authorization));
  }

  readonly guard: CallGuard = (method, metadata) => {
    const principal = this.principalOf(metadata);
    authorize(principal, method);
    return principal;
  };
}

function bearerToken(header: string): string {
  if (header.length > authorizationBytesMax || !header.startsWith('Bearer ')) {
    throw unauthenticated('authorization must be "Bearer TOKEN"');
  }
  return header.slice('Bearer '.length).trim();
}
