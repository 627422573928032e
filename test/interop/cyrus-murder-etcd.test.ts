// The Cyrus 3.6 murder against a two-node mbdir cluster on a real etcd: the
// backend's mupdate master is node A, the frontend's mupdate slave follows
// node B. A backend's CREATE, SETACL, RENAME and DELETE through A are seen on
// B; ctl_mboxlist -m through A ends well; the frontend (fed by B) lists a new
// folder within a second of the backend's CREATE and proxies SELECT to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { cyrusInstalled, startCyrus, type CyrusInstance } from '../helpers/cyrus.js';
import { addMurderTokens, mupdateOf, namesUnder, recordOf } from '../helpers/cyrus-murder.js';
import { EtcdCluster, freePort } from '../helpers/etcd-cluster.js';
import { ImapClient } from '../helpers/imap-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const work = mkdtempSync(join(tmpdir(), 'mbdir-murder-etcd-'));
let etcd: EtcdCluster | undefined;
const nodes: ServerProcess[] = [];
let adminA: MbdirClient;
let adminB: MbdirClient;
const cyrus: CyrusInstance[] = [];
let backend: CyrusInstance;
let frontend: CyrusInstance;
let backendServer: string;

beforeAll(async () => {
  if (!cyrusInstalled()) return;
  etcd = await EtcdCluster.start(1);
  const backendPort = await freePort();
  backendServer = `127.0.0.1:${backendPort}`;
  const tokenFile = join(work, 'tokens');
  const tokens = await addMurderTokens(tokenFile, backendServer);
  for (const _ of ['A', 'B']) {
    const args = ['--engine', 'etcd', '--etcd-endpoints', etcd.endpoints(), '--etcd-prefix', '/murder', '--tokens', tokenFile, '--mupdate-listen', '127.0.0.1:0'];
    nodes.push(await startServer(args, { protocols: ['MUPDATE'] }));
  }
  const [nodeA, nodeB] = nodes as [ServerProcess, ServerProcess];
  adminA = nodeA.client(tokens.admin);
  adminB = nodeB.client(tokens.admin);
  await adminA.putServer({ name: backendServer, imap_address: backendServer, lmtp_address: '127.0.0.1:24' });
  backend = await startCyrus({ kind: 'backend', mupdate: mupdateOf(nodeA, 'backend1', tokens.backend) }, { port: backendPort });
  cyrus.push(backend);
  frontend = await startCyrus({ kind: 'frontend', mupdate: mupdateOf(nodeB, 'frontend1', tokens.proxy) });
  cyrus.push(frontend);
});

afterAll(async () => {
  for (const instance of cyrus.reverse()) await instance.stop();
  for (const node of nodes) await node.stop();
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function asUser(user: string, port: number, ...commands: string[]): Promise<{ status: string; text: string }[]> {
  const imap = await ImapClient.login('127.0.0.1', port, user, 'pw');
  try {
    const answers = [];
    for (const command of commands) answers.push(await imap.command(command));
    return answers;
  } finally {
    await imap.close();
  }
}

describe.skipIf(!cyrusInstalled())('Cyrus 3.6 murder on a two-node mbdir cluster (etcd)', () => {
  it('the backend writes through node A; node B holds every change', async () => {
    const made = await asUser('admin', backend.port, 'CREATE user.alice', 'CREATE user.alice.Work', 'SETACL user.alice.Work bob lrs');
    expect(made.map((answer) => answer.status), JSON.stringify(made)).toEqual(['OK', 'OK', 'OK']);
    const expected = { server: backendServer, partition: 'default', acl: 'alice\tlrswipkxtecdan\tbob\tlrs\t' };
    expect(await recordOf(adminA, 'user.alice.Work')).toEqual(expected);
    await expect.poll(() => recordOf(adminB, 'user.alice.Work'), { timeout: 5_000 }).toEqual(expected);

    const renamed = await asUser('alice', backend.port, 'RENAME INBOX.Work INBOX.Projects', 'CREATE INBOX.Old', 'DELETE INBOX.Old');
    expect(renamed.map((answer) => answer.status), JSON.stringify(renamed)).toEqual(['OK', 'OK', 'OK']);
    await expect.poll(() => namesUnder(adminB, 'user.alice'), { timeout: 5_000 }).toEqual(['user.alice', 'user.alice.Projects']);
    expect((await recordOf(adminB, 'user.alice.Projects'))?.acl).toBe(expected.acl);
  });

  it('ctl_mboxlist -m through node A ends well and changes nothing that was right', async () => {
    const before = await namesUnder(adminB, 'user.alice');
    const run = await backend.tool('ctl_mboxlist', ['-m']);
    const output = `${run.stdout}${run.stderr}`;
    expect(output).not.toMatch(/said not us/);
    expect(run.code, `${output}\n${backend.logs().slice(-3000)}`).toBe(0);
    expect(await namesUnder(adminB, 'user.alice')).toEqual(before);
  });

  it('the frontend, fed by node B, lists a folder the backend created through node A within a second, and SELECT reaches it', async () => {
    const user = await ImapClient.login('127.0.0.1', frontend.port, 'alice', 'pw');
    try {
      await expect.poll(() => user.list('', '*'), { timeout: 10_000, interval: 100 }).toContain('INBOX.Projects');
      const [created] = await asUser('alice', backend.port, 'CREATE INBOX.Fresh');
      expect(created?.status, created?.text).toBe('OK');
      const mailboxId = /MAILBOXID \(([^)]+)\)/.exec(created?.text ?? '')?.[1];
      await expect.poll(() => user.list('', 'INBOX.*'), { timeout: 1_000, interval: 50 }).toContain('INBOX.Fresh');
      const select = await user.command('SELECT INBOX.Fresh');
      expect(select.status, select.text).toBe('OK');
      expect(select.untagged.join('\n')).toContain(`MAILBOXID (${String(mailboxId)})`);
    } finally {
      await user.close();
    }
  });
});
