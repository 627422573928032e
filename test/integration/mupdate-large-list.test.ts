// MUPDATE answers larger than the session's socket buffer (limits.mupdateSocketBufferBytesMax):
// a LIST of one server's 20,000 mailboxes (about 2 MiB) must come whole. It once
// stalled after the first MiB: the session waited for a 'drain' that a socket
// taking the whole text at once never emits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { MupdateClient } from '../../tools/bench/mupdate-client.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-large-list-'));
let node: ServerProcess | undefined;

beforeAll(async () => {
  const generated = await runCli(['bench', 'generate', '--data-dir', dataDir, '--users', '1000', '--folders', '20', '--servers', '1', '--public-folders', '0']);
  expect(generated.code, generated.stderr).toBe(0);
  node = await startServer(['--mupdate-listen', '127.0.0.1:0'], { dataDir, protocols: ['MUPDATE'] });
});

afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('MUPDATE answers over the socket buffer', () => {
  it('LIST of one server with 20,000 mailboxes comes whole', { timeout: 20_000 }, async () => {
    const client = await MupdateClient.open(node?.served.get('MUPDATE') ?? '', 'admin', 'any');
    try {
      const entries = await client.list('backend1!');
      expect(entries.length).toBe(20_000);
      const bytes = entries.reduce((sum, entry) => sum + entry.name.length + (entry.acl ?? '').length + 40, 0);
      expect(bytes).toBeGreaterThan(limits.mupdateSocketBufferBytesMax);
      // The connection still answers after it.
      expect(await client.find(entries[123]?.name ?? '')).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
