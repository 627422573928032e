/**
 * The UPDATE follower on its own: the dump is written as the watch delivers it
 * and pauses the watch when the socket is full; live changes queue names, so a
 * follower that cannot keep up gets each name's current state once (a create
 * and delete while it waits arrive as one DELETE); NOOP's flush sends all; past
 * pendingNamesMax names the follower is cut off.
 */
import { describe, expect, it } from 'vitest';
import type { WatchItem } from '../../src/directory/watch.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { UpdateFollower } from '../../src/server/mupdate/update-stream.js';
import { ResponseWriter } from '../../src/server/mupdate/writer.js';

function mailbox(name: string): MailboxRecord {
  return {
    uniqueid: `id-${name}`, name, server: 'be1', partition: 'default', replicas: [], acl: [{ identifier: 'a', rights: 'lr' }],
    mbtype: 'e', state: 'ACTIVE', uidvalidity: 0, createdmodseq: 0, foldermodseq: 0, revision: 1, nameHistory: [], reservedUntilMs: 0, requestId: '',
  };
}

function harness(pendingNamesMax = 10) {
  const written: string[] = [];
  const state = new Map<string, MailboxRecord>();
  let room = true;
  let ended: Error | null = null;
  const follower = new UpdateFollower(
    'U01',
    new ResponseWriter('plus'),
    { write: (text) => (written.push(text), room), end: (error) => (ended = error) },
    (name) => state.get(name),
    pendingNamesMax,
  );
  return {
    follower, written, state,
    setRoom: (value: boolean) => (room = value),
    ended: () => ended,
  };
}

const item = (type: WatchItem['type'], record: MailboxRecord | null, revision = 2): WatchItem => ({ type, mailbox: record, revision });

describe('UPDATE follower', () => {
  it('writes the dump, pausing the watch when the socket is full, then "streaming starts"', () => {
    const { follower, written, setRoom } = harness();
    expect(follower.send(item('SNAPSHOT', mailbox('user.a')))).toBe(true);
    setRoom(false);
    expect(follower.send(item('SNAPSHOT', mailbox('user.b')))).toBe(false);
    setRoom(true);
    follower.send(item('SNAPSHOT_END', null));
    expect(written.map((line) => line.split('\r\n')[0])).toEqual(['U01 MAILBOX {6+}', 'U01 MAILBOX {6+}', 'U01 OK "streaming starts"']);
  });

  it('coalesces live changes by name while the socket is full and sends the current state once', async () => {
    const { follower, written, state, setRoom } = harness();
    follower.send(item('SNAPSHOT_END', null));
    await follower.whenLive();
    setRoom(false);
    follower.send(item('PUT', mailbox('user.x')));
    expect(written).toHaveLength(2); // "streaming starts", then user.x at once (the socket took it, then said full)
    follower.send(item('PUT', mailbox('user.y')));
    follower.send(item('DELETE', mailbox('user.y')));
    follower.send(item('PUT', mailbox('user.z')));
    state.set('user.z', mailbox('user.z'));
    expect(follower.pendingNames()).toBe(2);
    setRoom(true);
    follower.resume();
    expect(written.slice(2)).toEqual(['U01 DELETE {6+}\r\nuser.y\r\n', new ResponseWriter('plus').mailbox('U01', mailbox('user.z'))]);
  });

  it("NOOP's flush sends every queued name even when the socket is full", () => {
    const { follower, written, setRoom } = harness();
    follower.send(item('SNAPSHOT_END', null));
    setRoom(false);
    for (const name of ['user.p', 'user.q', 'user.r']) follower.send(item('DELETE', mailbox(name)));
    follower.flush(true);
    expect(follower.pendingNames()).toBe(0);
    expect(written).toHaveLength(4);
  });

  it('cuts off a follower more than pendingNamesMax names behind, once', () => {
    const { follower, setRoom, ended } = harness(3);
    follower.send(item('SNAPSHOT_END', null));
    setRoom(false);
    for (let index = 0; index < 6; index += 1) follower.send(item('PUT', mailbox(`user.n${index}`)));
    expect(ended()?.message).toBe('UPDATE follower fell more than 3 changed names behind');
    expect(follower.pendingNames()).toBe(0);
  });
});
