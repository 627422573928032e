/**
 * Postfix against mbdir's socketmap, with the real programs from Debian: postmap
 * queries both maps (plain users, +extensions, domains, upper case, unknown
 * recipients, a user being moved), and a real Postfix instance (own config and
 * queue in a temp dir, loopback SMTP on a picked port) accepts or refuses
 * recipients through `virtual_mailbox_maps` and delivers over LMTP to the one of
 * two backends the `transport` map names. The main.cf lines are read from
 * docs/protocols.md (its postfix-main-cf block).
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docBlockWith } from '../helpers/doc-blocks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converse, freePort, smtpReplyDone, startLmtpServer, type Delivery } from '../helpers/mail-servers.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The main.cf lines docs/protocols.md gives, with this test's socketmap address. */
function docsMainCf(socketmap: string): string {
  return docBlockWith('docs/protocols.md', 'postfix-main-cf', [['127.0.0.1:7879', socketmap]]).trimEnd();
}

/** A Postfix instance of its own: config, queue and data directories in `root`, chroot off, smtpd on `smtpPort`. */
function writePostfixConfig(root: string, smtpPort: number, socketmap: string): string {
  const etc = join(root, 'etc');
  for (const dir of ['etc', 'queue', 'data']) mkdirSync(join(root, dir));
  chmodSync(root, 0o755);
  chownSync(join(root, 'data'), postfixUid(), -1);
  writeFileSync(
    join(etc, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${root}/queue`,
      `data_directory = ${root}/data`,
      'mail_owner = postfix',
      'inet_interfaces = loopback-only',
      'inet_protocols = ipv4',
      'myhostname = mx.test',
      'mydestination =',
      'mynetworks = 127.0.0.0/8',
      `maillog_file_prefixes = ${root}`,
      `maillog_file = ${root}/maillog`,
      'smtpd_peername_lookup = no',
      'smtp_dns_support_level = disabled',
      'queue_run_delay = 1s',
      'minimal_backoff_time = 1s',
      docsMainCf(socketmap),
      '',
    ].join('\n'),
  );
  const services = [
    `127.0.0.1:${smtpPort} inet n - n - - smtpd`,
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'lmtp unix - - n - - lmtp',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  writeFileSync(join(etc, 'master.cf'), `${services.join('\n')}\n`);
  return etc;
}

function postfixUid(): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('postfix:'));
  const uid = Number(line?.split(':')[2]);
  if (!Number.isInteger(uid)) throw new Error('no postfix user: install Debian\'s postfix package (.ci/run)');
  return uid;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Postfix through the mbdir socketmap', () => {
  let mbdir: ServerProcess;
  let lmtp1: Awaited<ReturnType<typeof startLmtpServer>>;
  let lmtp2: Awaited<ReturnType<typeof startLmtpServer>>;
  let root: string;
  let etc: string;
  let socketmap: string;
  let postfixStarted = false;

  beforeAll(async () => {
    lmtp1 = await startLmtpServer('backend1');
    lmtp2 = await startLmtpServer('backend2');
    mbdir = await startServer(['--socketmap-listen', '127.0.0.1:0', '--socketmap-local-domains', 'example.org']);
    socketmap = mbdir.servingAddress('socketmap');
    const client = mbdir.client();
    await client.putServer({ name: 'backend1', imap_address: '127.0.0.1:1143', lmtp_address: `127.0.0.1:${lmtp1.port}` });
    await client.putServer({ name: 'backend2', imap_address: '127.0.0.1:2143', lmtp_address: `127.0.0.1:${lmtp2.port}` });
    for (const [name, server] of [['user.alice', 'backend1'], ['example.com!user.bob', 'backend2'], ['user.carol', 'backend1']] as const) {
      await client.createMailbox({ mailbox: { name, server } });
    }
    await client.markUserMoving({ user: 'carol', from_server: 'backend1', to_server: 'backend2' });
    root = mkdtempSync(join(tmpdir(), 'mbdir-postfix-'));
    etc = writePostfixConfig(root, await freePort(), socketmap);
  });

  afterAll(async () => {
    if (postfixStarted) await run('postfix', ['-c', etc, 'stop']);
    await mbdir?.stop();
    await lmtp1?.close();
    await lmtp2?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  const query = (key: string, map: string) => run('postmap', ['-c', etc, '-q', key, `socketmap:inet:${socketmap}:${map}`]);

  it('postmap: the transport map gives the LMTP address of the user\'s server, whatever the case, extension and domain', async () => {
    expect(socketmap).toMatch(/^127\.0\.0\.1:\d+$/);
    const lmtp1Transport = `lmtp:inet:[127.0.0.1]:${lmtp1.port}`;
    const lmtp2Transport = `lmtp:inet:[127.0.0.1]:${lmtp2.port}`;
    for (const [key, expected] of [
      ['alice@example.org', lmtp1Transport],
      ['alice+news@example.org', lmtp1Transport],
      ['ALICE+News@Example.ORG', lmtp1Transport],
      ['bob@example.com', lmtp2Transport],
      ['Bob+x@EXAMPLE.COM', lmtp2Transport],
    ]) {
      const answer = await query(key ?? '', 'transport');
      expect({ key, code: answer.code, stdout: answer.stdout.trim() }).toEqual({ key, code: 0, stdout: expected });
    }
    const mailbox = await query('alice+x@example.org', 'mailbox');
    expect(mailbox).toMatchObject({ code: 0, stdout: 'backend1\n' });
  });

  it('postmap: unknown recipients are not found (exit 1, no output), also in the other domain and for the wildcard probe', async () => {
    for (const key of ['nobody@example.org', 'bob@example.org', 'alice@example.com', '*', 'alice@bad_domain']) {
      for (const map of ['transport', 'mailbox']) {
        const answer = await query(key, map);
        expect({ key, map, code: answer.code, stdout: answer.stdout, error: answer.stderr.includes('error') }).toEqual({ key, map, code: 1, stdout: '', error: false });
      }
    }
  });

  it('postmap: a user being moved is a temporary error, so Postfix defers the mail', async () => {
    const answer = await query('carol@example.org', 'transport');
    expect(answer.code).not.toBe(0);
    expect(answer.stdout).toBe('');
    expect(answer.stderr).toMatch(/socketmap server temporary error: user "carol" is being moved/);
  });

  it('Postfix accepts known recipients, refuses unknown ones, defers a moving one, and delivers each to its backend over LMTP', async () => {
    const started = await run('postfix', ['-c', etc, 'start']);
    postfixStarted = true;
    expect(started.code, started.stderr).toBe(0);
    const smtpPort = Number(/^127\.0\.0\.1:(\d+) inet/m.exec(readFileSync(join(etc, 'master.cf'), 'utf8'))?.[1]);
    const replies = await retryConnect(() =>
      converse(
        smtpPort,
        [
          'EHLO client.test',
          'MAIL FROM:<sender@client.test>',
          'RCPT TO:<Alice+news@Example.ORG>',
          'RCPT TO:<bob@example.com>',
          'RCPT TO:<nobody@example.org>',
          'RCPT TO:<carol@example.org>',
          'DATA',
          'Subject: routed by mbdir\r\n\r\nhello\r\n.',
        ],
        smtpReplyDone,
      ),
    );
    expect(replies[3]).toMatch(/^250 /);
    expect(replies[4]).toMatch(/^250 /);
    expect(replies[5]).toMatch(/^550 5\.1\.1 .*nobody@example\.org.*User unknown/);
    expect(replies[6]).toMatch(/^451 4\.3\.0 /);
    expect(replies[8]).toMatch(/^250 2\.0\.0 Ok: queued/);
    const byBackend = (deliveries: Delivery[]): string[] => deliveries.flatMap((delivery) => delivery.recipients.map((recipient) => recipient.toLowerCase()));
    await waitFor('both deliveries', () => (lmtp1.deliveries.length > 0 && lmtp2.deliveries.length > 0 ? true : undefined));
    expect(byBackend(lmtp1.deliveries)).toEqual(['alice+news@example.org']);
    expect(byBackend(lmtp2.deliveries)).toEqual(['bob@example.com']);
    expect(lmtp1.deliveries[0]?.data).toContain('Subject: routed by mbdir');
  });
});

/** Postfix's master opens its listeners a moment after `postfix start` returns. */
async function retryConnect<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= 50 || !/ECONNREFUSED/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
