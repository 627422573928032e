/**
 * Hostile input against the real server: malformed protobuf bytes, oversized
 * messages, wire types that do not match the contract, unknown enum values,
 * streams abandoned half-way, garbage on the TCP port, and thousands of
 * concurrent bad requests. Every one gets an error; the process stays up and a
 * ScanMailboxes before and after is identical. Random bytes come from a seeded
 * generator; the seed is printed.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailboxesPath, message, field, padTo, placementPath, RawClient, wireType } from '../helpers/raw-grpc.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';
import { seededBytes as randomBytesFrom } from '../../tools/bench/stats.js';
import type { Mailbox__Output } from '../../src/client/messages.js';
import type { LookupStreamResponse__Output } from '../../src/client/messages.js';

const seed = Number(process.env['MBDIR_TEST_SEED'] ?? Date.now() % 1_000_000);
console.log(`hostile.test.ts seed ${seed} (MBDIR_TEST_SEED=${seed} replays it)`);

const random = randomBytesFrom(seed);

let server: ServerProcess;
let adminToken: string;
let raw: RawClient;
let scanBefore: Mailbox__Output[];

async function scanAll(): Promise<Mailbox__Output[]> {
  const client = server.client(adminToken);
  const out: Mailbox__Output[] = [];
  for await (const mailbox of client.scanMailboxes({ include_reserved: true })) out.push(mailbox);
  return out;
}

const lengthDelimited = wireType.lengthDelimited;

/** Bytes that are not a valid encoding of any message. */
const malformed: Array<[string, Buffer]> = [
  ['a truncated varint tag', Buffer.from([0xff])],
  ['a length running past the end', Buffer.from([0x0a, 0x10, 0x01])],
  ['wire type 7, which does not exist', Buffer.from([0x0f, 0x00])],
  ['an unterminated group', Buffer.from([0x0b, 0x0b, 0x0b])],
  ['a mismatched end-group', Buffer.from([0x0c])],
  ['a nested mailbox that is garbage', field(1, lengthDelimited, Buffer.from([0xff, 0xff, 0xff]))],
  ['a 10-byte varint with no end', Buffer.alloc(11, 0xff)],
  ['200,000 nested groups', Buffer.alloc(200_000, 0x0b)],
];

/** Fields whose wire type contradicts the contract. */
const wrongTypes: Array<[string, string, Buffer]> = [
  ['GetMailbox name sent as a varint', mailboxesPath('GetMailbox'), field(1, wireType.varint, 5)],
  ['GetMailbox min_revision sent as a string', mailboxesPath('GetMailbox'), field(3, lengthDelimited, 'abc')],
  ['CreateMailbox mailbox sent as a fixed32', mailboxesPath('CreateMailbox'), field(1, wireType.fixed32, Buffer.alloc(3))],
  ['SetAcl rights sent as a fixed64 cut short', mailboxesPath('SetAcl'), field(3, wireType.fixed64, Buffer.alloc(4))],
];

beforeAll(async () => {
  const tokens = join(mkdtempSync(join(tmpdir(), 'mbdir-hostile-')), 'tokens');
  const added = await runCli(['token', 'add', '--tokens', tokens, '--name', 'ops', '--role', 'admin']);
  expect(added.code).toBe(0);
  adminToken = added.stdout.trim();
  server = await startServer(['--tokens', tokens]);
  raw = new RawClient(server.endpoint, adminToken);
  const client = server.client(adminToken);
  await client.putServer({ name: 'b1', imap_address: '127.0.0.1:143' });
  for (let index = 0; index < 20; index += 1) {
    await client.createMailbox({
      mailbox: { name: `user.u${index}`, uniqueid: `u${index}`, server: 'b1', acl: [{ identifier: 'anyone', rights: 'lr' }] },
    });
  }
  scanBefore = await scanAll();
  expect(scanBefore).toHaveLength(20);
});

afterAll(async () => {
  raw?.close();
  // Whatever happened above, the data is as it was and the process is alive.
  if (server !== undefined) {
    expect(server.process.exitCode).toBeNull();
    expect(await scanAll()).toEqual(scanBefore);
    expect(server.stderr()).not.toMatch(/uncaught|FATAL/i);
    await server.stop();
  }
});

