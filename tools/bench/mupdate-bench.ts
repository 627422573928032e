/**
 * `mbdir bench mupdate`'s measurements, run alike against mbdir's MUPDATE
 * listener and against another MUPDATE server (a Cyrus mupdate master) so the
 * two print side by side: the load itself (pipelined ACTIVATE of the whole
 * seeded directory), FIND from one sequential connection and with N pipelined,
 * LIST of one server's mailboxes, a committed change reaching F UPDATE
 * followers, and one full UPDATE dump. Every phase is bounded in time or in
 * count; a side that errs has its first error reported, not hidden.
 */
import type { MailboxRecord } from '../../src/model/records.js';
import { MupdateClient, type MupdateEntry } from './mupdate-client.js';
import { LatencyRecorder, randomBelow, seededRandom } from './stats.js';

/** A MUPDATE server under test and how to log in to it. */
export interface MupdateSide {
  label: string;
  address: string;
  authname: string;
  password: string;
  pid: number | undefined;
}

export interface MupdateBenchSettings {
  durationMs: number;
  pipeline: number;
  followers: number;
  changes: number;
  changeIntervalMs: number;
  listRepeats: number;
  seed: number;
}

export interface RateFigure {
  operations: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError: string;
}

/** A server with no mailboxes of the directory: the followers' changes go there. */
export const followerServer = 'benchwatch';
/** A change not seen by a follower within this counts as lost. */
const deliveryWaitMs = 30_000;

function figure(operations: number, seconds: number, latency: LatencyRecorder, errors: number, firstError: string): RateFigure {
  const [p50 = 0, p99 = 0] = latency.quantiles([0.5, 0.99]);
  return { operations, seconds, perSecond: seconds > 0 ? operations / seconds : 0, p50Ms: p50, p99Ms: p99, errors, firstError };
}

function aclText(acl: MailboxRecord['acl']): string {
  return acl.map((entry) => `${entry.identifier}\t${entry.rights}\t`).join('');
}

