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
import { create } from '../helpers/integration.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

let node: ServerProcess;
let client: MbdirClient;

beforeAll(async () => {
  node = await startServer(['--read-threads', '2', '--read-thread-nice', '7']);
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
    // A scan left after its first message (a page read ahead still in flight) leaves the node serving.
    for await (const _ of client.scanMailboxes({ prefix: 'scanned' })) break;
    expect((await client.getMailbox({ name: 'scanned.f0000' })).mailbox?.name).toBe('scanned.f0000');
  }, 60_000);

  it('runs the read threads at --read-thread-nice and the main thread at the process\'s priority', () => {
    const pid = node.process.pid as number;
    // /proc/PID/task/TID/stat: after "(comm) ", nice is field 17 (0-based 16).
    const niceOf = (tid: string): number => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
    const nices = readdirSync(`/proc/${pid}/task`).map(niceOf);
    expect(niceOf(String(pid))).toBe(0);
    expect(nices.filter((nice) => nice === 7)).toHaveLength(2);
    expect(nices.filter((nice) => nice !== 0 && nice !== 7)).toEqual([]);
  });

  it('stops on SIGTERM, read threads and all', async () => {
    const started = performance.now();
    expect(await node.stop('SIGTERM')).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
