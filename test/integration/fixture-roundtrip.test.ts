/**
 * Real Cyrus 3.6 data: every live mailbox of a backend's `ctl_mboxlist -d`
 * goes in through CreateMailbox and comes back out of ScanMailboxes with the
 * same names, uniqueids and ACLs, in Cyrus's own order.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Message } from '../../src/client/client.js';
import { parseDumpLine } from '../../src/model/cyrus-dump.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { mailboxToWire } from '../../src/server/grpc/wire.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const dumpPath = new URL('../../../shared/fixtures/cyrus-3.6/ctl_mboxlist-d-backend.json', import.meta.url);
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const letters = (rights: string): string => [...rights].sort().join('');

it('loads the backend dump through the API and scans it back unchanged, in dump order', async () => {
  const live: MailboxRecord[] = [];
  let tombstones = 0;
  for (const line of readFileSync(dumpPath, 'utf8').split('\n')) {
    const parsed = parseDumpLine(line);
    if (parsed.kind === 'mailbox') live.push(parsed.mailbox);
    if (parsed.kind === 'tombstone') tombstones += 1;
  }
  expect(live.length).toBe(107);
  expect(tombstones).toBe(2);
  const client = server.client();
  await Promise.all(
    live.map((mailbox) => client.mailbox('CreateMailbox', { mailbox: { ...mailboxToWire(mailbox), server: 'backend1' } })),
  );
  const scanned: Message[] = [];
  for await (const mailbox of client.stream('ScanMailboxes', { server: 'backend1' })) scanned.push(mailbox);
  expect(scanned.map((mailbox) => mailbox['name'])).toEqual(live.map((mailbox) => mailbox.name));
  scanned.forEach((mailbox, index) => {
    const original = live[index] as MailboxRecord;
    expect(mailbox['uniqueid']).toBe(original.uniqueid);
    const acl = Object.fromEntries((mailbox['acl'] as Message[]).map((entry) => [entry['identifier'], letters(String(entry['rights']))]));
    expect(acl).toEqual(Object.fromEntries(original.acl.map((entry) => [entry.identifier, letters(entry.rights)])));
    expect(mailbox['uidvalidity']).toBe(original.uidvalidity);
  });
});
