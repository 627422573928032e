// Wire conversion (src/api/wire.ts), derived from the .proto's descriptor: every field of
// Mailbox, Server and Business reaches the wire; what a client sends comes back as the
// record minus what a client may not set; untrusted values are refused naming the field.
import { describe, expect, it } from 'vitest';
import { protoRoot } from '../../src/api/proto.js';
import { businessFromWire, businessToWire, mailboxFromWire, mailboxToWire, serverFromWire, serverToWire } from '../../src/api/wire.js';
import type { MailboxRecord, ServerRecord } from '../../src/model/records.js';

const fieldNames = (message: string): string[] => protoRoot.lookupType(message).fieldsArray.map((field) => field.name).sort();

const mailbox: MailboxRecord = {
  uniqueid: 'u1',
  name: 'user.ann.Sent',
  server: 'b1',
  partition: 'p2',
  replicas: [{ server: 'b2', partition: 'default' }],
  acl: [{ identifier: 'ann', rights: 'lrswipkxtecdan' }, { identifier: '-bob', rights: 'w' }],
  mbtype: 'e',
  state: 'RESERVED',
  uidvalidity: 1_700_000_000,
  createdmodseq: 3,
  foldermodseq: 2 ** 53 - 1,
  revision: 42,
  nameHistory: ['user.ann.Old'],
  reservedUntilMs: 1234,
  requestId: 'r1',
  uniqueidGenerated: true,
};

describe('wire conversion', () => {
  it('writes every field of the .proto, from the record field of the same name', () => {
    const wire = mailboxToWire(mailbox);
    expect(Object.keys(wire).sort()).toEqual(fieldNames('mbdir.v1.Mailbox'));
    expect(wire).toEqual({
      uniqueid: 'u1',
      name: 'user.ann.Sent',
      server: 'b1',
      partition: 'p2',
      replicas: [{ server: 'b2', partition: 'default' }],
      acl: [{ identifier: 'ann', rights: 'lrswipkxtecdan' }, { identifier: '-bob', rights: 'w' }],
      mbtype: 'e',
      state: 'RESERVED',
      uidvalidity: 1_700_000_000,
      createdmodseq: 3,
      foldermodseq: 2 ** 53 - 1,
      revision: 42,
      name_history: ['user.ann.Old'],
      uniqueid_generated: true,
    });
    const server: ServerRecord = { name: 'b1', imapAddress: '10.0.0.1:143', lmtpAddress: '10.0.0.1:24', pop3Address: '', state: 'DRAINING', weight: 2, datacenter: 'dc1' };
    expect(Object.keys(serverToWire(server)).sort()).toEqual(fieldNames('mbdir.v1.Server'));
    expect(serverToWire(server)).toMatchObject({ imap_address: '10.0.0.1:143', state: 'DRAINING', replica_partner: '' });
    expect(serverFromWire(serverToWire(server))).toEqual({ ...server, replicaPartner: '' });
    expect(businessToWire({ id: 'acme', homeServer: 'b1' })).toEqual({ id: 'acme', home_server: 'b1' });
    expect(businessFromWire({ id: 'acme', home_server: 'b1' })).toEqual({ id: 'acme', homeServer: 'b1' });
  });

  it('reads a mailbox back without what a client may not set (revision, reservation, request, generated uniqueid)', () => {
    expect(mailboxFromWire(mailboxToWire(mailbox))).toEqual({ ...mailbox, revision: 0, reservedUntilMs: 0, requestId: '', uniqueidGenerated: undefined });
    expect(mailboxFromWire({})).toEqual({
      uniqueid: '', name: '', server: '', partition: '', replicas: [], acl: [], mbtype: '', state: 'ACTIVE',
      uidvalidity: 0, createdmodseq: 0, foldermodseq: 0, revision: 0, nameHistory: [], reservedUntilMs: 0, requestId: '',
    });
  });

  it('refuses untrusted values naming the field', () => {
    expect(() => mailboxFromWire({ acl: [{ identifier: 5 }] })).toThrow('mailbox.acl[0].identifier must be a string');
    expect(() => mailboxFromWire({ replicas: 'b2' }, 'mailboxes[3]')).toThrow('mailboxes[3].replicas must be a list');
    expect(() => mailboxFromWire({ name_history: new Array(65).fill('x') })).toThrow('mailbox.name_history has 65 entries, more than the limit of 64');
    expect(() => mailboxFromWire({ uidvalidity: -1 })).toThrow('mailbox.uidvalidity must be a non-negative integer below 2^53');
    expect(() => mailboxFromWire({ state: 'GONE' })).toThrow('mailbox.state GONE is not RESERVED or ACTIVE');
    expect(() => serverFromWire({ state: 'SIDEWAYS' })).toThrow('server.state SIDEWAYS is not UP, DRAINING or DOWN');
    expect(() => businessFromWire({ id: 7 })).toThrow('id must be a string');
  });
});
