/**
 * A real Dovecot 2.3 (Debian's dovecot-core, with dovecot-imapd's imap-login
 * unpacked under /opt/mbdir-interop) as an IMAP proxy whose passdb is mbdir's
 * dict socket: logins of two users go to two different backends (minimal IMAP
 * servers that say who they are) with the client's password, an unknown user
 * is refused, and a user being moved gets Dovecot's temporary failure. The
 * passdb and dict lines are read from docs/protocols.md (its dovecot-passdb
 * and dovecot-dict blocks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docBlockWith } from '../helpers/doc-blocks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converse, freePort, startImapServer } from '../helpers/mail-servers.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const dovecotImapd = '/opt/mbdir-interop/dovecot-imapd/usr/lib/dovecot';

/** docs/protocols.md's passdb block and dict file, with this test's paths. */
function docsDovecotConfig(dictFile: string, socket: string): { passdb: string; dict: string } {
  return {
    passdb: docBlockWith('docs/protocols.md', 'dovecot-passdb', [['/etc/dovecot/dovecot-dict-passdb.conf.ext', dictFile]]),
    dict: docBlockWith('docs/protocols.md', 'dovecot-dict', [['/run/mbdir/passdb.sock', socket]]),
  };
}

function writeDovecotConfig(root: string, imapPort: number, socket: string): string {
  const dictFile = join(root, 'dovecot-dict-passdb.conf.ext');
  const docs = docsDovecotConfig(dictFile, socket);
  writeFileSync(dictFile, docs.dict);
  const config = join(root, 'dovecot.conf');
  writeFileSync(
    config,
    [
      `base_dir = ${root}/run`,
      `state_dir = ${root}/state`,
      `log_path = ${root}/dovecot.log`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'default_internal_user = dovecot',
      'default_login_user = dovenull',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      'auth_failure_delay = 0',
      'login_trusted_networks =',
      `service imap-login {\n  executable = ${dovecotImapd}/imap-login\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${imapPort}\n  }\n}`,
      // protocols = imap brings these services; their binaries are in the unpacked dovecot-imapd too.
      ...['imap', 'imap-hibernate', 'imap-urlauth', 'imap-urlauth-login', 'imap-urlauth-worker'].map(
        (service) => `service ${service} {\n  executable = ${dovecotImapd}/${service}\n}`,
      ),
      docs.passdb,
      'userdb {\n  driver = static\n  args = uid=dovecot gid=dovecot home=/nonexistent\n}',
      '',
    ].join('\n'),
  );
  return config;
}

function groupId(name: string): number {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((entry) => entry.startsWith(`${name}:`));
  const gid = Number(line?.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`no group ${name}: install Debian's dovecot-core (.ci/run)`);
  return gid;
}

/** IMAP: a reply ends at the tagged line (or the greeting's untagged OK). */
const imapDone = (line: string): boolean => /^(a\d+ |\* (OK|BYE))/.test(line);

