/**
 * The MUPDATE adapter of the real `mbdir serve --mupdate-listen` process, spoken
 * raw over a socket as Cyrus 3.6 speaks it: banner, SASL PLAIN with a token
 * (with and without an initial response, refused, cancelled), each command and
 * its exact answer, strings that are not UTF-8 refused, a half-close answered
 * to its last command, RESERVE conflicts by server part, a replica partner, roles,
 * the generated uniqueid and its adoption by gRPC, and UPDATE (dump order, live
 * push, partial UPDATE, NOOP). One node serves the file; each test uses its own names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { literal, MupdateClient, mupdatePort, plain } from '../helpers/mupdate-client.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-mupdate-'));
const tokenFile = join(directory, 'tokens');
const tokens: Record<string, string> = {};
let node: ServerProcess;
let port: number;
let admin: MbdirClient;
const clients: MupdateClient[] = [];

async function addToken(name: string, role: string): Promise<void> {
  const result = await runCli(['token', 'add', '--tokens', tokenFile, '--name', name, '--role', role]);
  expect(result.code, result.stderr).toBe(0);
  tokens[name] = result.stdout.trim();
}

/** A logged-in MUPDATE connection as principal `name`. */
async function as(name: string): Promise<MupdateClient> {
  const client = await MupdateClient.login(port, tokens[name]);
  clients.push(client);
  expect(client.received).toContain('A01 OK "Authenticated"\r\n');
  return client;
}

