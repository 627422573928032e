// Properties of the parts that meet untrusted input first: protobuf bytes
// decoded by the contract and then checked by the wire layer, the token file
// parser, and the bearer-token guard. Whatever arrives, the only failures are
// typed errors (never a TypeError or a crash), and a valid principal is found
// exactly by its own token. (Names, ACLs and LIST patterns: model.property.test.ts.)
// Replay a failure with FC_SEED=<seed printed by fast-check>.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCreate } from '../../src/directory/mailbox-rules.js';
import { DirectoryError } from '../../src/model/errors.js';
import { TokenGuard } from '../../src/server/auth/guard.js';
import { authorize } from '../../src/server/auth/roles.js';
import { hashToken, newToken, TokenTable } from '../../src/server/auth/token-file.js';
import { packageDefinition } from '../../src/api/proto.js';
import { mailboxFromWire, serverFromWire } from '../../src/api/wire.js';

const seed = process.env['FC_SEED'] !== undefined ? Number(process.env['FC_SEED']) : 20261123;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns });

/** Runs `call`; passes when it returns or throws a DirectoryError, fails on anything else. */
function onlyTypedErrors(call: () => unknown): void {
  try {
    call();
  } catch (error) {
    if (!(error instanceof DirectoryError)) throw new Error(`untyped failure: ${String(error)}`);
  }
}

type Deserialize = (bytes: Buffer) => Record<string, unknown>;
const methods = packageDefinition['mbdir.v1.Mailboxes'] as unknown as Record<string, { requestDeserialize: Deserialize }>;
const placement = packageDefinition['mbdir.v1.Placement'] as unknown as Record<string, { requestDeserialize: Deserialize }>;

describe(`wire parsing (seed ${seed})`, () => {
  it('any bytes either fail to decode or become a request the wire layer accepts or refuses with a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        let request: Record<string, unknown>;
        try {
          request = methods['CreateMailbox']!.requestDeserialize(Buffer.from(bytes));
        } catch {
          return; // grpc-js answers a decode failure with INTERNAL
        }
        onlyTypedErrors(() => {
          const mailbox = mailboxFromWire(request['mailbox']);
          validateCreate({ ...mailbox, uniqueidGenerated: false, reserveOnly: false, requestId: '' });
        });
        let server: Record<string, unknown>;
        try {
          server = placement['PutServer']!.requestDeserialize(Buffer.from(bytes));
        } catch {
          return;
        }
        onlyTypedErrors(() => serverFromWire(server));
      }),
      runs(3000),
    );
  });

  it('any JavaScript value in place of a message is refused with a typed error or read as a mailbox', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => onlyTypedErrors(() => mailboxFromWire(value))),
      runs(2000),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('name', 'acl', 'state', 'replicas', 'uidvalidity', 'name_history'), fc.anything()), (value) =>
        onlyTypedErrors(() => mailboxFromWire(value)),
      ),
      runs(2000),
    );
  });
});

describe(`tokens and the guard (seed ${seed})`, () => {
  const role = fc.oneof(fc.constantFrom('admin', 'proxy', 'rebalancer'), fc.stringMatching(/^[a-z0-9]{1,12}$/).map((server) => `backend:${server}`));
  const principals = fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z0-9]{1,12}$/), role }), { selector: (entry) => entry.name, minLength: 1, maxLength: 8 });

  it('a token file finds each principal by its own token and by no other', () => {
    fc.assert(
      fc.property(principals, (entries) => {
        const tokens = entries.map(() => newToken());
        const text = entries.map((entry, index) => JSON.stringify({ name: entry.name, role: entry.role, sha256: hashToken(tokens[index]!) })).join('\n');
        const table = TokenTable.parse(text, 'tokens');
        entries.forEach((entry, index) => expect(table.principalOf(tokens[index]!).name).toBe(entry.name));
        expect(() => table.principalOf(newToken())).toThrow(/unknown token/);
      }),
      runs(200),
    );
  });

  it('any text as a token file parses or is refused with a typed error', () => {
    const line = fc.oneof(fc.string(), fc.json(), fc.record({ name: fc.string(), role: fc.string(), sha256: fc.string() }).map((entry) => JSON.stringify(entry)));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (lines) => onlyTypedErrors(() => TokenTable.parse(lines.join('\n'), 'tokens'))),
      runs(2000),
    );
  });

  it('any authorization header yields a principal only for a known token; the rest is UNAUTHENTICATED', () => {
    const token = newToken();
    const guard = new TokenGuard(TokenTable.parse(JSON.stringify({ name: 'ops', role: 'proxy', sha256: hashToken(token) }), 'tokens'));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((text) => `Bearer ${text}`), fc.constant(`Bearer ${token}`)), (header) => {
        const metadata = new grpc.Metadata();
        try {
          metadata.set('authorization', header);
        } catch {
          return; // grpc-js itself refuses values that are not legal header text
        }
        let name: string | null = null;
        try {
          name = guard.principalOf(metadata).name;
        } catch (error) {
          expect(error).toBeInstanceOf(DirectoryError);
          expect((error as DirectoryError).kind).toBe('Unauthenticated');
        }
        if (name !== null) expect(header.trim()).toBe(`Bearer ${token}`);
      }),
      runs(2000),
    );
  });

  it('no method name outside the policy table is open to any role, admin included', () => {
    fc.assert(
      fc.property(fc.string().filter((method) => !/^[A-Z]/.test(method)), role, (method, roleText) => {
        const kind = roleText.startsWith('backend:') ? { kind: 'backend' as const, server: roleText.slice(8) } : { kind: roleText as 'admin' | 'proxy' | 'rebalancer' };
        expect(() => authorize({ name: 'x', role: kind }, method)).toThrow(/not open to any role/);
      }),
      runs(500),
    );
  });
});
