// README.md "A five-minute tour", command by command through the real `mbdir`
// CLI against a started node, checking what a user reading the output would
// check (and that every command of the README's tour block is one it ran);
// plus --help and the one-line error of a bad flag value (--timeout too).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { freePort } from '../helpers/etcd-cluster.js';
import { repoRoot, runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess;

beforeAll(async () => {
  node = await startServer();
});

afterAll(async () => {
  await node?.stop();
});

/** The command lines this file ran, as `mbdir` arguments joined by spaces. */
const ran = new Set<string>();

async function mbdir(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  ran.add(args.join(' '));
  return runCli(args, { MBDIR_ENDPOINT: node.endpoint });
}

/** Runs a command that must succeed; returns its stdout. */
async function ok(...args: string[]): Promise<string> {
  const result = await mbdir(...args);
  expect(result.code, `mbdir ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The `mbdir` commands of README.md's tour block, comments cut. */
function readmeTourCommands(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /## A five-minute tour\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no sh block under "## A five-minute tour"');
  const commands = block
    .split('\n')
    .map((line) => line.replace(/\s#.*$/, '').trim())
    .filter((line) => line.startsWith('mbdir '))
    .map((line) => line.slice('mbdir '.length).split(/\s+/).join(' '));
  expect(commands.length).toBeGreaterThanOrEqual(10);
  return commands;
}

describe('the README tour', () => {
  it('runs every step with the output the README promises', async () => {
    // Steps that do not depend on each other run side by side: each CLI start costs a process.
    const [put1] = await Promise.all([
      ok('server-put', 'backend1', '--imap', '127.0.0.1:1143', '--lmtp', '127.0.0.1:1024'),
      ok('server-put', 'backend2', '--imap', '127.0.0.1:2143', '--lmtp', '127.0.0.1:2024'),
    ]);
    expect(put1).toMatch(/server backend1 stored/);
    expect(await ok('business-put', 'acme', 'backend2')).toMatch(/business acme -> backend2/);
    await ok('user-business', 'alice', 'acme');

    // Create-on-server: alice goes to her business's home, her sub-folder follows her.
    expect(await ok('create', 'user.alice', '--acl', 'alice=lrswipkxtecdan')).toMatch(/^CREATED user\.alice\s+backend2!default/);
    const [sent, , bob] = await Promise.all([
      ok('create', 'user.alice.Sent'),
      ok('create', 'shared.support', '--server', 'backend1', '--acl', 'anyone=lrs'),
      ok('create', 'user.bob', '--uniqueid', 'bob1', '--server', 'backend1'),
    ]);
    expect(sent).toMatch(/^CREATED user\.alice\.Sent\s+backend2!default/);
    expect(bob).toMatch(/^CREATED/);
    const listed = (await ok('list', 'alice')).trim().split('\n');
    expect(listed.map((line) => line.split(/\s+/)[0])).toEqual(['shared.support', 'user.alice', 'user.alice.Sent']);
    expect(listed[0]).toMatch(/rights lrs\s+on backend1/);
    expect(listed[1]).toMatch(/\\HasChildren/);

    // A replica pair, then a refused fork.
    expect(await ok('create', 'user.bob', '--uniqueid', 'bob1', '--server', 'backend2')).toMatch(/^REPLICA_ADDED user\.bob\s+backend1!default\s+replicas backend2!default/);
    const fork = await mbdir('create', 'user.bob', '--uniqueid', 'bob2', '--server', 'backend2');
    expect(fork.code).toBe(1);
    expect(fork.stdout).toBe('');
    expect(fork.stderr.trim().split('\n')).toHaveLength(1);
    expect(fork.stderr).toMatch(/^mbdir: ALREADY_EXISTS: .*bob1.*backend1/);

    // Rename a user: the subtree and the business follow.
    expect(await ok('rename', 'user.alice', 'user.alicia')).toMatch(/renamed 2 mailbox\(es\)/);
    const [resolved, gone] = await Promise.all([ok('resolve', 'alicia'), mbdir('resolve', 'alice')]);
    expect(resolved).toMatch(/^alicia on backend2!default/);
    expect(resolved).toMatch(/imap 127\.0\.0\.1:2143\s+lmtp 127\.0\.0\.1:2024/);
    expect(resolved).toMatch(/not moving/);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^mbdir: NOT_FOUND: .*alice/);
    // Her ACL entries follow her name: alicia keeps her rights, alice lists only the public folder.
    const [aliciaList, aliceList] = await Promise.all([ok('list', 'alicia'), ok('list', 'alice')]);
    expect(aliciaList.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(['shared.support', 'user.alicia', 'user.alicia.Sent']);
    expect(aliciaList).toMatch(/user\.alicia\s+\\HasChildren\s+rights lrswipkxtecdan\s/);
    expect(aliceList.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(['shared.support']);

    // The change stream: a snapshot, its end, then stop after a count.
    const [watchOutput, status, servers] = await Promise.all([ok('watch', '--count', '5'), ok('status'), ok('servers')]);
    const watched = watchOutput.trim().split('\n');
    expect(watched.map((line) => line.split('\t')[1])).toEqual(['SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT_END']);
    expect(watched.slice(0, 4).map((line) => line.split('\t')[2]?.split(/\s+/)[0])).toEqual([
      'shared.support',
      'user.alicia',
      'user.alicia.Sent',
      'user.bob',
    ]);

    const statusLines = status.trimEnd().split('\n');
    expect(statusLines[0]).toMatch(/^node \S+ {2}engine standalone {2}version \S+ {2}up \d+ s$/);
    expect(statusLines[1]).toMatch(/^applied revision \d+ {2}mailboxes 4$/);
    expect(statusLines[2]).toBe('no etcd: SQLite on this node is the truth, so there is no lag');
    expect(statusLines).toHaveLength(3);

    expect(servers).toMatch(/backend2\tUP\tweight 1\timap 127\.0\.0\.1:2143\tlmtp 127\.0\.0\.1:2024\t1 users\t2 mailboxes/);

    // The README's block is what ran: each of its commands (watch stops after a count here).
    for (const command of readmeTourCommands()) {
      const done = command === 'watch' ? [...ran].some((line) => line.startsWith('watch ')) : ran.has(command);
      expect(done, `README tour: mbdir ${command} was not run here`).toBe(true);
    }
  });

  it('takes negative identifiers and rights removals as setacl arguments', async () => {
    const [removed, negative] = await Promise.all([
      ok('setacl', 'shared.support', 'anyone', '-s'),
      ok('setacl', 'shared.support', '-alicia', 'l'),
    ]);
    expect(removed).toMatch(/anyone=lr\b/);
    expect(negative).toMatch(/-alicia=l/);
    const [alicia, bob] = await Promise.all([ok('list', 'alicia'), ok('list', 'bob')]);
    expect(alicia).not.toMatch(/shared\.support/);
    expect(bob).toMatch(/shared\.support\s+\\HasNoChildren\s+rights lr\s/);
  });

  it('prints JSON on request', async () => {
    const response = JSON.parse(await ok('--json', 'get', 'user.bob')) as { mailbox: { uniqueid: string; replicas: unknown[] } };
    expect(response.mailbox.uniqueid).toBe('bob1');
    expect(response.mailbox.replicas).toEqual([{ server: 'backend2', partition: 'default' }]);
  });
});

describe('help and usage errors', () => {
  it('answers --help with exit 0', async () => {
    const [top, create] = await Promise.all([mbdir('--help'), mbdir('create', '--help')]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Commands:/);
    expect(create.code).toBe(0);
    expect(create.stdout).toMatch(/--uniqueid/);
  });

  it('reports a bad flag value as one line and a non-zero exit', async () => {
    const cases = [['server-put', 'x', '--state', 'BOGUS'], ['list', 'alice', '--page-size', 'abc'], ['serve', '--synchronous', 'bogus'], ['serve', '--cache-mib', '0'], ['serve', '--cache-mib', 'lots'], ['create']];
    const results = await Promise.all(cases.map((args) => mbdir(...args)));
    for (const [index, result] of results.entries()) {
      const args = cases[index] ?? [];
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(/^mbdir: /);
    }
    expect(results[3]?.stderr).toContain('setting cacheMib is "0"; expected MiB from 1 to');
  });

  it('refuses a --timeout that is not seconds from 0.001 to clientTimeoutSecondsMax, naming the flag and the range', async () => {
    const values = ['abc', '0', '-1', '1e3', '2147484'];
    const results = await Promise.all(values.map((value) => mbdir('--timeout', value, 'status')));
    for (const [index, result] of results.entries()) {
      expect(result.code, values[index]).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`mbdir: --timeout is "${values[index] ?? ''}"; expected seconds from 0.001 to ${limits.clientTimeoutSecondsMax}\n`);
    }
    const [half, rebalance] = await Promise.all([mbdir('--timeout', '0.5', 'status'), mbdir('--timeout', 'abc', 'rebalance', '--dry-run')]);
    expect(half.code, half.stderr).toBe(0);
    expect(rebalance.code).toBe(2);
    expect(rebalance.stderr).toBe(`mbdir rebalance: --timeout is "abc"; expected seconds from 0.001 to ${limits.clientTimeoutSecondsMax}\n`);
  });
});

describe('a node that does not answer', () => {
  it('names the address tried, in one line, and exits 1', async () => {
    const closed = `127.0.0.1:${await freePort()}`; // free a moment ago: nothing listens there
    const result = await runCli(['--endpoint', closed, 'status']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^mbdir: UNAVAILABLE: no mbdir node answered at ${closed.replace(/\./g, '\\.')} \\(connection refused\\)\n$`));
    expect(result.stderr).not.toMatch(/Resolution note|No connection established/);
  });

  it('status --wait gives up after its seconds, naming the address, and answers at once when the node is up', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const [waited, up, tooLong] = await Promise.all([
      runCli(['--endpoint', closed, 'status', '--wait', '1']),
      mbdir('status', '--wait', '3600'),
      mbdir('status', '--wait', '3601'),
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toBe(`mbdir: not ready after 1 s: no mbdir node answered at ${closed} (connection refused)\n`);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^node \S+ {2}engine standalone/);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^mbdir: .*--wait 3601 is more than 3600 seconds\n$/);
  });
});