beforeAll(async () => {
  for (const [name, role] of [
    ['ops', 'admin'],
    ['frontend', 'proxy'],
    ['be1', 'backend:backend1'],
    ['be2', 'backend:backend2'],
    ['be3', 'backend:backend3'],
  ]) {
    await addToken(name as string, role as string);
  }
  node = await startServer(['--tokens', tokenFile, '--mupdate-listen', '127.0.0.1:0']);
  port = mupdatePort(node);
  admin = node.client(tokens['ops']);
  await admin.putServer({ name: 'backend1' });
  await admin.putServer({ name: 'backend2' });
  await admin.putServer({ name: 'backend3', replica_partner: 'backend1' });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await node?.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('MUPDATE banner and login', () => {
  it('greets as a Cyrus master and logs in with a token as the PLAIN password (initial response)', async () => {
    const client = await MupdateClient.connect(port);
    clients.push(client);
    await client.waitFor(/\* OK MUPDATE .*\r\n/);
    expect(client.received).toMatch(/^\* AUTH "PLAIN"\r\n\* PARTIAL-UPDATE\r\n\* OK MUPDATE "[^"]+" "mbdir" "[^"]+" "\(master\)"\r\n$/);
    expect(await client.command('A01', `AUTHENTICATE "PLAIN" ${literal(plain(tokens['be1'] ?? ''))}`)).toBe('A01 OK "Authenticated"\r\n');
    expect(await client.command('A02', 'AUTHENTICATE "PLAIN" "=="')).toBe('A02 BAD "already authenticated"\r\n');
  });

  it('sends an empty challenge (a bare CRLF) without an initial response; * cancels', async () => {
    const client = await MupdateClient.connect(port);
    clients.push(client);
    await client.waitFor(/\* OK MUPDATE .*\r\n/);
    const start = client.received.length;
    client.send('A01 AUTHENTICATE "PLAIN"\r\n');
    await client.waitFor((text) => text.length > start);
    expect(client.received.slice(start)).toBe('\r\n');
    client.send('*\r\n');
    await client.waitFor(/A01 NO Client canceled authentication\r\n/);
    client.send('A02 AUTHENTICATE "plain"\r\n');
    await client.waitFor(/\r\n\r\n$/);
    client.send(`${plain(tokens['frontend'] ?? '')}\r\n`);
    await client.waitFor(/A02 OK "Authenticated"\r\n/);
  });

  it('after a SASL response over the line limit, the next AUTHENTICATE on the connection logs in', async () => {
    const client = await MupdateClient.connect(port);
    clients.push(client);
    await client.waitFor(/\* OK MUPDATE .*\r\n/);
    client.send('A01 AUTHENTICATE "PLAIN"\r\n');
    await client.waitFor(/\r\n\r\n$/);
    client.send(`${'A'.repeat(9000)}\r\n`);
    await client.waitFor(/A01 BAD "SASL response too long"\r\n/);
    const start = client.received.length;
    client.send('A02 AUTHENTICATE "PLAIN"\r\n');
    await client.waitFor((text) => text.slice(start) === '\r\n');
    client.send(`${plain(tokens['be1'] ?? '')}\r\n`);
    await client.waitFor(/A02 OK "Authenticated"\r\n/);
    expect(await client.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');
  });

  it('refuses a bad token and keeps the connection for another try; commands before login are refused', async () => {
    const client = await MupdateClient.connect(port);
    clients.push(client);
    await client.waitFor(/\* OK MUPDATE .*\r\n/);
    expect(await client.command('X0', 'FIND "user.a"')).toBe('X0 BAD "Please login first"\r\n');
    expect(await client.command('A01', `AUTHENTICATE "PLAIN" "${plain('mbdir_not-a-token')}"`)).toBe('A01 NO "authentication failure"\r\n');
    expect(await client.command('A02', 'AUTHENTICATE "PLAIN" "bm90IGJhc2U2NA"')).toMatch(/^A02 NO "SASL PLAIN response is not base64"\r\n$/);
    expect(await client.command('A03', 'AUTHENTICATE "DIGEST-MD5"')).toMatch(/^A03 NO ".*use PLAIN"\r\n$/);
    expect(await client.command('A04', `AUTHENTICATE "PLAIN" "${plain(tokens['be1'] ?? '')}"`)).toBe('A04 OK "Authenticated"\r\n');
    expect(await client.command('Q01', 'LOGOUT')).toBe('Q01 OK "bye-bye"\r\n');
    await client.waitFor(() => client.closed);
  });
});

describe('MUPDATE commands', () => {
  it("answers each command with Cyrus's texts", async () => {
    const be1 = await as('be1');
    expect(await be1.command('X0', `RESERVE ${literal('user.cmd')} ${literal('backend1!default')}`)).toBe('X0 OK "done"\r\n');
    expect(await be1.command('X1', 'FIND "user.cmd"')).toBe('X1 RESERVE {8+}\r\nuser.cmd {16+}\r\nbackend1!default\r\nX1 OK "Search completed"\r\n');
    expect(await be1.command('X2', `ACTIVATE ${literal('user.cmd')} ${literal('backend1!default')} ${literal('cmd\tlrswipkxtecdan\t-eve\tr\t')}`)).toBe('X2 OK "done"\r\n');
    expect(await be1.command('X3', 'FIND {8+}\r\nuser.cmd')).toBe(
      'X3 MAILBOX {8+}\r\nuser.cmd {16+}\r\nbackend1!default {26+}\r\ncmd\tlrswipkxtecdan\t-eve\tr\t\r\nX3 OK "Search completed"\r\n',
    );
    expect(await be1.command('X4', 'FIND "user.none"')).toBe('X4 OK "Search completed"\r\n');
    expect(await be1.command('X5', 'DELETE "user.none"')).toBe('X5 OK "done"\r\n');
    expect(await be1.command('X6', 'DEACTIVATE "user.none" "backend1!default"')).toBe('X6 NO "mailbox doesn\'t exist"\r\n');
    expect(await be1.command('X7', 'BLURB "x"')).toBe('X7 BAD "Unrecognized command"\r\n');
    expect(await be1.command('X8', 'ACTIVATE "user.cmd" "backend1!default"')).toBe('X8 BAD "Missing arguments"\r\n');
    expect(await be1.command('X9', 'FIND "a" "b"')).toBe('X9 BAD "Extra arguments"\r\n');
    expect(await be1.command('X10', 'FIND "user..bad"')).toMatch(/^X10 BAD "mailbox name \\"user..bad\\" .*"\r\n$/);
    expect(await be1.command('X11', 'ACTIVATE "user.cmd2" "nowhere!default" ""')).toBe(
      'X11 NO "server \\"nowhere\\" is not a registered server: register it first with mbdir server-put nowhere --imap IP:PORT --lmtp IP:PORT (PutServer)"\r\n',
    );
    expect(await be1.command('X12', 'ACTIVATE "user.cmd" "backend1!default" "cmd\tlr\textra\t"')).toMatch(/^X12 BAD "ACL .* pairs"\r\n$/);
    expect(await be1.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');
    // A synchronizing literal: the client waits for "+ go ahead" before sending it.
    const start = be1.received.length;
    be1.send('X15 FIND {8}\r\n');
    await be1.waitFor((text) => text.slice(start) === '+ go ahead\r\n');
    be1.send('user.cmd\r\n');
    await be1.waitFor(/X15 OK "Search completed"\r\n/);
    expect(be1.received.slice(start)).toMatch(/^\+ go ahead\r\nX15 MAILBOX \{8\+\}\r\nuser\.cmd /);
    expect(await be1.command('X13', 'DELETE "user.cmd"')).toBe('X13 OK "done"\r\n');
    expect(await be1.command('X14', 'FIND "user.cmd"')).toBe('X14 OK "Search completed"\r\n');
  });

  it('refuses a string that is not UTF-8 with BAD, changing nothing, and goes on: two byte names never become one', async () => {
    const be1 = await as('be1');
    /** Sends `TAG COMMAND {n+}\r\nNAME REST\r\n` with NAME's bytes as given; resolves with the answer. */
    const withName = async (tag: string, command: string, name: Buffer, rest = ''): Promise<string> => {
      const start = be1.received.length;
      be1.socket.write(Buffer.concat([Buffer.from(`${tag} ${command} {${name.length}+}\r\n`), name, Buffer.from(`${rest}\r\n`)]));
      const answer = new RegExp(`(^|\\n)${tag} (OK|NO|BAD)( .*)?\\r\\n`);
      await be1.waitFor((text) => answer.test(text.slice(start)));
      return be1.received.slice(start);
    };
    const xff = Buffer.from([...Buffer.from('user.x'), 0xff]);
    const xfe = Buffer.from([...Buffer.from('user.x'), 0xfe]);
    expect(await withName('X1', 'ACTIVATE', xff, ` "backend1!default" "${'x\tlrs\t'}"`)).toBe('X1 BAD "string is not valid UTF-8"\r\n');
    expect(await withName('X2', 'RESERVE', xfe, ' "backend1!default"')).toBe('X2 BAD "string is not valid UTF-8"\r\n');
    expect(await withName('X3', 'FIND', xfe)).toBe('X3 BAD "string is not valid UTF-8"\r\n');
    // A quoted string too, and a later literal on the refused line is read, not taken for a command.
    const start = be1.received.length;
    be1.socket.write(Buffer.concat([Buffer.from('X4 RESERVE "user.q'), Buffer.from([0xc3, 0x28]), Buffer.from('" {16+}\r\nbackend1!default\r\n')]));
    await be1.waitFor((text) => text.slice(start).includes('X4 '));
    expect(await be1.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');
    expect(be1.received.slice(start)).toBe('X4 BAD "string is not valid UTF-8"\r\nN1 OK "Noop done"\r\n');
    expect(await be1.command('X5', `FIND "user.x\ufffd"`)).toBe('X5 OK "Search completed"\r\n');
    expect(await be1.command('X6', 'LIST "backend1!"')).not.toMatch(/user\.x\ufffd|user\.q/);
  });

  it("a client's half-close still gets the answers to every command it sent, in order, then the close; a streaming UPDATE's is closed", async () => {
    await (await as('be1')).command('X0', `ACTIVATE "user.halfone" "backend1!hc" "${'one\tlrs\t'}"`);
    const client = await MupdateClient.connect(port);
    clients.push(client);
    await client.waitFor(/\* OK MUPDATE .*\r\n/);
    const start = client.received.length;
    client.socket.end(
      `A AUTHENTICATE "PLAIN" ${literal(plain(tokens['be1'] ?? ''))}\r\nF FIND "user.halfone"\r\n` +
        'R RESERVE "user.halfclose" "backend1!hc"\r\nL LIST "backend1!hc"\r\nN NOOP\r\n',
    );
    await client.waitFor(() => client.closed);
    const one = 'MAILBOX {12+}\r\nuser.halfone {11+}\r\nbackend1!hc {8+}\r\none\tlrs\t\r\n';
    expect(client.received.slice(start)).toBe(
      `A OK "Authenticated"\r\nF ${one}F OK "Search completed"\r\nR OK "done"\r\n` +
        `L RESERVE {14+}\r\nuser.halfclose {11+}\r\nbackend1!hc\r\nL ${one}L OK "list complete"\r\nN OK "Noop done"\r\n`,
    );

    const follower = await as('frontend');
    await follower.command('U01', 'UPDATE "backend2"', 10_000);
    follower.socket.end();
    await follower.waitFor(() => follower.closed);
  });

  it('DEACTIVATE hands an active mailbox over as RESERVED without its ACL; then not active', async () => {
    const be1 = await as('be1');
    await be1.command('X0', `ACTIVATE "user.xfer" "backend1!default" "${'xfer\tlrs\t'}"`);
    expect(await be1.command('X1', 'DEACTIVATE "user.xfer" "backend2!p2"')).toBe('X1 OK "done"\r\n');
    expect(await be1.command('X2', 'FIND "user.xfer"')).toBe('X2 RESERVE {9+}\r\nuser.xfer {11+}\r\nbackend2!p2\r\nX2 OK "Search completed"\r\n');
    expect(await be1.command('X3', 'DEACTIVATE "user.xfer" "backend2!p2"')).toMatch(/^X3 NO "mailbox not currently active.*"\r\n$/);
    const be2 = await as('be2');
    expect(await be2.command('X4', `ACTIVATE "user.xfer" "backend2!p2" "${'xfer\tlrs\t'}"`)).toBe('X4 OK "done"\r\n');
    const record = (await admin.getMailbox({ name: 'user.xfer' }))['mailbox']!;
    expect([record['server'], record['partition'], record['state']]).toEqual(['backend2', 'p2', 'ACTIVE']);
  });

  it("a failed XFER: the source's ACTIVATE at itself takes the handed-off mailbox back, as Cyrus's xfer_recover sends it", async () => {
    const be1 = await as('be1');
    await be1.command('X0', `ACTIVATE "user.back" "backend1!default" "${'back\tlrs\t'}"`);
    expect(await be1.command('X1', 'DEACTIVATE "user.back" "backend2!p2"')).toBe('X1 OK "done"\r\n');
    expect(await be1.command('X2', `ACTIVATE "user.back" "backend1!default" "${'back\tlrs\t'}"`)).toBe('X2 OK "done"\r\n');
    expect(await be1.command('X3', 'FIND "user.back"')).toBe('X3 MAILBOX {9+}\r\nuser.back {16+}\r\nbackend1!default {9+}\r\nback\tlrs\t\r\nX3 OK "Search completed"\r\n');
  });

  it('RESERVE of a name held on another server: "mailbox already exists"; the same server (be! or be!default) is fine', async () => {
    const be1 = await as('be1');
    const be2 = await as('be2');
    await be1.command('X0', `ACTIVATE "user.held" "backend1!default" "${'held\tlrs\t'}"`);
    expect(await be2.command('X1', 'RESERVE "user.held" "backend2!default"')).toBe('X1 NO "mailbox already exists"\r\n');
    expect(await be1.command('X2', 'RESERVE "user.held" "backend1!"')).toBe('X2 OK "done"\r\n');
    expect(await be1.command('X3', 'RESERVE "user.held" "backend1!default"')).toBe('X3 OK "done"\r\n');
    // The rename quirk: `be!` keeps the partition on record.
    expect(await be1.command('X4', `ACTIVATE "user.held" "backend1!" "${'held\tlrsw\t'}"`)).toBe('X4 OK "done"\r\n');
    expect(await be1.command('X5', 'FIND "user.held"')).toContain('backend1!default {10+}\r\nheld\tlrsw\t\r\n');
  });

  it("a backend writes only its own server's mailboxes; a proxy only reads", async () => {
    const be2 = await as('be2');
    const frontend = await as('frontend');
    await (await as('be1')).command('X0', `ACTIVATE "user.mine" "backend1!default" "${'mine\tlrs\t'}"`);
    expect(await be2.command('X1', `ACTIVATE "user.mine" "backend2!default" "${'mine\tlrs\t'}"`)).toMatch(/^X1 NO "permission denied: backend:backend2 may write only .*"\r\n$/);
    expect(await be2.command('X2', 'DELETE "user.mine"')).toMatch(/^X2 NO "permission denied: .*"\r\n$/);
    expect(await frontend.command('X3', 'RESERVE "user.fe" "backend1!default"')).toMatch(/^X3 NO "permission denied: frontend \(role proxy\) may not call CreateMailbox.*"\r\n$/);
    expect(await frontend.command('X4', 'FIND "user.mine"')).toContain('X4 MAILBOX');
  });

  it("the holder's replica partner registers a replica instead of a conflict, and sees its own location", async () => {
    const be1 = await as('be1');
    const be3 = await as('be3');
    await be1.command('X0', `ACTIVATE "user.pair" "backend1!default" "${'pair\tlrs\t'}"`);
    expect(await be3.command('X1', 'RESERVE "user.pair" "backend3!r3"')).toBe('X1 OK "done"\r\n');
    expect(await be3.command('X2', `ACTIVATE "user.pair" "backend3!r3" "${'pair\tlrs\t'}"`)).toBe('X2 OK "done"\r\n');
    const record = (await admin.getMailbox({ name: 'user.pair' }))['mailbox']!;
    expect(record['server']).toBe('backend1');
    expect(record['replicas']).toEqual([{ server: 'backend3', partition: 'r3' }]);
    expect(await be3.command('X3', 'FIND "user.pair"')).toContain('backend3!r3');
    expect(await be1.command('X4', 'FIND "user.pair"')).toContain('backend1!default');
    expect(await be3.command('X5', 'LIST "backend3!"')).toBe('X5 MAILBOX {9+}\r\nuser.pair {11+}\r\nbackend3!r3 {9+}\r\npair\tlrs\t\r\nX5 OK "list complete"\r\n');
    // The replica's DELETE removes only the replica.
    expect(await be3.command('X6', 'DELETE "user.pair"')).toBe('X6 OK "done"\r\n');
    const after = (await admin.getMailbox({ name: 'user.pair' }))['mailbox']!;
    expect([after['server'], after['replicas']]).toEqual(['backend1', []]);
  });

  it('a record made over MUPDATE has a generated uniqueid that a create or SyncServer with the real one adopts', async () => {
    const be1 = await as('be1');
    await be1.command('X0', `ACTIVATE "user.gen" "backend1!default" "${'gen\tlrs\t'}"`);
    await be1.command('X1', `ACTIVATE "user.gen2" "backend1!default" "${'gen2\tlrs\t'}"`);
    const made = (await admin.getMailbox({ name: 'user.gen' }))['mailbox']!;
    expect(made['uniqueid_generated']).toBe(true);
    const backend = node.client(tokens['be1']);
    const created = await backend.createMailbox({ mailbox: { name: 'user.gen', uniqueid: 'real-uid-gen', server: 'backend1' } });
    expect(created['outcome']).toBe('ALREADY_PRESENT');
    const adopted = (await admin.getMailbox({ name: 'user.gen' }))['mailbox']!;
    expect([adopted['uniqueid'], adopted['uniqueid_generated'], adopted['acl']]).toEqual(['real-uid-gen', false, [{ identifier: 'gen', rights: 'lrs' }]]);
    // A different server bringing an id is still a conflict (no fork).
    await expect(admin.createMailbox({ mailbox: { name: 'user.gen2', uniqueid: 'other-uid', server: 'backend2' } })).rejects.toThrow(/already|held/);
    const listed = await admin.getMailbox({ name: 'user.gen2' });
    expect((listed['mailbox']!)['uniqueid_generated']).toBe(true);

    // SyncServer (what ctl_mboxlist -m would carry) from the holding server adopts too: reported updated, not a conflict.
    await admin.putServer({ name: 'backend4' });
    const ops = await as('ops');
    await ops.command('X2', `ACTIVATE "user.gen4" "backend4!default" "${'gen4\tlrs\t'}"`);
    const entry = {
      uniqueid: 'real-uid-gen4', name: 'user.gen4', server: 'backend4', partition: 'default', replicas: [],
      acl: [{ identifier: 'gen4', rights: 'lrs' }], mbtype: 'e', state: 'ACTIVE' as const, uidvalidity: 7,
      createdmodseq: 1, foldermodseq: 1, revision: 0, name_history: [], uniqueid_generated: false,
    };
    const report = await admin.syncServer('backend4', false, [[entry]]);
    expect(report['updated_count']).toBe(1);
    expect(report['conflicting_count']).toBe(0);
    const synced = (await admin.getMailbox({ name: 'user.gen4' }))['mailbox']!;
    expect([synced['uniqueid'], synced['uniqueid_generated'], synced['uidvalidity']]).toEqual(['real-uid-gen4', false, 7]);
  });
});

describe('MUPDATE LIST and UPDATE', () => {
  it("LIST answers in Cyrus 3.6 dbname order, filtered by a byte prefix of server!partition", async () => {
    const be2 = await as('be2');
    for (const name of ['user.zed', 'user.ab-c', 'user.ab.c', 'user.ab', 'shared.x']) {
      await be2.command('X', `ACTIVATE "${name}" "backend2!lst" "${'anyone\tlr\t'}"`);
    }
    const listed = await be2.command('L1', 'LIST "backend2!lst"');
    const names = [...listed.matchAll(/^L1 MAILBOX \{\d+\+\}\r\n(\S+) /gm)].map((match) => match[1]);
    expect(names).toEqual(['shared.x', 'user.ab', 'user.ab.c', 'user.ab-c', 'user.zed']);
    expect(await be2.command('L2', 'LIST "backend2!lsu"')).toBe('L2 OK "list complete"\r\n');
  });

  it('UPDATE dumps MAILBOX and RESERVE lines in dbname order, then pushes live changes at once; NOOP answers; a partial UPDATE sees one server', async () => {
    const be1 = await as('be1');
    const be2 = await as('be2');
    for (const name of ['user.up-b', 'user.up.b', 'user.up']) await be1.command('X', `ACTIVATE "${name}" "backend1!upd" "${'up\tlrs\t'}"`);
    await be1.command('X', 'RESERVE "user.up.held" "backend1!upd"');
    const frontend = await as('frontend');
    const dump = await frontend.command('U01', 'UPDATE', 10_000);
    const names = [...dump.matchAll(/^U01 MAILBOX \{\d+\+\}\r\n(user\.up\S*) /gm)].map((match) => match[1]);
    expect(names).toEqual(['user.up', 'user.up.b', 'user.up-b']);
    expect(dump).toContain('U01 RESERVE {12+}\r\nuser.up.held {12+}\r\nbackend1!upd\r\n'); // a reservation is in the dump, as Cyrus's master sends it
    expect(dump).not.toMatch(/^U01 DELETE/m);
    expect(dump.endsWith('U01 OK "streaming starts"\r\n')).toBe(true);
    const partial = await as('frontend');
    const partialDump = await partial.command('U02', 'UPDATE "backend2"', 10_000);
    expect(partialDump).not.toContain('backend1!');

    const before = frontend.received.length;
    await be1.command('X1', `ACTIVATE "user.live" "backend1!default" "${'live\tlrs\t'}"`);
    await frontend.waitFor((text) => text.slice(before).includes('U01 MAILBOX {9+}\r\nuser.live {16+}\r\nbackend1!default {9+}\r\nlive\tlrs\t\r\n'));
    await be1.command('X2', 'DELETE "user.live"');
    await frontend.waitFor((text) => text.slice(before).includes('U01 DELETE {9+}\r\nuser.live\r\n'));
    expect(await frontend.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');
    expect(await frontend.command('X3', 'FIND "user.live"')).toBe('X3 BAD "not legal when streaming"\r\n');

    const partialBefore = partial.received.length;
    await be2.command('X4', `ACTIVATE "user.p2" "backend2!default" "${'p2\tlrs\t'}"`);
    await partial.waitFor((text) => text.slice(partialBefore).includes('U02 MAILBOX {7+}\r\nuser.p2 '));
    expect(partial.received.slice(partialBefore)).not.toContain('user.live');
  });
});

describe('MUPDATE settings', () => {
  it('refuses a non-loopback --mupdate-listen without tokens and a bad literal style, naming them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-mupdate-settings-'));
    try {
      const open = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--mupdate-listen', '0.0.0.0:0']);
      expect(open.code).toBe(1);
      expect(open.stderr).toMatch(/refusing to serve MUPDATE on 0\.0\.0\.0:0 without --tokens/);
      const style = await runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--mupdate-literals', 'fancy']);
      expect(style.code).toBe(1);
      expect(style.stderr).toMatch(/setting mupdateLiterals is "fancy"; expected one of plus, sync/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('takes MBDIR_MUPDATE_LISTEN from the environment and prints where it serves', async () => {
    const other = await startServer([], { env: { MBDIR_MUPDATE_LISTEN: '127.0.0.1:0' } });
    try {
      const client = await MupdateClient.login(mupdatePort(other));
      clients.push(client);
      expect(await client.command('N1', 'NOOP')).toBe('N1 OK "Noop done"\r\n');
    } finally {
      await other.stop();
    }
  });
});
