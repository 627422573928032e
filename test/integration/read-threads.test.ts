// Heavy reads on read threads (--read-threads 2), against a real node: while
// writers create shared folders, take `anyone` off some and give others a
// child, every LIST answer is one snapshot: it lists exactly the folders
// visible at the revision it reports, with has_children as of that revision
// (the threads' ACL and children caches follow the writes); each writer's LIST
// right after its write sees it (read-your-writes), and a LIST given a
// min_revision not reached yet waits for it. A node stops on SIGTERM with its
// read threads. The read threads run at --read-thread-nice, the main thread
// at the process's priority.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MbdirClient } from '../../src/client/client.js';
import type { ListMailboxesRequest } from '../../src/client/messages.js';
import { create, expectError } from '../helpers/integration.js';
import type { LookupStreamResponse__Output } from '../../src/client/messages.js';
import { limits } from '../../src/model/limits.js';
import { lookupOnThreadNamesMin } from '../../src/directory/directory.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer(['--read-threads', '2', '--read-thread-nice', '7', '--helper-thread-nice', '4']);
  client = node.client();
  await client.putServer({ name: 'backend1' });
  await create(client, { name: 'user.alice', server: 'backend1', acl: [{ identifier: 'alice', rights: 'lrswipkxtecda' }] });
});

afterAll(async () => {
  await node?.stop();
});

interface Listed {
  revision: number;
  entries: Map<string, boolean>;
}

async function listShared(extra: ListMailboxesRequest = {}): Promise<Listed> {
  const response = await client.listMailboxes({ user: 'alice', pattern: 'shared.*', page_size: 10_000, ...extra });
  expect(response.next_page_token).toBe('');
  const entries = new Map<string, boolean>();
  for (const entry of response.mailboxes) entries.set(entry.mailbox?.name ?? '', entry.has_children);
  return { revision: response.revision, entries };
}

/** What happened to each folder, at which revision. */
interface History {
  created: Map<string, number>;
  hidden: Map<string, number>;
}

/** The folders alice sees at `revision`, each with whether it has a child then. */
function visibleAt(history: History, revision: number): Map<string, boolean> {
  const visible = new Map<string, boolean>();
  for (const [name, created] of history.created) {
    const hidden = history.hidden.get(name);
    if (created > revision || (hidden !== undefined && hidden <= revision)) continue;
    const child = history.created.get(`${name}.sub`);
    visible.set(name, child !== undefined && child <= revision);
  }
  return visible;
}

