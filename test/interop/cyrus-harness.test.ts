// The Cyrus harness against Cyrus's own mupdate master: a backend's IMAP
// CREATE reaches the master (FIND), and a murder frontend (mupdate slave)
// lists it and proxies SELECT to the backend. If this fails, the harness is
// wrong, not mbdir.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cyrusInstalled, startCyrus, type CyrusInstance } from '../helpers/cyrus.js';
import { ImapClient } from '../helpers/imap-client.js';
import { MupdateClient } from '../../tools/bench/mupdate-client.js';

const instances: CyrusInstance[] = [];
let master: CyrusInstance;
let backend: CyrusInstance;
let frontend: CyrusInstance;

beforeAll(async () => {
  if (!cyrusInstalled()) return;
  master = await startCyrus({ kind: 'master' });
  instances.push(master);
  const mupdate = { address: master.address, authname: 'admin', password: 'pw' };
  backend = await startCyrus({ kind: 'backend', mupdate, pushOnStart: true });
  instances.push(backend);
  frontend = await startCyrus({ kind: 'frontend', mupdate });
  instances.push(frontend);
});

afterAll(async () => {
  for (const instance of instances.reverse()) await instance.stop();
});

describe.skipIf(!cyrusInstalled())('Cyrus murder harness (Cyrus mupdate master)', () => {
  it('a backend CREATE reaches the master, and the frontend lists and opens it', async () => {
    const imap = await ImapClient.login('127.0.0.1', backend.port, 'admin', 'pw');
    expect((await imap.command('CREATE user.alice')).status).toBe('OK');
    expect((await imap.command('CREATE user.alice.Work')).status).toBe('OK');
    await imap.close();

    const mupdate = await MupdateClient.open(master.address, 'admin', 'pw');
    const found = await mupdate.find('user.alice.Work');
    await mupdate.close();
    expect(found).toEqual([{ kind: 'MAILBOX', name: 'user.alice.Work', location: `${backend.servername}!default`, acl: 'alice\tlrswipkxtecdan\t' }]);

    const user = await ImapClient.login('127.0.0.1', frontend.port, 'alice', 'pw');
    // Cyrus's own master sends changes to its slaves in 5-second batches: allow a few on a busy host.
    await expect.poll(() => user.list('', '*'), { timeout: 20_000, interval: 250 }).toEqual(['INBOX', 'INBOX.Work']);
    const select = await user.command('SELECT INBOX.Work');
    expect(select.status, select.text).toBe('OK');
    await user.close();
  });
});