describe('malformed and mistyped messages', () => {
  it.each(malformed)('answers %s with an error, on every method kind', async (_what, bytes) => {
    for (const method of ['CreateMailbox', 'GetMailbox', 'RenameMailbox', 'SetAcl']) {
      expect((await raw.unary(mailboxesPath(method), bytes)).code).not.toBe(grpc.status.OK);
    }
    expect((await raw.unary(placementPath('PutServer'), bytes)).code).not.toBe(grpc.status.OK);
    // protobufjs decodes leniently (a field of wire type 7 reads as an empty string), so a
    // read may succeed as the empty request would: it must then answer exactly that.
    const scan = await raw.serverStream(mailboxesPath('ScanMailboxes'), bytes);
    if (scan.code === grpc.status.OK) expect(scan.messages).toBe(scanBefore.length);
    expect((await raw.clientStream(mailboxesPath('SyncServer'), [bytes])).code).not.toBe(grpc.status.OK);
  });

  it.each(wrongTypes)('answers %s with an error', async (_what, path, bytes) => {
    expect((await raw.unary(path, bytes)).code).not.toBe(grpc.status.OK);
  });

  it('answers seeded random bytes with an error or a harmless read, never a write', async () => {
    for (let round = 0; round < 200; round += 1) {
      const bytes = random(1 + (round % 97));
      for (const method of ['CreateMailbox', 'DeleteMailbox', 'RenameMailbox', 'SetAcl', 'ActivateMailbox']) {
        const answer = await raw.unary(mailboxesPath(method), bytes);
        // A random byte string can happen to decode; it must still not be a valid write.
        expect(answer.code, `seed ${seed} round ${round} ${method} ${bytes.toString('hex')}`).not.toBe(grpc.status.OK);
      }
    }
  });

  it('refuses unknown enum values, naming the field', async () => {
    const mailbox = (state: number): Buffer =>
      message(field(1, lengthDelimited, message(field(1, lengthDelimited, 'enum1'), field(2, lengthDelimited, 'user.enum'), field(3, lengthDelimited, 'b1'), field(8, wireType.varint, state))));
    for (const state of [99, 2 ** 32 - 1]) {
      const answer = await raw.unary(mailboxesPath('CreateMailbox'), mailbox(state));
      expect(answer.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(answer.details).toMatch(/mailbox.state -?\d+ is not RESERVED or ACTIVE/);
    }
    const server99 = message(field(1, lengthDelimited, 'b9'), field(4, wireType.varint, 99));
    const answer = await raw.unary(placementPath('PutServer'), server99);
    expect(answer.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(answer.details).toMatch(/server.state 99/);
  });

  it('refuses messages over 4 MiB with RESOURCE_EXHAUSTED, unary and streaming', async () => {
    const valid = message(field(2, lengthDelimited, 'user.u1'));
    for (const size of [4 * 1024 * 1024 + 1, 8 * 1024 * 1024]) {
      expect((await raw.unary(mailboxesPath('GetMailbox'), padTo(valid, size))).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    }
    const sync = await raw.clientStream(mailboxesPath('SyncServer'), [message(field(1, lengthDelimited, 'b1'), field(2, wireType.varint, 1)), padTo(Buffer.alloc(0), 5 * 1024 * 1024)]);
    expect(sync.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });
});

describe('streams abandoned half-way', () => {
  it('survives SyncServer, LookupStream, Watch and ScanMailboxes cancelled mid-stream', async () => {
    const client = server.client(adminToken);
    const metadata = client.metadata();
    // SyncServer: the first message, a batch of what the directory already holds, then gone.
    const syncDone = new Promise<grpc.status>((resolve) => {
      const call = client.mailboxes.SyncServer(metadata, (error: grpc.ServiceError | null) => resolve(error?.code ?? grpc.status.OK));
      const batch = scanBefore.slice(0, 10).map((mailbox) => ({ ...mailbox, server: '' }));
      call.write({ server: 'b1', dry_run: false, mailboxes: batch });
      setImmediate(() => call.cancel());
    });
    expect(await syncDone).toBe(grpc.status.CANCELLED);
    // LookupStream: ask, read one answer, leave with requests in flight.
    const lookup = client.lookupStream();
    const first = new Promise<LookupStreamResponse__Output>((resolve) => lookup.once('data', resolve));
    lookup.on('error', () => undefined);
    for (let index = 0; index < 100; index += 1) lookup.write({ name: `user.u${index % 20}` });
    expect((await first).results[0]?.found).toBe(true);
    lookup.cancel();
    // Watch and ScanMailboxes: take one message, then cancel.
    for (const open of [client.watch.bind(client), client.scanMailboxes.bind(client)]) {
      const abort = new AbortController();
      for await (const _item of open({}, abort.signal)) {
        abort.abort();
        break;
      }
    }
    // Raw TCP: garbage instead of HTTP/2, and a preface cut off.
    const [host, port] = [server.endpoint.slice(0, server.endpoint.lastIndexOf(':')), Number(server.endpoint.slice(server.endpoint.lastIndexOf(':') + 1))];
    for (const bytes of [random(4096), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r')]) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, host, () => {
          socket.write(bytes);
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
    }
    expect((await client.status())['mailboxes']).toBe(20);
  });
});

describe('a flood of bad requests', () => {
  it('answers 3000 concurrent bad requests with errors and keeps serving', async () => {
    const clients = [raw, new RawClient(server.endpoint, adminToken), new RawClient(server.endpoint, null)];
    const payloads: Array<[string, Buffer]> = [
      [mailboxesPath('CreateMailbox'), Buffer.from([0xff])],
      [mailboxesPath('GetMailbox'), field(1, lengthDelimited, 'user..bad')],
      [mailboxesPath('RenameMailbox'), message(field(1, lengthDelimited, 'user.nobody'), field(2, lengthDelimited, 'user.x'))],
      [mailboxesPath('DeleteMailbox'), field(1, lengthDelimited, `user.${'\u0001'}`)],
      [mailboxesPath('SetAcl'), message(field(1, lengthDelimited, 'user.u1'), field(2, lengthDelimited, 'anyone'), field(3, lengthDelimited, 'Z'))],
      [mailboxesPath('ListMailboxes'), message(field(1, lengthDelimited, 'amy'), field(4, lengthDelimited, '*%'.repeat(300)))],
      [placementPath('MoveUser'), field(1, lengthDelimited, 'nobody')],
    ];
    const requests = Array.from({ length: 3000 }, (_unused, index) => {
      const [path, bytes] = payloads[index % payloads.length]!;
      return clients[index % clients.length]!.unary(path, bytes, 60_000);
    });
    const answers = await Promise.all(requests);
    const codes = new Map<string, number>();
    for (const answer of answers) codes.set(grpc.status[answer.code], (codes.get(grpc.status[answer.code]) ?? 0) + 1);
    expect(codes.get('OK')).toBeUndefined();
    expect(answers).toHaveLength(3000);
    clients[1]!.close();
    clients[2]!.close();
    // Still serving, and still answering good requests.
    const client = server.client(adminToken);
    expect(((await client.getMailbox({ name: 'user.u3' }))['mailbox']!)['uniqueid']).toBe('u3');
  });
});
