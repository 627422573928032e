// A real Cyrus 3.6 murder with mbdir (standalone engine) as its MUPDATE
// master: a Cyrus backend's IMAP CREATE, SETACL, RENAME (a folder and a whole
// user) and DELETE land in mbdir's records; a name another server holds is
// refused to the IMAP client; `ctl_mboxlist -m` reconciles both ways and never
// dies on "mupdate said not us"; a Cyrus frontend (mupdate slave of mbdir)
// lists a new folder within a second and proxies SELECT to the right backend.
// Each Cyrus program and the node start once for the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { cyrusInstalled, startCyrus, type CyrusInstance } from '../helpers/cyrus.js';
import { addMurderTokens, mupdateOf, namesUnder, recordOf } from '../helpers/cyrus-murder.js';
import { freePort } from '../helpers/etcd-cluster.js';
import { ImapClient } from '../helpers/imap-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const work = mkdtempSync(join(tmpdir(), 'mbdir-murder-'));
let node: ServerProcess | undefined;
let admin: MbdirClient;
const cyrus: CyrusInstance[] = [];
let backend: CyrusInstance;
let frontend: CyrusInstance;
let backendServer: string;

beforeAll(async () => {
  if (!cyrusInstalled()) return;
  const backendPort = await freePort();
  backendServer = `127.0.0.1:${backendPort}`;
  const tokens = await addMurderTokens(join(work, 'tokens'), backendServer);
  node = await startServer(['--tokens', join(work, 'tokens'), '--mupdate-listen', '127.0.0.1:0'], { protocols: ['MUPDATE'] });
  admin = node.client(tokens.admin);
  await admin.putServer({ name: backendServer, imap_address: backendServer, lmtp_address: '127.0.0.1:24' });
  await admin.putServer({ name: 'backend2', imap_address: '127.0.0.2:143', lmtp_address: '127.0.0.2:24' });
  backend = await startCyrus({ kind: 'backend', mupdate: mupdateOf(node, 'backend1', tokens.backend) }, { port: backendPort });
  cyrus.push(backend);
  frontend = await startCyrus({ kind: 'frontend', mupdate: mupdateOf(node, 'frontend1', tokens.proxy) });
  cyrus.push(frontend);
});