describe('Dovecot 2.3 proxy with its passdb on the mbdir dict socket', () => {
  let mbdir: ServerProcess;
  let imap1: Awaited<ReturnType<typeof startImapServer>>;
  let imap2: Awaited<ReturnType<typeof startImapServer>>;
  let dovecot: ChildProcess | undefined;
  let root: string;
  let imapPort: number;

  beforeAll(async () => {
    imap1 = await startImapServer('backend1');
    imap2 = await startImapServer('backend2');
    root = mkdtempSync(join(tmpdir(), 'mbdir-dovecot-'));
    // Dovecot's processes traverse root; the socket's directory is the docs': setgid, group dovecot,
    // so the socket (mode 0660, the default) is Dovecot's auth process's to connect to, and no one else's.
    chmodSync(root, 0o755);
    const socketDir = join(root, 'mbdir');
    mkdirSync(socketDir);
    chownSync(socketDir, 0, groupId('dovecot'));
    chmodSync(socketDir, 0o2750);
    const socket = join(socketDir, 'passdb.sock');
    mbdir = await startServer(['--dovecot-dict-listen', socket, '--socketmap-local-domains', 'example.org', '--log-level', 'debug']);
    const client = mbdir.client();
    await client.putServer({ name: 'backend1', imap_address: `127.0.0.1:${imap1.port}`, lmtp_address: '127.0.0.1:1024' });
    await client.putServer({ name: 'backend2', imap_address: `127.0.0.1:${imap2.port}`, lmtp_address: '127.0.0.1:2024' });
    for (const [name, server] of [['user.alice', 'backend1'], ['example.com!user.bob', 'backend2'], ['user.carol', 'backend1']] as const) {
      await client.createMailbox({ mailbox: { name, server } });
    }
    await client.markUserMoving({ user: 'carol', from_server: 'backend1', to_server: 'backend2' });
    imapPort = await freePort();
    mkdirSync(join(root, 'state'));
    const config = writeDovecotConfig(root, imapPort, mbdir.servingAddress('dovecot-dict'));
    dovecot = spawn('dovecot', ['-F', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const started = dovecot;
    await waitForPort(imapPort, () => {
      const log = existsSync(join(root, 'dovecot.log')) ? readFileSync(join(root, 'dovecot.log'), 'utf8') : '';
      return started.exitCode === null ? null : `dovecot exited with ${String(started.exitCode)}: ${log}`;
    });
  });

  afterAll(async () => {
    if (dovecot !== undefined && dovecot.exitCode === null) {
      const exited = new Promise((resolve) => dovecot?.once('exit', resolve));
      dovecot.kill('SIGTERM');
      await exited;
    }
    await mbdir?.stop();
    await imap1?.close();
    await imap2?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  const login = (user: string, password: string) =>
    converse(imapPort, [`a1 LOGIN ${user} ${password}`, 'a2 NOOP'], imapDone).catch((error: unknown) => [String(error)]);

  it('routes two users\' logins to their own backends, with the password the client gave', async () => {
    expect(mbdir.servingAddress('dovecot-dict')).toBe(join(root, 'mbdir', 'passdb.sock'));
    const socketStat = statSync(join(root, 'mbdir', 'passdb.sock'));
    expect({ mode: socketStat.mode & 0o777, group: socketStat.gid }).toEqual({ mode: 0o660, group: groupId('dovecot') });
    const alice = await login('alice', 'secret-a');
    expect(alice[1]).toMatch(/^a1 OK .*logged in to backend1 as alice/);
    expect(alice[2]).toMatch(/^a2 OK noop on backend1/);
    const bob = await login('bob@example.com', 'secret-b');
    expect(bob[1]).toMatch(/^a1 OK .*logged in to backend2 as bob@example\.com/);
    expect(bob[2]).toMatch(/^a2 OK noop on backend2/);
    // A local domain's user logs in with or without it; the backend checks the password it was given.
    const aliceDomain = await login('alice@example.org', 'secret-c');
    expect(aliceDomain[1]).toMatch(/^a1 OK .*logged in to backend1/);
    expect(imap1.logins).toEqual([
      { user: 'alice', password: 'secret-a' },
      { user: 'alice@example.org', password: 'secret-c' },
    ]);
    expect(imap2.logins).toEqual([{ user: 'bob@example.com', password: 'secret-b' }]);
    // Dovecot 2.3's dict client greets with protocol version 3.2 and the dict name of the uri.
    expect(mbdir.stderr()).toMatch(/"major":3,"minor":2,"valueType":"0","uri":"passdb","msg":"Dovecot dict hello"/);
  });

  it('refuses an unknown user, and gives a user being moved a temporary failure', async () => {
    const nobody = await login('nobody', 'x');
    expect(nobody[1]).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
    const carol = await login('carol', 'x');
    expect(carol[1]).toMatch(/^a1 NO \[UNAVAILABLE\] Temporary authentication failure/);
    expect(imap1.logins.map((entry) => entry.user)).not.toContain('carol');
    expect(imap2.logins.map((entry) => entry.user)).not.toContain('carol');
  });
});

/** Waits until `port` greets; `failure` says why to give up (the program exited), or null. */
async function waitForPort(port: number, failure: () => string | null): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await converse(port, [], imapDone, 2000).then(
      () => true,
      () => false,
    );
    if (open) return;
    const failed = failure();
    if (failed !== null) throw new Error(failed);
    if (Date.now() > deadline) throw new Error(`Dovecot did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
