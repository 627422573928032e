/**
 * Backup and restore, and the audit log, on a real node driven with tokens.
 * Backups are taken while writers create mailboxes, both from the data
 * directory and through the Backup stream; each is restored into a fresh data
 * directory, and a node started there answers ScanMailboxes exactly as the
 * source held it at the backup's revision. restore refuses what it must. The
 * node's log has one line per write and never a token's text.
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { expectError, scanAll } from '../helpers/integration.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-backup-'));
const tokenFile = join(directory, 'tokens');
const tokens: Record<string, string> = {};
const started: ServerProcess[] = [];
let source: ServerProcess;
let admin: MbdirClient;

interface Acked {
  name: string;
  revision: number;
}
const acked: Acked[] = [];

async function addToken(name: string, role: string): Promise<string> {
  const result = await runCli(['token', 'add', '--tokens', tokenFile, '--name', name, '--role', role]);
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

beforeAll(async () => {
  tokens['ops'] = await addToken('ops', 'admin');
  tokens['nginx'] = await addToken('nginx', 'proxy');
  source = await startServer(['--tokens', tokenFile, '--log-level', 'trace']);
  started.push(source);
  admin = source.client(tokens['ops']);
  await admin.putServer({ name: 'backend1' });
}, 30_000);

afterAll(async () => {
  for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
  rmSync(directory, { recursive: true, force: true });
});

/** Creates mailboxes until `keepGoing` says stop, recording each acknowledged one. */
async function writer(id: number, keepGoing: () => boolean): Promise<void> {
  for (let index = 0; keepGoing(); index += 1) {
    const name = `user.b${id}.f${index}`;
    const answer = await admin.createMailbox({ mailbox: { name, server: 'backend1' } });
    acked.push({ name, revision: Number(answer['revision']) });
  }
}

const cli = (args: string[]) => runCli(['--endpoint', source.endpoint, ...args], { MBDIR_TOKEN: tokens['ops'] ?? '' });

const sorted = (mailboxes: readonly object[]): string[] => mailboxes.map((mailbox) => JSON.stringify(mailbox)).sort();

describe('backup during writes, restore', () => {
  const backups: Array<{ how: string; file: string; revision: number }> = [];

  it('backs up from the data directory and through the endpoint while writers run', async () => {
    let writing = true;
    const writers = [writer(0, () => writing), writer(1, () => writing)];
    while (acked.length < 100) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const [how, extra] of [
      ['data-dir', ['--data-dir', source.dataDir]],
      ['endpoint', []],
    ] as const) {
      const file = join(directory, `${how}.backup`);
      const result = await cli(['backup', ...extra, '--out', file, '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const facts = JSON.parse(result.stdout) as { revision: number; mailboxes: number };
      backups.push({ how, file, revision: facts.revision });
    }
    const countAtSecond = acked.length;
    while (acked.length < countAtSecond + 20) await new Promise((resolve) => setTimeout(resolve, 20));
    writing = false;
    await Promise.all(writers);
    // Taken during the writes: neither backup is empty, and writes went on after both.
    for (const backup of backups) expect(backup.revision).toBeGreaterThan(1);
    expect(Math.max(...acked.map((write) => write.revision))).toBeGreaterThan(Math.max(...backups.map((backup) => backup.revision)));
  }, 60_000);

  it('restores each into a node that answers the same scan as the source at that revision', async () => {
    const sourceScan = await scanAll(admin);
    expect(sourceScan.length).toBe(acked.length);
    for (const backup of backups) {
      const dataDir = join(directory, `restored-${backup.how}`);
      const restored = await runCli(['restore', backup.file, '--data-dir', dataDir]);
      expect(restored.code).toBe(0);
      expect(restored.stdout).toContain(`restored revision ${backup.revision}`);
      const node = await startServer([], { dataDir });
      started.push(node);
      const client = node.client();
      expect(Number((await client.status())['applied_revision'])).toBe(backup.revision);
      const atRevision = sourceScan.filter((mailbox) => Number(mailbox['revision']) <= backup.revision);
      expect(sorted(await scanAll(client))).toEqual(sorted(atRevision));
      // Every write acknowledged at or before that revision is there; none after it.
      expect(atRevision.length).toBe(acked.filter((write) => write.revision <= backup.revision).length);
      // A proxy that followed the source past the backup is told to start over, not fed reused revisions.
      await expectError(client.watch({ from_revision: backup.revision + 1 }).next(), 'FAILED_PRECONDITION', /ahead of this directory.*watch from 0/);
      await node.stop();
    }
  }, 60_000);

  it('refuses a non-empty or in-use directory, a damaged file and a newer schema', async () => {
    const file = backups[0]?.file ?? '';
    const nonEmpty = join(directory, 'non-empty');
    mkdirSync(nonEmpty);
    writeFileSync(join(nonEmpty, 'notes.txt'), 'keep me');
    const refused = await runCli(['restore', file, '--data-dir', nonEmpty]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not empty \(notes\.txt\): give --force/);
    const forced = await runCli(['restore', file, '--data-dir', nonEmpty, '--force']);
    expect(forced.code).toBe(0);

    const inUse = await runCli(['restore', file, '--data-dir', source.dataDir, '--force']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/is in use .*stop the node first/);

    const damaged = join(directory, 'damaged.backup');
    copyFileSync(file, damaged);
    const fd = openSync(damaged, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096 * 3); // a page of the tables overwritten
    closeSync(fd);
    const bad = await runCli(['restore', damaged, '--data-dir', join(directory, 'from-damaged')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/integrity_check|not an mbdir database|malformed/);

    const newer = join(directory, 'newer.backup');
    copyFileSync(file, newer);
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    const future = await runCli(['restore', newer, '--data-dir', join(directory, 'from-newer')]);
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/schema version 99; this mbdir reads 1 to \d+/);
  }, 30_000);

  it('lets only admin call Backup', async () => {
    await expectError(source.client(tokens['nginx']).backup().next(), 'PERMISSION_DENIED', /needs admin/);
  });
});

describe('the log of a node driven with tokens', () => {
  it('has one write line per acknowledged write, with principal, method, name and revision', () => {
    const lines = source
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"msg":"write"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const creates = lines.filter((line) => line['method'] === 'CreateMailbox');
    expect(creates.map((line) => `${String(line['name'])}@${String(line['revision'])}`).sort()).toEqual(
      acked.map((write) => `${write.name}@${write.revision}`).sort(),
    );
    for (const line of creates) expect(line).toMatchObject({ principal: 'ops', role: 'admin', level: 30 });
    expect(lines.find((line) => line['method'] === 'PutServer')).toMatchObject({ principal: 'ops', name: 'backend1', revision: 1 });
  });

  it('never holds a token, also one refused', async () => {
    const wrong = `mbdir_${'x'.repeat(43)}`;
    await expectError(source.client(wrong).status(), 'UNAUTHENTICATED');
    await expectError(source.client(tokens['nginx']).deleteMailbox({ name: 'user.b0.f0' }), 'PERMISSION_DENIED');
    const log = source.stderr();
    expect(log.length).toBeGreaterThan(1000);
    for (const token of [...Object.values(tokens), wrong]) {
      expect(log).not.toContain(token);
      expect(log).not.toContain(token.slice(-20)); // nor a piece of one
    }
  });
});