afterAll(async () => {
  for (const instance of cyrus.reverse()) await instance.stop();
  await node?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** One IMAP command on the backend as admin; returns the tagged answer. */
async function onBackend(...commands: string[]): Promise<{ status: string; text: string }[]> {
  const imap = await ImapClient.login('127.0.0.1', backend.port, 'admin', 'pw');
  try {
    const answers = [];
    for (const command of commands) answers.push(await imap.command(command));
    return answers;
  } finally {
    await imap.close();
  }
}

describe.skipIf(!cyrusInstalled())('Cyrus 3.6 backend with mbdir as MUPDATE master', () => {
  it('IMAP CREATE registers the mailbox on the backend, with its ACL', async () => {
    const answers = await onBackend('CREATE user.alice', 'CREATE user.alice.Work');
    expect(answers.map((answer) => answer.status), JSON.stringify(answers)).toEqual(['OK', 'OK']);
    expect(await recordOf(admin, 'user.alice.Work')).toEqual({ server: backendServer, partition: 'default', acl: 'alice\tlrswipkxtecdan\t' });
  });

  it('SETACL changes the record', async () => {
    const [answer] = await onBackend('SETACL user.alice.Work bob lrs');
    expect(answer?.status, answer?.text).toBe('OK');
    expect((await recordOf(admin, 'user.alice.Work'))?.acl).toBe('alice\tlrswipkxtecdan\tbob\tlrs\t');
  });

  it('RENAME of a folder moves the record, with its ACL', async () => {
    const before = await recordOf(admin, 'user.alice.Work');
    const [answer] = await onBackend('RENAME user.alice.Work user.alice.Projects');
    expect(answer?.status, answer?.text).toBe('OK');
    expect(await recordOf(admin, 'user.alice.Work')).toBeNull();
    // Cyrus sends the new name as `server!` with no partition (the rename quirk): mbdir keeps the partition.
    expect(await recordOf(admin, 'user.alice.Projects')).toEqual({ server: backendServer, partition: 'default', acl: before?.acl });
  });

  it('RENAME of a whole user moves every folder, with the user renamed in the ACLs', async () => {
    const made = await onBackend('CREATE user.carol', 'CREATE user.carol.Sent', 'CREATE user.carol.Sent.2025');
    expect(made.map((answer) => answer.status)).toEqual(['OK', 'OK', 'OK']);
    const [answer] = await onBackend('RENAME user.carol user.caroline');
    expect(answer?.status, answer?.text).toBe('OK');
    expect(await namesUnder(admin, 'user.carol')).toEqual([]);
    expect(await namesUnder(admin, 'user.caroline')).toEqual(['user.caroline', 'user.caroline.Sent', 'user.caroline.Sent.2025']);
    expect(await recordOf(admin, 'user.caroline.Sent.2025')).toEqual({ server: backendServer, partition: 'default', acl: 'caroline\tlrswipkxtecdan\t' });
  });

  it('DELETE removes the name (Cyrus 3.6 deletes by renaming to DELETED.*)', async () => {
    // The owner deletes: Cyrus checks the deleter's own rights on the mailbox, and the admin has none there.
    const imap = await ImapClient.login('127.0.0.1', backend.port, 'alice', 'pw');
    const answer = await imap.command('DELETE INBOX.Projects').finally(() => imap.close());
    expect(answer.status, `${answer.text}\n${backend.logs().slice(-4000)}\n${node?.stderr().slice(-3000)}`).toBe('OK');
    expect(await recordOf(admin, 'user.alice.Projects')).toBeNull();
    const deleted = (await namesUnder(admin, 'DELETED.user.alice')).filter((name) => name.startsWith('DELETED.user.alice.Projects.'));
    expect(deleted.length).toBe(1);
    expect((await recordOf(admin, deleted[0] ?? ''))?.server).toBe(backendServer);
  });

  it('CREATE of a name another server holds is refused to the IMAP client, and the record stays', async () => {
    await admin.createMailbox({ mailbox: { name: 'user.dora', uniqueid: 'dora-on-2', server: 'backend2' } });
    const [answer] = await onBackend('CREATE user.dora');
    expect(answer?.status).toBe('NO');
    expect((await recordOf(admin, 'user.dora'))?.server).toBe('backend2');
    const [list] = await onBackend('LIST "" user.dora');
    expect(list?.status).toBe('OK');
  });
});

describe.skipIf(!cyrusInstalled())('ctl_mboxlist -m against mbdir', () => {
  it('adds what mbdir lacks, removes what the backend no longer has, in an order Cyrus accepts', async () => {
    // Names with bytes below "." sort differently in Cyrus's dbname order than in plain byte order:
    // the trap behind "mupdate said not us before it said us".
    const names = ['user.erin', 'user.erin.A', 'user.erin-x', 'user.erin+y', 'user.erin.A.B', 'user.erin_z'];
    const made = await onBackend(...names.map((name) => `CREATE ${name}`));
    expect(made.map((answer) => answer.status), JSON.stringify(made)).toEqual(names.map(() => 'OK'));
    // mbdir loses one of the backend's mailboxes, and holds one the backend never had.
    await admin.deleteMailbox({ name: 'user.erin.A' });
    await admin.createMailbox({ mailbox: { name: 'user.ghost', uniqueid: 'ghost', server: backendServer } });
    expect(await recordOf(admin, 'user.erin.A')).toBeNull();

    const run = await backend.tool('ctl_mboxlist', ['-m']);
    const output = `${run.stdout}${run.stderr}`;
    expect(output).not.toMatch(/said not us/);
    expect(run.code, `${output}\n${backend.logs().slice(-3000)}`).toBe(0);
    expect((await recordOf(admin, 'user.erin.A'))?.server).toBe(backendServer);
    expect(await recordOf(admin, 'user.ghost')).toBeNull();
    for (const name of names) expect((await recordOf(admin, name))?.server, name).toBe(backendServer);
    // backend2's mailbox is not the backend's business: -m leaves it alone.
    expect((await recordOf(admin, 'user.dora'))?.server).toBe('backend2');

    // A second run finds nothing to change and still ends well.
    const again = await backend.tool('ctl_mboxlist', ['-m']);
    expect(again.code, `${again.stdout}${again.stderr}`).toBe(0);
  });
});

describe.skipIf(!cyrusInstalled())('Cyrus 3.6 frontend (mupdate slave of mbdir)', () => {
  it('takes its first UPDATE, lists a new backend folder within a second, and proxies SELECT there', async () => {
    const user = await ImapClient.login('127.0.0.1', frontend.port, 'alice', 'pw');
    try {
      // The first UPDATE: alice's INBOX, created on the backend before the frontend started.
      await expect.poll(() => user.list('', '*'), { timeout: 10_000, interval: 100 }).toContain('INBOX');
      const [created] = await onBackend('CREATE user.alice.Fresh');
      expect(created?.status, created?.text).toBe('OK');
      const mailboxId = /MAILBOXID \(([^)]+)\)/.exec(created?.text ?? '')?.[1];
      expect(mailboxId).toBeDefined();
      await expect.poll(() => user.list('', 'INBOX.*'), { timeout: 1_000, interval: 50 }).toContain('INBOX.Fresh');
      const select = await user.command('SELECT INBOX.Fresh');
      expect(select.status, select.text).toBe('OK');
      expect(select.untagged.join('\n')).toContain(`MAILBOXID (${String(mailboxId)})`);
    } finally {
      await user.close();
    }
  });

  it('a folder created through the frontend lands on the backend and in mbdir', async () => {
    const user = await ImapClient.login('127.0.0.1', frontend.port, 'alice', 'pw');
    try {
      const answer = await user.command('CREATE INBOX.ViaFrontend');
      expect(answer.status, answer.text).toBe('OK');
    } finally {
      await user.close();
    }
    expect((await recordOf(admin, 'user.alice.ViaFrontend'))?.server).toBe(backendServer);
    const backendList = await ImapClient.login('127.0.0.1', backend.port, 'alice', 'pw');
    try {
      expect(await backendList.list('', 'INBOX.*')).toContain('INBOX.ViaFrontend');
    } finally {
      await backendList.close();
    }
  });
});
