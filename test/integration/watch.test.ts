// Watch (snapshot, SNAPSHOT_END, live changes in revision order, resume,
// server and prefix filters), the revision every write answers, and reads
// with min_revision that wait for it or give up at the call's deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { brief, create, expectError, recordWatch, type WatchRecording } from '../helpers/integration.js';
import type { WatchEvent__Output, WatchRequest } from '../../src/client/messages.js';

let node: ServerProcess;
let client: MbdirClient;
const recordings: WatchRecording[] = [];

beforeAll(async () => {
  node = await startServer();
  client = node.client();
  await client.putServer({ name: 'backend1' });
  await client.putServer({ name: 'backend2' });
});

afterAll(async () => {
  for (const recording of recordings) recording.stop();
  await node?.stop();
});

function watch(request: WatchRequest): WatchRecording {
  const recording = recordWatch(client, request);
  recordings.push(recording);
  return recording;
}

async function revisionNow(): Promise<number> {
  return Number((await client.status())['applied_revision']);
}

const count = (type: string) => (events: readonly WatchEvent__Output[]) => events.filter((event) => event['type'] === type).length;

describe('Watch', () => {
  it('sends a snapshot, SNAPSHOT_END, then live PUT and DELETE in revision order', async () => {
    await create(client, { name: 'shared.wa.one', server: 'backend1' });
    await create(client, { name: 'shared.wa.two', server: 'backend1' });
    await create(client, { name: 'shared.wa.reserved', server: 'backend1' }, { reserve_only: true });
    const atStart = await revisionNow();
    const recording = watch({ from_revision: 0, prefixes: ['shared.wa'] });
    await recording.until((events) => count('SNAPSHOT_END')(events) === 1);
    expect(recording.events.map(brief)).toEqual(['SNAPSHOT shared.wa.one', 'SNAPSHOT shared.wa.two', 'SNAPSHOT_END -']);
    expect(Number(recording.events[2]?.['revision'])).toBe(atStart);

    const created = await create(client, { name: 'shared.wa.three', server: 'backend1' });
    const acl = await client.setAcl({ name: 'shared.wa.one', identifier: 'anyone', rights: 'lr' });
    const deleted = await client.deleteMailbox({ name: 'shared.wa.two' });
    await recording.until((events) => events.length >= 6);
    const live = recording.events.slice(3);
    expect(live.map(brief)).toEqual(['PUT shared.wa.three', 'PUT shared.wa.one', 'DELETE shared.wa.two']);
    expect(live.map((event) => Number(event['revision']))).toEqual([
      Number(created['revision']),
      Number(acl['revision']),
      Number(deleted['revision']),
    ]);
    expect(live[1]?.mailbox?.acl).toEqual([{ identifier: 'anyone', rights: 'lr' }]);
  });

  it('resumes from a revision with the changes after it, without a snapshot', async () => {
    await create(client, { name: 'shared.wb.before', server: 'backend1' });
    const resumeAt = await revisionNow();
    const first = await create(client, { name: 'shared.wb.after1', server: 'backend1' });
    const second = await create(client, { name: 'shared.wb.after2', server: 'backend2' });
    const recording = watch({ from_revision: resumeAt, prefixes: ['shared.wb'] });
    await recording.until((events) => count('PUT')(events) === 2);
    const changes = recording.events.filter((event) => event['type'] !== 'PROGRESS');
    expect(changes.map(brief)).toEqual(['PUT shared.wb.after1', 'PUT shared.wb.after2']);
    expect(changes.map((event) => Number(event['revision']))).toEqual([Number(first['revision']), Number(second['revision'])]);
    expect(count('SNAPSHOT')(recording.events)).toBe(0);
    const third = await create(client, { name: 'shared.wb.live', server: 'backend1' });
    await recording.until((events) => count('PUT')(events) === 3);
    expect(Number(recording.events.filter((event) => event['type'] === 'PUT')[2]?.['revision'])).toBe(Number(third['revision']));
  });

  it('filters by server, including replicas added on that server', async () => {
    const recording = watch({ from_revision: await revisionNow(), servers: ['backend2'] });
    await create(client, { name: 'shared.wc.on1', uniqueid: 'wc-on1', server: 'backend1' });
    await create(client, { name: 'shared.wc.on2', server: 'backend2' });
    await create(client, { name: 'shared.wc.on1', uniqueid: 'wc-on1', server: 'backend2' });
    await recording.until((events) => count('PUT')(events) === 2);
    expect(recording.events.filter((event) => event['type'] === 'PUT').map(brief)).toEqual([
      'PUT shared.wc.on2',
      'PUT shared.wc.on1',
    ]);
  });

  it('shows a rename out of the watched prefix as a DELETE and into it as a PUT', async () => {
    await create(client, { name: 'shared.wd.inside', server: 'backend1' });
    await create(client, { name: 'shared.outside', server: 'backend1' });
    const recording = watch({ from_revision: await revisionNow(), prefixes: ['shared.wd'] });
    await client.renameMailbox({ name: 'shared.wd.inside', new_name: 'shared.gone' });
    await client.renameMailbox({ name: 'shared.outside', new_name: 'shared.wd.arrived' });
    await recording.until((events) => count('DELETE')(events) === 1 && count('PUT')(events) === 1);
    expect(recording.events.filter((event) => event['type'] !== 'PROGRESS').map(brief)).toEqual([
      'DELETE shared.wd.inside',
      'PUT shared.wd.arrived',
    ]);
  });
});

