/**
 * The MUPDATE location rules (src/directory/location-rules.ts) and the
 * adoption of a generated uniqueid (mailbox-rules, sync-rules), through a
 * Directory on an in-memory store with a fixed clock: RESERVE by server part,
 * replica partners, reservation expiry, ACTIVATE create/update/move, the `be!`
 * partition, DEACTIVATE's two refusals and hand-off (kept by the sweep, taken back), DELETE of unknown names
 * and of a replica, and what a backend's scope allows.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { locationMatchingPrefix, locationSeenBy } from '../../src/directory/location-rules.js';
import { formatAclText, parseAclText } from '../../src/model/acl.js';
import { DirectoryError, type ErrorKind } from '../../src/model/errors.js';
import { parseLocationText } from '../../src/model/location.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { Store } from '../../src/store/store.js';
import { expectInvalid } from './expect-error.js';

let nowMs = 1_000_000;
const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
const engine = new StandaloneEngine(store);
const directory = new Directory(store, engine, { clock: { nowMs: () => nowMs }, reservationTtlMs: 1000 });

afterAll(async () => {
  await engine.close();
  store.close();
});

async function servers(): Promise<void> {
  const put = (name: string, replicaPartner = '') =>
    directory.putServer({ name, imapAddress: '', pop3Address: '', lmtpAddress: '', state: 'UP', weight: 1, datacenter: '', replicaPartner });
  await put('be1');
  await put('be2');
  await put('be3', 'be1');
}

async function rejection(call: Promise<unknown>, kind: ErrorKind, message?: RegExp): Promise<void> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DirectoryError);
  expect((error as DirectoryError).kind).toBe(kind);
  if (message !== undefined) expect((error as DirectoryError).message).toMatch(message);
}

const record = (name: string): MailboxRecord => directory.getMailbox({ name }).value;

describe('MUPDATE location rules', () => {
  it('RESERVE holds a free name with a generated, marked uniqueid; the same server again changes nothing', async () => {
    await servers();
    const reserved = await directory.reserveLocation({ name: 'user.r1', server: 'be1', partition: '' });
    expect(reserved.value.outcome).toBe('CREATED');
    expect(record('user.r1')).toMatchObject({ state: 'RESERVED', server: 'be1', partition: 'default', uniqueidGenerated: true });
    expect((await directory.reserveLocation({ name: 'user.r1', server: 'be1', partition: 'default' })).value.outcome).toBe('UNCHANGED');
  });

  it('RESERVE from another server conflicts; from the holder\'s replica partner it adds a replica', async () => {
    await directory.activateLocation({ name: 'user.r2', server: 'be1', partition: 'p1', acl: [] });
    await rejection(directory.reserveLocation({ name: 'user.r2', server: 'be2', partition: '' }), 'Conflict', /held by uniqueid .* on server be1/);
    const paired = await directory.reserveLocation({ name: 'user.r2', server: 'be3', partition: 'p3' });
    expect(paired.value.outcome).toBe('REPLICA_ADDED');
    expect(record('user.r2').replicas).toEqual([{ server: 'be3', partition: 'p3' }]);
  });

  it('a lapsed reservation frees the name for anyone', async () => {
    await directory.reserveLocation({ name: 'user.lapse', server: 'be1', partition: '' });
    nowMs += 2000;
    expect((await directory.reserveLocation({ name: 'user.lapse', server: 'be2', partition: '' })).value.outcome).toBe('CREATED');
    expect(record('user.lapse').server).toBe('be2');
  });

  it('ACTIVATE creates, updates the ACL, keeps the partition on record for `be!`, and moves a mailbox (XFER)', async () => {
    const acl = parseAclText('a1\tlrs\t');
    expect((await directory.activateLocation({ name: 'user.a1', server: 'be1', partition: 'p1', acl })).value.outcome).toBe('CREATED');
    expect((await directory.activateLocation({ name: 'user.a1', server: 'be1', partition: 'p1', acl })).value.outcome).toBe('UNCHANGED');
    await directory.activateLocation({ name: 'user.a1', server: 'be1', partition: '', acl: parseAclText('a1\tlrsw\t') });
    expect(record('user.a1')).toMatchObject({ partition: 'p1', acl: [{ identifier: 'a1', rights: 'lrsw' }], state: 'ACTIVE' });
    await directory.activateLocation({ name: 'user.a1', server: 'be2', partition: 'p2', acl });
    expect(record('user.a1')).toMatchObject({ server: 'be2', partition: 'p2' });
  });

  it('DEACTIVATE: unknown name NotFound, reserved FailedPrecondition, active hands over as RESERVED without ACL', async () => {
    await rejection(directory.deactivateLocation({ name: 'user.none', server: 'be1', partition: '' }), 'NotFound', /mailbox doesn't exist/);
    await directory.activateLocation({ name: 'user.d1', server: 'be1', partition: 'p1', acl: parseAclText('d\tlr\t') });
    const handed = await directory.scopedTo('be1').deactivateLocation({ name: 'user.d1', server: 'be2', partition: '' });
    expect(handed.value).toMatchObject({ server: 'be2', partition: 'p1', state: 'RESERVED', acl: [] });
    await rejection(directory.deactivateLocation({ name: 'user.d1', server: 'be2', partition: '' }), 'FailedPrecondition', /not currently active/);
    // The receiving backend takes it; the old one may not take it back.
    await directory.scopedTo('be2').activateLocation({ name: 'user.d1', server: 'be2', partition: 'p2', acl: [] });
    await rejection(directory.scopedTo('be1').activateLocation({ name: 'user.d1', server: 'be1', partition: '', acl: [] }), 'PermissionDenied');
  });

  it('a failed XFER: the hand-off outlives the reservation sweep, and the source takes it back with its ACL', async () => {
    await directory.activateLocation({ name: 'user.x1', server: 'be1', partition: 'p1', acl: parseAclText('x\tlrs\t') });
    await directory.scopedTo('be1').deactivateLocation({ name: 'user.x1', server: 'be2', partition: '' });
    await directory.reserveLocation({ name: 'user.x1lapsed', server: 'be1', partition: '' });
    nowMs += 10 * 60_000;
    expect(await directory.sweepReservations()).toBeGreaterThanOrEqual(1);
    expect(store.mailboxByName('user.x1lapsed')).toBeUndefined();
    expect(record('user.x1')).toMatchObject({ server: 'be2', state: 'RESERVED' });
    await directory.scopedTo('be1').activateLocation({ name: 'user.x1', server: 'be1', partition: 'p1', acl: parseAclText('x\tlrs\t') });
    expect(record('user.x1')).toMatchObject({ server: 'be1', partition: 'p1', state: 'ACTIVE', acl: [{ identifier: 'x', rights: 'lrs' }] });
    // Once active again it is be1's: be2 may not take it, and a fresh reservation of be2's is not a hand-off be1 may take.
    await rejection(directory.scopedTo('be2').activateLocation({ name: 'user.x1', server: 'be2', partition: '', acl: [] }), 'PermissionDenied');
    await directory.scopedTo('be2').reserveLocation({ name: 'user.x2', server: 'be2', partition: '' });
    await rejection(directory.scopedTo('be1').activateLocation({ name: 'user.x2', server: 'be1', partition: '', acl: [] }), 'PermissionDenied');
  });

  it('DELETE of an unknown name is no error; a replica deletes only itself', async () => {
    expect((await directory.deleteIfPresent('user.never', 'be1')).value).toBeNull();
    await directory.activateLocation({ name: 'user.rep', server: 'be1', partition: '', acl: [] });
    await directory.scopedTo('be3').activateLocation({ name: 'user.rep', server: 'be3', partition: '', acl: [] });
    await directory.scopedTo('be3').deleteIfPresent('user.rep', 'be3');
    expect(record('user.rep')).toMatchObject({ server: 'be1', replicas: [] });
    await directory.scopedTo('be1').deleteIfPresent('user.rep', 'be1');
    expect(store.mailboxByName('user.rep')).toBeUndefined();
  });

  it('refuses a location on a server the directory does not know', async () => {
    await rejection(directory.activateLocation({ name: 'user.u', server: 'ghost', partition: '', acl: [] }), 'FailedPrecondition', /mbdir server-put ghost/);
  });
});

describe('adopting a generated uniqueid', () => {
  it('a create from the holding server with the real uniqueid adopts it (and activates a reservation)', async () => {
    await directory.reserveLocation({ name: 'user.g1', server: 'be1', partition: '' });
    const created = await directory.createMailbox({ name: 'user.g1', uniqueid: 'real-g1', server: 'be1', uidvalidity: 42 });
    expect(created.outcome).toBe('ALREADY_PRESENT');
    expect(record('user.g1')).toMatchObject({ uniqueid: 'real-g1', state: 'ACTIVE', uidvalidity: 42 });
    expect(record('user.g1').uniqueidGenerated).toBeUndefined();
    await rejection(directory.createMailbox({ name: 'user.g1', uniqueid: 'another', server: 'be1' }), 'Conflict');
  });

  it('another server, or a uniqueid registered elsewhere, is still a conflict', async () => {
    await directory.activateLocation({ name: 'user.g2', server: 'be1', partition: '', acl: [] });
    await rejection(directory.createMailbox({ name: 'user.g2', uniqueid: 'real-g2', server: 'be2' }), 'Conflict');
    await rejection(directory.createMailbox({ name: 'user.g2', uniqueid: 'real-g1', server: 'be1' }), 'Conflict', /already registered as "user.g1"/);
    expect(record('user.g2').uniqueidGenerated).toBe(true);
  });

  it('SyncServer from the holding server adopts it', async () => {
    await directory.putServer({ name: 'be9', imapAddress: '', pop3Address: '', lmtpAddress: '', state: 'UP', weight: 1, datacenter: '' });
    await directory.activateLocation({ name: 'user.g9', server: 'be9', partition: '', acl: parseAclText('g9\tlrs\t') });
    const session = directory.startSync('be9', false);
    const generated = record('user.g9');
    await session.addBatch([{ ...generated, uniqueid: 'real-g9', uidvalidity: 9 }]);
    const report = await session.finish();
    expect(report.counts).toMatchObject({ updated: 1, conflicting: 0, removed: 0 });
    expect(record('user.g9')).toMatchObject({ uniqueid: 'real-g9', uidvalidity: 9 });
    expect(record('user.g9').uniqueidGenerated).toBeUndefined();
  });
});

describe('MUPDATE text forms and views', () => {
  it("parses and formats Cyrus's ACL text", () => {
    const acl = parseAclText('erin\tlrswipkxtecdan\t-frank\tr\t');
    expect(acl).toEqual([{ identifier: 'erin', rights: 'lrswipkxtecdan' }, { identifier: '-frank', rights: 'r' }]);
    expect(formatAclText(acl)).toBe('erin\tlrswipkxtecdan\t-frank\tr\t');
    expect(parseAclText('')).toEqual([]);
    expectInvalid(() => parseAclText('erin\tlr\tfrank\t'), /pairs/);
  });

  it('parses server!partition, be! and a bare partition', () => {
    expect(parseLocationText('be1!default')).toEqual({ server: 'be1', partition: 'default', hasServer: true });
    expect(parseLocationText('be1!')).toEqual({ server: 'be1', partition: '', hasServer: true });
    expect(parseLocationText('p1')).toEqual({ server: '', partition: 'p1', hasServer: false });
    expectInvalid(() => parseLocationText('!p'), /no server/);
    expectInvalid(() => parseLocationText('be1!p/x'), /partition/);
  });

  it('shows a replica its own location, and selects by a byte prefix of server!partition', () => {
    const mailbox = { ...record('user.r2') };
    expect(locationSeenBy(mailbox, 'be3')).toEqual({ server: 'be3', partition: 'p3' });
    expect(locationSeenBy(mailbox, 'be2')).toEqual({ server: 'be1', partition: 'p1' });
    expect(locationMatchingPrefix(mailbox, 'be3!')).toEqual({ server: 'be3', partition: 'p3' });
    expect(locationMatchingPrefix(mailbox, 'be')).toEqual({ server: 'be1', partition: 'p1' });
    expect(locationMatchingPrefix(mailbox, 'be1!p2')).toBeNull();
  });
});
