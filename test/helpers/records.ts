/**
 * A mailbox record for tests that write through the store or the keyspace
 * directly: an ACTIVE mailbox on imap1 with no ACL, no replicas and no
 * history, which a test changes field by field.
 */
import type { MailboxRecord } from '../../src/model/records.js';

export function mailboxRecord(name: string, uniqueid: string, fields: Partial<MailboxRecord> = {}): MailboxRecord {
  return {
    uniqueid, name, server: 'imap1', partition: 'default', replicas: [], acl: [], mbtype: 'e', state: 'ACTIVE',
    uidvalidity: 1, createdmodseq: 1, foldermodseq: 1, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
    ...fields,
  };
}