describe('heavy reads on read threads', () => {
  it('answer each LIST from one snapshot while writes go on, and show each writer its own write', async () => {
    const history: History = { created: new Map(), hidden: new Map() };
    const answers: Listed[] = [];
    let writing = true;
    const writer = async (id: number): Promise<void> => {
      for (let index = 0; index < 60; index += 1) {
        const name = `shared.w${id}f${index}`;
        const created = await create(client, { name, server: 'backend1', acl: [{ identifier: 'anyone', rights: 'lrs' }] });
        history.created.set(name, Number(created['revision']));
        const own = await listShared();
        expect(own.revision).toBeGreaterThanOrEqual(Number(created['revision']));
        expect(own.entries.has(name), `${name} right after its create`).toBe(true);
        if (index % 5 === 1) {
          const hidden = await client.setAcl({ name, identifier: 'anyone', rights: '' });
          history.hidden.set(name, hidden.revision);
        } else if (index % 5 === 2) {
          const child = await create(client, { name: `${name}.sub`, server: 'backend1', acl: [{ identifier: 'anyone', rights: 'lrs' }] });
          history.created.set(`${name}.sub`, Number(child['revision']));
        }
      }
    };
    const lister = async (): Promise<void> => {
      while (writing) answers.push(await listShared());
    };
    const listers = [lister(), lister(), lister()];
    await Promise.all([0, 1, 2].map((id) => writer(id)));
    writing = false;
    await Promise.all(listers);
    answers.push(await listShared());
    expect(answers.length).toBeGreaterThan(20);
    for (const answer of answers) {
      expect(answer.entries, `LIST at revision ${answer.revision}`).toEqual(visibleAt(history, answer.revision));
    }
  }, 60_000);

  it('waits for a min_revision not reached yet, then answers at it or later', async () => {
    const before = await listShared();
    const waiting = listShared({ min_revision: before.revision + 1 });
    const created = await create(client, { name: 'shared.late', server: 'backend1', acl: [{ identifier: 'anyone', rights: 'lrs' }] });
    const answer = await waiting;
    expect(answer.revision).toBeGreaterThanOrEqual(Number(created['revision']));
    expect(answer.entries.has('shared.late')).toBe(true);
  });

  it('scans and plans on the read threads too', async () => {
    const scanned: string[] = [];
    for await (const mailbox of client.scanMailboxes({ prefix: 'shared.w0f2' })) scanned.push(mailbox.name);
    expect(scanned).toContain('shared.w0f2');
    expect(scanned).toContain('shared.w0f2.sub');
    const plan = await client.planRebalance({});
    expect(plan.revision).toBeGreaterThan(0);
  });

  it('scans page after page on the read threads: every record as the node holds it, in order, reserved ones when asked', async () => {
    // 600 mailboxes under one prefix: three read-thread pages of 250, and a fourth past the subtree.
    const names = Array.from({ length: 600 }, (_, index) => `scanned.f${String(index).padStart(4, '0')}`);
    for (const [index, name] of names.entries()) {
      await create(client, { name, server: 'backend1', acl: [{ identifier: 'alice', rights: 'lr' }] }, { reserve_only: index % 100 === 7 });
    }
    await create(client, { name: 'scannedz', server: 'backend1' }); // sorts after the subtree: not in it
    const reserved = new Set(names.filter((_, index) => index % 100 === 7));
    const scan = async (include_reserved: boolean): Promise<Array<Record<string, unknown>>> => {
      const out: Array<Record<string, unknown>> = [];
      for await (const mailbox of client.scanMailboxes({ prefix: 'scanned', include_reserved })) out.push(mailbox as unknown as Record<string, unknown>);
      return out;
    };
    const active = await scan(false);
    expect(active.map((mailbox) => mailbox['name'])).toEqual(names.filter((name) => !reserved.has(name)));
    const all = await scan(true);
    expect(all.map((mailbox) => mailbox['name'])).toEqual(names);
    expect(all.filter((mailbox) => mailbox['state'] === 'RESERVED').map((mailbox) => mailbox['name'])).toEqual([...reserved]);
    // Each record is the one GetMailbox answers (uniqueid, server, ACL), not a copy that lost a field.
    for (const mailbox of [all[0], all[299], all[599]]) {
      const held = await client.getMailbox({ name: String(mailbox?.['name']) });
      expect(mailbox).toEqual(held.mailbox);
    }
    // Scans left after their first message (a page read ahead still in flight, writes under way) leave the
    // node serving, and end there too: the SIGTERM test below stops the node within its bound only if none
    // is left waiting for a drain that never comes.
    for (let left = 0; left < 20; left += 1) {
      for await (const _ of client.scanMailboxes({ prefix: 'scanned' })) break;
    }
    expect((await client.getMailbox({ name: 'scanned.f0000' })).mailbox?.name).toBe('scanned.f0000');
  }, 60_000);

  describe('lookup batches', () => {
    const looked = Array.from({ length: 24 }, (_, index) => `looked.f${String(index).padStart(2, '0')}`);
    /** 16 names (the least a read thread takes), found and missing, starting at `offset`. */
    const batch = (offset: number): string[] =>
      Array.from({ length: lookupOnThreadNamesMin }, (_, index) => (index % 4 === 3 ? `looked.none${index}` : (looked[(offset + index) % looked.length] as string)));

    beforeAll(async () => {
      for (const name of looked) await create(client, { name, server: 'backend1', acl: [{ identifier: 'alice', rights: 'lr' }] });
    });

    it('answers a batch of 16 names on a read thread as the main thread answers smaller ones', async () => {
      const names = batch(5);
      const onThread = await client.lookupMailboxes({ names });
      const here = [...(await client.lookupMailboxes({ names: names.slice(0, 8) })).results, ...(await client.lookupMailboxes({ names: names.slice(8) })).results];
      expect(onThread.results).toEqual(here);
      expect(onThread.results.map((result) => [result.name, result.found])).toEqual(names.map((name) => [name, !name.startsWith('looked.none')]));
      const held = await client.getMailbox({ name: 'looked.f05' });
      expect(onThread.results[0]?.mailbox).toEqual(held.mailbox);
    });

    it('answers every batch of a LookupStream sent at once, in order, past the read threads\' queue bound', async () => {
      // More batches than the read threads' queue takes (readPoolPendingMax), all waiting for one revision: a
      // stream that read them all would post them in one turn when it comes, and the queue would refuse the
      // rest; the stream stops reading instead, and answers every one.
      const count = limits.readPoolPendingMax + 904;
      const target = Number((await client.status())['applied_revision']) + 1;
      const stream = client.lookupStream();
      const responses: LookupStreamResponse__Output[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on('data', (message: LookupStreamResponse__Output) => responses.push(message));
        stream.on('status', () => resolve());
        stream.on('error', reject);
      });
      for (let index = 0; index < count; index += 1) stream.write({ names: batch(index), min_revision: target });
      await new Promise((resolve) => setTimeout(resolve, 1000)); // time to read them all, were it to
      expect(responses).toEqual([]);
      await create(client, { name: 'looked.revision', server: 'backend1' });
      stream.end();
      await done;
      expect(responses).toHaveLength(count);
      responses.forEach((response, index) => {
        expect(response.results.map((result) => [result.name, result.found])).toEqual(batch(index).map((name) => [name, !name.startsWith('looked.none')]));
      });
    }, 60_000);

    it('shows a writer its own write and waits for a min_revision not reached yet', async () => {
      const created = await create(client, { name: 'looked.new', server: 'backend1' });
      const names = [...batch(0).slice(1), 'looked.new'];
      const seen = await client.lookupMailboxes({ names });
      expect(seen.revision).toBeGreaterThanOrEqual(Number(created['revision']));
      expect(seen.results.at(-1)?.found).toBe(true);

      const stream = client.lookupStream();
      const answered = new Promise<LookupStreamResponse__Output>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
      });
      const target = Number(seen.revision) + 1;
      stream.write({ names: [...batch(0).slice(1), 'looked.later'], min_revision: target });
      const later = await create(client, { name: 'looked.later', server: 'backend1' });
      const answer = await answered;
      stream.end();
      expect(Number(answer.revision)).toBeGreaterThanOrEqual(Math.min(target, Number(later['revision'])));
      expect(answer.results.at(-1)).toMatchObject({ name: 'looked.later', found: true });
    });

    it('refuses a batch with a bad name before it reaches a read thread', async () => {
      await expectError(client.lookupMailboxes({ names: [...batch(0).slice(1), 'user.bad\u0001name'] }), 'INVALID_ARGUMENT', /user\.bad/);
    });
  });

  it('runs the read threads at --read-thread-nice, the helpers at --helper-thread-nice and the main thread at the process\'s priority', () => {
    const pid = node.process.pid as number;
    // /proc/PID/task/TID/stat: after "(comm) ", nice is field 17 (0-based 16).
    const niceOf = (tid: string): number => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
    const nices = readdirSync(`/proc/${pid}/task`).map(niceOf);
    expect(niceOf(String(pid))).toBe(0);
    expect(nices.filter((nice) => nice === 7)).toHaveLength(2);
    expect(nices.filter((nice) => nice === 4).length).toBeGreaterThanOrEqual(4); // V8's platform workers at least
    expect(nices.filter((nice) => nice !== 0 && nice !== 7 && nice !== 4)).toEqual([]);
  });

  it('stops on SIGTERM, read threads and all', async () => {
    const started = performance.now();
    expect(await node.stop('SIGTERM')).toBe(0);
    expect(performance.now() - started, node.stderr().slice(-2000)).toBeLessThan(5000);
  });
});
