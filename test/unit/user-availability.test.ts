// The rule proxies follow before sending a login: not while a move is under way,
// not to a DOWN server or one the directory does not know; DRAINING still serves.
import { describe, expect, it } from 'vitest';
import { userAvailability, type ResolvedUser } from '../../src/directory/placement-rules.js';
import type { MailboxRecord, ServerRecord, ServerState } from '../../src/model/records.js';

const mailbox = { name: 'user.alice', server: 'b1' } as MailboxRecord;

function resolved(state: ServerState | null, movingSinceMs = 0): ResolvedUser {
  const server: ServerRecord | undefined =
    state === null ? undefined : { name: 'b1', imapAddress: '127.0.0.1:143', lmtpAddress: '', pop3Address: '', state, weight: 1, datacenter: '' };
  return { user: 'alice', mailbox, server, record: { user: 'alice', business: '', movingFrom: 'b1', movingTo: 'b2', movingSinceMs } };
}

describe('userAvailability', () => {
  it('is ready on an UP or DRAINING server', () => {
    expect(userAvailability(resolved('UP'))).toBe('ready');
    expect(userAvailability(resolved('DRAINING'))).toBe('ready');
    expect(userAvailability({ ...resolved('UP'), record: undefined })).toBe('ready');
  });

  it('holds logins while moving (even to an UP server), on a DOWN server, and on an unknown one', () => {
    expect(userAvailability(resolved('UP', 1_700_000_000_000))).toBe('moving');
    expect(userAvailability(resolved('DOWN'))).toBe('server-down');
    expect(userAvailability(resolved(null))).toBe('server-unknown');
  });
});
