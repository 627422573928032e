// A write naming a server the directory does not know is refused with
// FAILED_PRECONDITION naming `mbdir server-put` (a mailbox placed there could be
// reached by no proxy): create (primary, replicas, a replica pair), SyncServer,
// MoveUser, PutBusiness. `mbdir import` reports the dump's unknown servers and
// refuses before writing anything unless told `--register-servers`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { create, expectError, scanNames } from '../helpers/integration.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const masterDump = fileURLToPath(new URL('../fixtures/cyrus-3.6/ctl_mboxlist-d-mupdate-master.json', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'mbdir-unknown-servers-'));
let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'known1', imap_address: '127.0.0.1:1143', lmtp_address: '127.0.0.1:1024' });
});

afterAll(async () => {
  await node?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const serverPut = /FAILED_PRECONDITION: .*"nosuchserver" is not a registered server: register it first with mbdir server-put nosuchserver/;

async function serverNames(): Promise<string[]> {
  const answer = (await client.listServers({})) as { servers: Array<{ server: { name: string } }> };
  return answer.servers.map((entry) => entry.server.name).sort();
}

describe('writes naming an unknown server', () => {
  it('refuses `mbdir create --server nosuchserver` with one line naming mbdir server-put, and stores nothing', async () => {
    const result = await runCli(['--endpoint', node.endpoint, 'create', 'user.x', '--server', 'nosuchserver']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(serverPut);
    await expectError(client.getMailbox({ name: 'user.x' }), 'NOT_FOUND');
  });

  it('refuses unknown replica servers, on a new mailbox and as a replica pair', async () => {
    await expectError(
      create(client, { name: 'user.y', server: 'known1', replicas: [{ server: 'nosuchserver', partition: 'default' }] }),
      'FAILED_PRECONDITION',
      /replica server "nosuchserver" is not a registered server.*mbdir server-put/,
    );
    await create(client, { name: 'user.y', uniqueid: 'y1', server: 'known1' });
    await expectError(
      create(client, { name: 'user.y', uniqueid: 'y1', server: 'nosuchserver' }),
      'FAILED_PRECONDITION',
      /"nosuchserver" is not a registered server/,
    );
    const held = await client.getMailbox({ name: 'user.y' });
    expect((held['mailbox']!)['replicas']).toEqual([]);
  });

  it('refuses a SyncServer stream from an unknown server, a move and a business onto one', async () => {
    const entries = [{ name: 'user.z', uniqueid: 'z1' }];
    await expectError(client.syncServer('nosuchserver', false, [entries] as never), 'FAILED_PRECONDITION', /mbdir server-put nosuchserver/);
    await expectError(client.syncServer('nosuchserver', true, [entries] as never), 'FAILED_PRECONDITION', /mbdir server-put nosuchserver/);
    expect(await scanNames(client, { prefix: 'user.z' })).toEqual([]);
    await expectError(
      client.moveUser({ user: 'y', from_server: 'known1', to_server: 'nosuchserver' }),
      'FAILED_PRECONDITION',
      /mbdir server-put nosuchserver/,
    );
    await expectError(client.putBusiness({ id: 'ghost', home_server: 'nosuchserver' }), 'FAILED_PRECONDITION', /mbdir server-put/);
  });

  it('accepts the same create once the server is registered', async () => {
    await client.putServer({ name: 'nosuchserver2' });
    const result = await runCli(['--endpoint', node.endpoint, 'create', 'user.x', '--server', 'nosuchserver2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^CREATED user\.x\s+nosuchserver2!default/);
  });
});

describe('mbdir import of a dump naming unknown servers', () => {
  it('through a node: refuses before writing, naming them, unless --register-servers', async () => {
    const before = await scanNames(client);
    const refused = await runCli(['--endpoint', node.endpoint, 'import', masterDump]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/names 1 server the directory does not know: backend1 \(111 mailboxes\).*mbdir server-put.*--register-servers/);
    expect(await scanNames(client)).toEqual(before);

    const imported = await runCli(['--json', '--endpoint', node.endpoint, 'import', masterDump, '--register-servers']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ written: 111, registeredServers: ['backend1'] });
    expect(await serverNames()).toContain('backend1');
  });

  it('into a data directory: refuses before writing unless --register-servers', async () => {
    const dataDir = join(scratch, 'direct');
    const refused = await runCli(['import', masterDump, '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/names 1 server the directory does not know: backend1 \(111 mailboxes\)/);
    const exported = await runCli(['export', '--data-dir', dataDir]);
    expect(exported.stdout.split('\n').filter((line) => line.includes('"name"'))).toEqual([]);

    const imported = await runCli(['--json', 'import', masterDump, '--data-dir', dataDir, '--register-servers']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ written: 111, registeredServers: ['backend1'] });
  });
});