/** Runs `next()` calls with up to `depth` in flight until it returns null; latency per call. */
async function pipelined(depth: number, next: () => Promise<unknown> | null, deadlineMs = Infinity): Promise<RateFigure> {
  const latency = new LatencyRecorder();
  let operations = 0;
  let errors = 0;
  let firstError = '';
  const startedMs = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() < deadlineMs) {
      const sentMs = performance.now();
      const call = next();
      if (call === null) return;
      try {
        await call;
        latency.add(performance.now() - sentMs);
        operations += 1;
      } catch (error) {
        errors += 1;
        firstError ||= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  return figure(operations, (performance.now() - startedMs) / 1000, latency, errors, firstError);
}

/** Loads every mailbox with ACTIVATE, `depth` in flight on one connection: the ACTIVATE figure. */
export async function loadByActivate(side: MupdateSide, mailboxes: Iterable<MailboxRecord>, depth: number): Promise<RateFigure> {
  const client = await MupdateClient.open(side.address, side.authname, side.password);
  const iterator = mailboxes[Symbol.iterator]();
  try {
    return await pipelined(depth, () => {
      const step = iterator.next();
      if (step.done === true) return null;
      const mailbox = step.value;
      return client.write('ACTIVATE', [mailbox.name, `${mailbox.server}!${mailbox.partition}`, aclText(mailbox.acl)]).then((answer) => {
        if (answer.keyword !== 'OK') throw new Error(`ACTIVATE ${mailbox.name}: ${answer.keyword} ${answer.args.join(' ')}`);
      });
    });
  } finally {
    await client.close();
  }
}

/**
 * ACTIVATE of new names (`user.<u>.<tag>a<k>` on user u's server) for `durationMs`, `depth` in
 * flight: each one a new mailbox, so neither side can skip the write as a no-op.
 */
export async function activateFor(side: MupdateSide, users: readonly { user: string; server: string }[], depth: number, settings: MupdateBenchSettings, runTag: string): Promise<RateFigure> {
  const client = await MupdateClient.open(side.address, side.authname, side.password);
  const random = seededRandom(settings.seed);
  let sequence = 0;
  try {
    return await pipelined(
      depth,
      () => {
        const owner = users[randomBelow(random, users.length)] ?? { user: 'u', server: followerServer };
        const name = `user.${owner.user}.${runTag}a${sequence++}`;
        return client.write('ACTIVATE', [name, `${owner.server}!default`, `${owner.user}\tlrswipkxtecdan\t`]).then((answer) => {
          if (answer.keyword !== 'OK') throw new Error(`ACTIVATE ${name}: ${answer.keyword} ${answer.args.join(' ')}`);
        });
      },
      performance.now() + settings.durationMs,
    );
  } finally {
    await client.close();
  }
}

/** FIND of seeded random names for `durationMs`, `depth` in flight (1: one at a time). */
export async function findFor(side: MupdateSide, names: readonly string[], depth: number, settings: MupdateBenchSettings): Promise<RateFigure> {
  const client = await MupdateClient.open(side.address, side.authname, side.password);
  const random = seededRandom(settings.seed);
  try {
    return await pipelined(
      depth,
      () =>
        client.find(names[randomBelow(random, names.length)] ?? '').then((found) => {
          if (found.length !== 1) throw new Error(`FIND answered ${found.length} entries`);
        }),
      performance.now() + settings.durationMs,
    );
  } finally {
    await client.close();
  }
}

/** LIST "server!" repeated: milliseconds per whole LIST, and the lines it gave. */
export async function listOneServer(side: MupdateSide, server: string, repeats: number): Promise<RateFigure & { lines: number }> {
  const client = await MupdateClient.open(side.address, side.authname, side.password);
  const latency = new LatencyRecorder();
  let lines = 0;
  const startedMs = performance.now();
  try {
    for (let index = 0; index < repeats; index += 1) {
      const sentMs = performance.now();
      lines = (await client.list(`${server}!`)).length;
      latency.add(performance.now() - sentMs);
    }
  } finally {
    await client.close();
  }
  return { ...figure(repeats, (performance.now() - startedMs) / 1000, latency, 0, ''), lines };
}

/** One full UPDATE: the dump's lines and lines/s up to "streaming starts". */
export async function updateDump(side: MupdateSide): Promise<RateFigure & { lines: number }> {
  const client = await MupdateClient.open(side.address, side.authname, side.password);
  let lines = 0;
  const startedMs = performance.now();
  try {
    await client.update(() => {
      lines += 1;
    });
  } finally {
    await client.close();
  }
  const seconds = (performance.now() - startedMs) / 1000;
  return { ...figure(lines, seconds, new LatencyRecorder(), 0, ''), lines };
}

/**
 * F followers on UPDATE (partial, of the follower server, when the side takes it; full otherwise),
 * then `changes` ACTIVATEs on that server: latency from each ACTIVATE's send to each follower's line.
 */
export async function followerDelivery(side: MupdateSide, settings: MupdateBenchSettings, runTag: string): Promise<RateFigure & { expected: number; partial: boolean }> {
  const sentAt = new Map<string, number>();
  const latency = new LatencyRecorder();
  let delivered = 0;
  const onEntry = (entry: MupdateEntry): void => {
    const sent = sentAt.get(entry.name);
    if (sent === undefined || entry.kind !== 'MAILBOX') return;
    latency.add(performance.now() - sent);
    delivered += 1;
  };
  const followers: MupdateClient[] = [];
  const writer = await MupdateClient.open(side.address, side.authname, side.password);
  let partial = true;
  try {
    for (let index = 0; index < settings.followers; index += 1) {
      const follower = await MupdateClient.open(side.address, side.authname, side.password);
      followers.push(follower);
      try {
        await follower.update(onEntry, partial ? [followerServer] : []);
      } catch {
        if (!partial) throw new Error(`${side.label}: UPDATE refused`);
        partial = false; // this side does not take partial UPDATE: every follower takes the full dump
        await follower.close();
        const again = await MupdateClient.open(side.address, side.authname, side.password);
        followers[index] = again;
        await again.update(onEntry);
      }
    }
    const expected = settings.changes * settings.followers;
    const startedMs = performance.now();
    for (let index = 0; index < settings.changes; index += 1) {
      const name = `user.benchwatch.${runTag}.c${index}`;
      sentAt.set(name, performance.now());
      const answer = await writer.write('ACTIVATE', [name, `${followerServer}!default`, 'anyone\tlrs\t']);
      if (answer.keyword !== 'OK') throw new Error(`${side.label}: ACTIVATE ${name}: ${answer.args.join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, settings.changeIntervalMs));
    }
    const deadline = performance.now() + deliveryWaitMs;
    while (delivered < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - startedMs) / 1000;
    const lost = expected - delivered;
    return { ...figure(delivered, seconds, latency, lost, lost > 0 ? `${lost} deliveries not seen in ${deliveryWaitMs} ms` : ''), expected, partial };
  } finally {
    await writer.close();
    for (const follower of followers) await follower.close();
  }
}
