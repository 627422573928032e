/**
 * Movers that fail, hang past their timeout, really copy a user's data between
 * two stores, and race a folder created on the old server during the copy.
 * The "stores" are two directories of files standing in for the mail spools
 * of two backends; the mover copies the user's folder tree from one to the other.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fixture, outcomes } from './fixture.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('mbdir rebalance: movers', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await Fixture.start();
    await fixture.servers([{ name: 'old' }, { name: 'home' }]);
    await fixture.business('acme', 'home');
  });
  afterAll(async () => fixture?.close());

  it('a failing mover: the user stays, unmarked, and the reason is reported; exit 1', async () => {
    await fixture.user('fails', 'old', 'acme');
    const mover = fixture.script('failing-mover.sh', 'echo "copying $1" \necho "disk full on $3" >&2\nexit 4');
    const run = await fixture.rebalance(['--mover', `${mover} {user} {from} {to}`]);
    expect(run.code).toBe(1);
    expect(run.lines).toHaveLength(1);
    expect(run.lines[0]).toMatchObject({ user: 'fails', from: 'old', to: 'home', outcome: 'failed' });
    expect(run.lines[0]?.reason).toBe('mover exited with code 4: disk full on home');
    expect(await fixture.resolve('fails')).toMatchObject({ server: 'old', moving: false, moving_to: '' });
    await fixture.client.setUserBusiness({ user: 'fails', business: '' });
  });

  it('a mover hanging past --mover-timeout is killed with its whole process group', async () => {
    await fixture.user('hangs', 'old', 'acme');
    const pidFile = join(fixture.tmp, 'hang.pid');
    const mover = fixture.script('hanging-mover.sh', `sleep 120 &\necho $! > "$2"\nwait`);
    const run = await fixture.rebalance(['--mover', `${mover} {user} ${pidFile}`, '--mover-timeout', '0.5']);
    expect(run.code).toBe(1);
    expect(outcomes(run)).toEqual({ hangs: 'failed' });
    expect(run.lines[0]?.reason).toBe('mover timed out after 500 ms');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    for (let attempt = 0; attempt < 100 && processAlive(grandchild); attempt += 1) await new Promise((r) => setTimeout(r, 50));
    expect(processAlive(grandchild)).toBe(false);
    expect(await fixture.resolve('hangs')).toMatchObject({ server: 'old', moving: false });
    await fixture.client.setUserBusiness({ user: 'hangs', business: '' });
  });

  it('a mover that copies the data between two stores: the files arrive and the directory points to the target', async () => {
    const stores = join(fixture.tmp, 'mail stores');
    const folders = ['INBOX', 'Sent', 'Archive/2025'];
    for (const folder of folders) {
      mkdirSync(join(stores, 'old', 'copied', folder), { recursive: true });
      writeFileSync(join(stores, 'old', 'copied', folder, '1.'), `message in ${folder}\n`);
    }
    await fixture.user('copied', 'old', 'acme', ['Sent', 'Archive', 'Archive.2025']);
    // Idempotent: copies to a scratch name, then swaps it in; a re-run starts over.
    const mover = fixture.script(
      'copy-mover.sh',
      'set -e\nsrc="$4/$2/$1"; dst="$4/$3/$1"\nmkdir -p "$4/$3"\nrm -rf "$dst.partial"\ncp -R "$src" "$dst.partial"\nrm -rf "$dst"\nmv "$dst.partial" "$dst"',
    );
    const run = await fixture.rebalance(['--mover', `${mover} {user} {from} {to} '${stores}'`]);
    expect(outcomes(run)).toEqual({ copied: 'moved' });
    expect(run.code).toBe(0);
    for (const folder of folders) {
      expect(readFileSync(join(stores, 'home', 'copied', folder, '1.'), 'utf8')).toBe(`message in ${folder}\n`);
    }
    expect(await fixture.resolve('copied')).toMatchObject({ server: 'home', moving: false });
    const scanned = [];
    for await (const mailbox of fixture.client.scanMailboxes({ prefix: 'user.copied' })) scanned.push(mailbox);
    expect(scanned.map((mailbox) => `${String(mailbox['name'])}@${String(mailbox['server'])}`)).toEqual([
      'user.copied@home', 'user.copied.Archive@home', 'user.copied.Archive.2025@home', 'user.copied.Sent@home',
    ]);
  });

  it('a folder created on the old server during the copy makes the commit fail: the user stays, unmarked, and moves next run', async () => {
    await fixture.user('racing', 'old', 'acme');
    const mover = fixture.script(
      'racing-mover.sh',
      'set -e\n"$NODE_BIN" "$MBDIR_BIN" --endpoint "$MBDIR_ENDPOINT" create "user.$1.Created" --server "$2" > /dev/null',
    );
    const run = await fixture.rebalance(['--mover', `${mover} {user} {from} {to}`]);
    expect(outcomes(run)).toEqual({ racing: 'changed' });
    expect(run.lines[0]?.reason).toMatch(/^the hierarchy changed during the copy, retried next run/);
    expect(run.code).toBe(1);
    expect(await fixture.resolve('racing')).toMatchObject({ server: 'old', moving: false });
    const created = await fixture.client.getMailbox({ name: 'user.racing.Created' });
    expect((created['mailbox']!)['server']).toBe('old');

    const next = await fixture.rebalance(['--mover', 'true']);
    expect(outcomes(next)).toEqual({ racing: 'moved' });
    const after = await fixture.client.getMailbox({ name: 'user.racing.Created' });
    expect((after['mailbox']!)['server']).toBe('home');
  });
});
