/**
 * Principals and roles through the real server: tokens from `mbdir token add`,
 * what each role may call, a backend confined to its own server, SIGHUP reload
 * without dropping connections, and the loopback-only rule without tokens.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/client.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-auth-'));
const tokenFile = join(directory, 'tokens');
const tokens: Record<string, string> = {};
let server: ServerProcess;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'OK',
    (error: unknown) => (error instanceof ClientError ? `${error.codeName}: ${error.details}` : String(error)),
  );
}

async function addToken(name: string, role: string): Promise<string> {
  const result = await runCli(['token', 'add', '--tokens', tokenFile, '--name', name, '--role', role]);
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

beforeAll(async () => {
  for (const [name, role] of [['ops', 'admin'], ['b1', 'backend:b1'], ['nginx', 'proxy'], ['job', 'rebalancer']] as const) {
    tokens[name] = await addToken(name, role);
  }
  server = await startServer(['--tokens', tokenFile]);
  const admin = server.client(tokens['ops']);
  await admin.putServer({ name: 'b1', imap_address: '127.0.0.1:143' });
  await admin.putServer({ name: 'b2', imap_address: '127.0.0.2:143' });
  await admin.createMailbox({ mailbox: { name: 'user.on2', uniqueid: 'on2', server: 'b2' } });
});

afterAll(async () => {
  await server?.stop();
});

describe('token file', () => {
  it('stores hashes, never the tokens', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(tokenFile, 'utf8');
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    expect(text).toMatch(/"sha256":"[0-9a-f]{64}"/);
  });

  it('refuses an unknown role and a duplicate name', async () => {
    const bad = await runCli(['token', 'add', '--tokens', tokenFile, '--name', 'x', '--role', 'root']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/role "root" is not admin, proxy, rebalancer or backend:SERVER/);
    const duplicate = await runCli(['token', 'add', '--tokens', tokenFile, '--name', 'ops', '--role', 'admin']);
    expect(duplicate.stderr).toMatch(/already in/);
  });
});

describe('roles', () => {
  it('refuses calls without a token or with an unknown one', async () => {
    expect(await codeOf(server.client().status())).toMatch(/^UNAUTHENTICATED: no token/);
    expect(await codeOf(server.client('mbdir_nope').status())).toMatch(/^UNAUTHENTICATED: unknown token/);
  });

  it('lets a proxy read and nothing else, naming the role it would need', async () => {
    const proxy = server.client(tokens['nginx']);
    expect(await codeOf(proxy.getMailbox({ name: 'user.on2' }))).toBe('OK');
    expect(await codeOf(proxy.resolveUser({ user: 'on2' }))).toBe('OK');
    expect(await codeOf(proxy.deleteMailbox({ name: 'user.on2' }))).toMatch(/^PERMISSION_DENIED: .*needs admin or backend:SERVER/);
    expect(await codeOf(proxy.putServer({ name: 'b9' }))).toMatch(/^PERMISSION_DENIED: .*needs admin/);
  });

  it('confines a backend to its own server', async () => {
    const backend = server.client(tokens['b1']);
    expect(await codeOf(backend.createMailbox({ mailbox: { name: 'user.mine', uniqueid: 'mine', server: 'b1' } }))).toBe('OK');
    expect(await codeOf(backend.setAcl({ name: 'user.mine', identifier: 'mine', rights: 'lrs' }))).toBe('OK');
    expect(await codeOf(backend.createMailbox({ mailbox: { name: 'user.theirs', server: 'b2' } }))).toMatch(/^PERMISSION_DENIED: .*would be on b2/);
    expect(await codeOf(backend.deleteMailbox({ name: 'user.on2' }))).toMatch(/^PERMISSION_DENIED: .*"user.on2" is on b2/);
    expect(await codeOf(backend.renameMailbox({ name: 'user.on2', new_name: 'user.stolen' }))).toMatch(/^PERMISSION_DENIED/);
    expect(await codeOf(backend.moveUser({ user: 'mine', from_server: 'b1', to_server: 'b2' }))).toMatch(/^PERMISSION_DENIED: .*needs admin or rebalancer/);
    // A replica pair: the backend registers its copy of b2's mailbox.
    expect(await codeOf(backend.createMailbox({ mailbox: { name: 'user.on2', uniqueid: 'on2', server: 'b1' } }))).toBe('OK');
    const admin = server.client(tokens['ops']);
    const record = await admin.getMailbox({ name: 'user.on2' });
    expect((record['mailbox']!)['server']).toBe('b2');
  });

  it('lets the rebalancer plan and move, not create', async () => {
    const job = server.client(tokens['job']);
    expect(await codeOf(job.planRebalance({}))).toBe('OK');
    expect(await codeOf(job.moveUser({ user: 'mine', from_server: 'b1', to_server: 'b2' }))).toBe('OK');
    expect(await codeOf(job.createMailbox({ mailbox: { name: 'user.job' } }))).toMatch(/^PERMISSION_DENIED/);
  });
});

describe('reload and start-up rules', () => {
  it('reloads the token file on SIGHUP, keeping open connections, and keeps the old file when the new one is bad', async () => {
    const admin = server.client(tokens['ops']);
    const late = await addToken('late', 'proxy');
    expect(await codeOf(server.client(late).status())).toMatch(/^UNAUTHENTICATED/);
    server.process.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await codeOf(server.client(late).status())).toBe('OK');
    expect(await codeOf(admin.status())).toBe('OK');
    const { readFileSync } = await import('node:fs');
    const good = readFileSync(tokenFile, 'utf8');
    writeFileSync(tokenFile, 'not json\n');
    server.process.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await codeOf(server.client(late).status())).toBe('OK');
    expect(server.stderr()).toMatch(/token file reload failed; keeping the previous tokens/);
    writeFileSync(tokenFile, good);
  });

  it('refuses a non-loopback listen address without tokens, and warns on loopback', async () => {
    const refused = await runCli(['serve', '--listen', '0.0.0.0:0', '--data-dir', join(directory, 'refused')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to listen on 0.0.0.0:0 without --tokens/);
    const open = await startServer();
    expect(open.stderr()).toMatch(/every caller is admin; serving on loopback only/);
    await open.stop();
  });
});
