// Real Cyrus 3.6 data through the API: every live mailbox of a backend's
// `ctl_mboxlist -d` dump is created over gRPC, then read back with
// ScanMailboxes: names, uniqueids, ACLs (as sets of RFC 4314 letters: the
// directory canonicalises their order) and metadata round-trip, in the
// Cyrus sort-key order the dump itself was written in.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { parseDumpLine } from '../../src/model/cyrus-dump.js';
import { compareNames } from '../../src/model/names.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { mailboxToWire } from '../../src/api/wire.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { aclAsSets, create, scanAll } from '../helpers/integration.js';

const dumpPath = new URL('../fixtures/cyrus-3.6/ctl_mboxlist-d-backend.json', import.meta.url);

let node: ServerProcess;
let client: MbdirClient;
const live: MailboxRecord[] = [];
let tombstones = 0;

beforeAll(async () => {
  for (const line of readFileSync(dumpPath, 'utf8').split('\n')) {
    const parsed = parseDumpLine(line);
    if (parsed.kind === 'mailbox') live.push(parsed.mailbox);
    else if (parsed.kind === 'tombstone') tombstones += 1;
  }
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1' });
  for (const mailbox of live) {
    const response = await create(client, { ...mailboxToWire(mailbox), server: 'backend1' });
    expect(response['outcome'], mailbox.name).toBe('CREATED');
  }
});

afterAll(async () => {
  await node?.stop();
});

function aclSetsOf(mailbox: MailboxRecord): Record<string, string> {
  return aclAsSets(mailbox.acl.filter((entry) => entry.rights !== ''));
}

describe('the Cyrus 3.6 backend dump', () => {
  it('holds live mailboxes and tombstones (which are skipped)', () => {
    expect(live.length).toBeGreaterThan(100);
    expect(tombstones).toBeGreaterThan(0);
  });

  it('round-trips every name, uniqueid and ACL through the API', async () => {
    const scanned = await scanAll(client, { server: 'backend1' });
    expect(scanned).toHaveLength(live.length);
    const byName = new Map(scanned.map((mailbox) => [String(mailbox['name']), mailbox]));
    for (const mailbox of live) {
      const stored = byName.get(mailbox.name)!;
      expect(stored, mailbox.name).toBeDefined();
      expect(stored['uniqueid'], mailbox.name).toBe(mailbox.uniqueid);
      expect(aclAsSets(stored['acl']), mailbox.name).toEqual(aclSetsOf(mailbox));
      expect(stored, mailbox.name).toMatchObject({
        server: 'backend1',
        partition: mailbox.partition,
        mbtype: mailbox.mbtype,
        uidvalidity: mailbox.uidvalidity,
        createdmodseq: mailbox.createdmodseq,
        foldermodseq: mailbox.foldermodseq,
        state: 'ACTIVE',
      });
    }
  });

  it('keeps negative rights entries (erin: -frank)', async () => {
    const archive = (await client.getMailbox({ name: 'user.erin.Archive' }))['mailbox']!;
    expect(aclAsSets(archive['acl'])).toMatchObject({ '-frank': 'r' });
  });

  it('scans in Cyrus sort-key order, the order of the dump itself', async () => {
    const names = (await scanAll(client)).map((mailbox) => String(mailbox['name']));
    expect(names).toEqual([...names].sort(compareNames));
    expect(names).toEqual(live.map((mailbox) => mailbox.name));
  });

  it('lists what a Cyrus user would see: own folders and folders shared with them', async () => {
    const response = await client.listMailboxes({ user: 'judy', pattern: '*' });
    const names = (response['mailboxes']).map((entry) => String((entry['mailbox']!)['name']));
    expect(names).toContain('user.judy');
    expect(names).toContain('user.erin.Projects');
    expect(names).toContain('shared.support');
    expect(names).not.toContain('user.erin');
    expect(names).toEqual([...names].sort(compareNames));
  });
});
