/**
 * The call guard: turns a call's `authorization: Bearer TOKEN` metadata into a
 * principal and checks the method against its role. With no token table (the
 * node runs without --tokens, on loopback only) every caller is admin. The
 * table can be swapped at run time (SIGHUP reload) without touching calls.
 */
import type * as grpc from '@grpc/grpc-js';
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
    if (header.length > authorizationBytesMax || !header.startsWith('Bearer ')) {
      throw unauthenticated('authorization must be "Bearer TOKEN"');
    }
    return this.table.principalOf(header.slice('Bearer '.length).trim());
  }

  readonly guard: CallGuard = (method, metadata) => {
    const principal = this.principalOf(metadata);
    authorize(principal, method);
    return principal;
  };
}