describe('Watch with many subscribers', () => {
  it('gives each filter its own view of a commit that every subscriber shares', async () => {
    await create(client, { name: 'shared.we.a', server: 'backend1' });
    await create(client, { name: 'shared.we.a.sub', server: 'backend1' });
    const from = await revisionNow();
    // Two subscribers per filter; the last two filters are one filter written in two orders.
    const filters = { a: ['shared.we.a'], b: ['shared.we.b'], both: ['shared.we.b', 'shared.we.a'], bothReversed: ['shared.we.a', 'shared.we.b'] };
    const views = Object.entries(filters).map(([label, prefixes]) => ({
      label,
      recordings: [watch({ from_revision: from, prefixes }), watch({ from_revision: from, prefixes })],
    }));
    await client.renameMailbox({ name: 'shared.we.a', new_name: 'shared.we.b' });
    await create(client, { name: 'shared.we.b.new', server: 'backend1' });
    const changes = (events: readonly WatchEvent__Output[]): string[] => events.filter((event) => event['type'] !== 'PROGRESS').map(brief);
    const expected: Record<string, string[]> = {
      a: ['DELETE shared.we.a', 'DELETE shared.we.a.sub'],
      b: ['PUT shared.we.b', 'PUT shared.we.b.sub', 'PUT shared.we.b.new'],
      both: ['PUT shared.we.b', 'PUT shared.we.b.sub', 'PUT shared.we.b.new'],
      bothReversed: ['PUT shared.we.b', 'PUT shared.we.b.sub', 'PUT shared.we.b.new'],
    };
    for (const { label, recordings } of views) {
      for (const recording of recordings) {
        const want = expected[label] ?? [];
        await recording.until((events) => changes(events).length >= want.length);
        expect(changes(recording.events), label).toEqual(want);
      }
    }
  });
});

describe('revisions and min_revision', () => {
  it('answers a strictly growing revision on every write', async () => {
    const revisions: number[] = [];
    const push = (response: { revision: number }): void => {
      revisions.push(Number(response['revision']));
    };
    push(await client.putServer({ name: 'backend3' }));
    push(await client.putBusiness({ id: 'rev-biz', home_server: 'backend3' }));
    push(await client.setUserBusiness({ user: 'revuser', business: 'rev-biz' }));
    push(await create(client, { name: 'user.revuser', server: 'backend1' }, { reserve_only: true }));
    push(await client.activateMailbox({ name: 'user.revuser' }));
    push(await client.setAcl({ name: 'user.revuser', identifier: 'revuser', rights: 'lrs' }));
    push(await client.markUserMoving({ user: 'revuser', from_server: 'backend1', to_server: 'backend3' }));
    push(await client.moveUser({ user: 'revuser', from_server: 'backend1', to_server: 'backend3' }));
    push(await client.renameMailbox({ name: 'user.revuser', new_name: 'user.revuser2' }));
    push(await client.deleteMailbox({ name: 'user.revuser2' }));
    for (let index = 1; index < revisions.length; index += 1) {
      expect(revisions[index]).toBeGreaterThan(revisions[index - 1] ?? 0);
    }
    expect(await revisionNow()).toBe(revisions.at(-1));
  });

  it('waits for a min_revision not yet applied and then reads the write', async () => {
    const next = (await revisionNow()) + 1;
    const pending = client.getMailbox({ name: 'shared.late', min_revision: next });
    const created = await create(client, { name: 'shared.late', server: 'backend1' });
    expect(Number(created['revision'])).toBe(next);
    const read = await pending;
    expect((read['mailbox']!)['name']).toBe('shared.late');
    expect(Number(read['revision'])).toBeGreaterThanOrEqual(next);
  });

  it('gives up with DEADLINE_EXCEEDED when the revision is never reached within the deadline', async () => {
    const far = (await revisionNow()) + 1000;
    await expectError(client.getMailbox({ name: 'shared.late', min_revision: far }, 300), 'DEADLINE_EXCEEDED');
    await expectError(client.listMailboxes({ user: 'x', pattern: '*', min_revision: far }, 300), 'DEADLINE_EXCEEDED');
    await expectError(client.lookupMailboxes({ names: ['shared.late'], min_revision: far }, 300), 'DEADLINE_EXCEEDED');
    await expectError(client.resolveUser({ user: 'x', min_revision: far }, 300), 'DEADLINE_EXCEEDED');
    await expectError(client.listServers({ min_revision: far }, 300), 'DEADLINE_EXCEEDED');
    // The node is unharmed and still answers.
    expect((await client.getMailbox({ name: 'shared.late' }))['mailbox']).toMatchObject({ name: 'shared.late' });
  });
});

describe('Watch and user moves', () => {
  it('shows a user moved off a watched server as DELETEs there and PUTs on the target', async () => {
    await create(client, { name: 'user.wmover', server: 'backend1' });
    await create(client, { name: 'user.wmover.Sent', server: 'backend1' });
    const from = await revisionNow();
    const onSource = watch({ from_revision: from, servers: ['backend1'], prefixes: ['user.wmover'] });
    const onTarget = watch({ from_revision: from, servers: ['backend2'], prefixes: ['user.wmover'] });
    await client.moveUser({ user: 'wmover', from_server: 'backend1', to_server: 'backend2' });
    await onSource.until((events) => count('DELETE')(events) === 2);
    await onTarget.until((events) => count('PUT')(events) === 2);
    expect(onSource.events.filter((event) => event['type'] === 'DELETE').map(brief)).toEqual(['DELETE user.wmover', 'DELETE user.wmover.Sent']);
    expect(onTarget.events.filter((event) => event['type'] === 'PUT').map(brief)).toEqual(['PUT user.wmover', 'PUT user.wmover.Sent']);
  });
});
