/**
 * Graceful restart under load: writers and Watch followers on a real `mbdir
 * serve`; SIGTERM; the node reports NOT_SERVING on the health service, ends
 * every Watch with the resumable status, finishes what it acknowledged, exits
 * 0; a node started on the same data directory serves every acknowledged
 * write, and each follower resumes there from the revision it was told,
 * without a gap or a repeat.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientError, MbdirClient } from '../../src/client/client.js';
import { limits } from '../../src/model/limits.js';
import { MupdateClient, mupdatePort } from '../helpers/mupdate-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import type { LookupStreamResponse__Output } from '../../src/client/messages.js';

const writersCount = 4;
const followersCount = 3;
/** Writes each writer gets acknowledged before the restart, and after it. */
const writesBeforeStop = 40;
const writesAfterRestart = 20;

/** Attempts of one call or stream while the node restarts (50 ms apart). */
const retriesMax = 400;

const dataDir = mkdtempSync(join(tmpdir(), 'mbdir-restart-'));
const started: ServerProcess[] = [];

afterAll(async () => {
  for (const node of started) await node.stop('SIGKILL').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

/** The node clients should use now; replaced on restart. */
let current: { endpoint: string; client: MbdirClient; ready: Promise<void> };

async function start(): Promise<ServerProcess> {
  const node = await startServer(['--mupdate-listen', '127.0.0.1:0'], { dataDir });
  started.push(node);
  current = { endpoint: node.endpoint, client: node.client(), ready: Promise.resolve() };
  return node;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The node is stopping or gone (UNAVAILABLE, or its client was closed with it): try again on the next one. */
function restarting(error: unknown): boolean {
  if (error instanceof ClientError) return error.codeName === 'UNAVAILABLE';
  return error instanceof Error && /Channel has been shut down/.test(error.message);
}

interface Acked {
  name: string;
  revision: number;
}

/** Creates mailboxes until `stop()` says so, retrying refused calls on the current node; records what was acknowledged. */
function writer(id: number, acked: Acked[], keepGoing: () => boolean): Promise<void> {
  return (async () => {
    for (let index = 0; keepGoing(); index += 1) {
      const name = `user.w${id}.f${index}`;
      for (let attempt = 0; ; attempt += 1) {
        const client = current.client;
        try {
          const answer = await client.createMailbox({ mailbox: { name, server: 'backend1' }, request_id: name }, 2000);
          acked.push({ name, revision: Number(answer['revision']) });
          break;
        } catch (error) {
          // An attempt whose answer was lost did commit: the name is taken, at its revision.
          if (error instanceof ClientError && error.codeName === 'ALREADY_EXISTS') {
            const held = await client.getMailbox({ name });
            acked.push({ name, revision: Number(held['revision']) });
            break;
          }
          if (attempt >= retriesMax || !restarting(error)) throw error;
          await sleep(50);
        }
      }
    }
  })();
}

interface Follower {
  revisions: number[];
  resumedFrom: number[];
  done: Promise<void>;
  stop(): void;
}

/** Follows Watch from `from`; on the resumable end it resumes, on the current node, where it was told; `stop` aborts it. */
function follower(from: number): Follower {
  const revisions: number[] = [];
  const resumedFrom: number[] = [];
  const abort = new AbortController();
  const done = (async () => {
    let fromRevision = from;
    for (let attempt = 0; ; attempt += 1) {
      try {
        for await (const event of current.client.watch({ from_revision: fromRevision }, abort.signal)) {
          if (event['type'] === 'PUT') revisions.push(Number(event['revision']));
        }
        if (abort.signal.aborted) return;
      } catch (error) {
        if (attempt >= retriesMax) throw error;
        if (restarting(error)) {
          await sleep(50);
          continue;
        }
        if (!(error instanceof ClientError)) throw error;
        const resume = /resume with from_revision (\d+)/.exec(error.details);
        if (resume?.[1] !== undefined) {
          expect(error.codeName).toBe('RESOURCE_EXHAUSTED');
          fromRevision = Number(resume[1]);
          resumedFrom.push(fromRevision);
        } else {
          throw error;
        }
      }
    }
  })();
  return { revisions, resumedFrom, done, stop: () => abort.abort() };
}

/** A Cyrus frontend's UPDATE stream: logs in, sends UPDATE, and resolves once the dump has streamed. */
async function updateFollower(node: ServerProcess): Promise<MupdateClient> {
  const client = await MupdateClient.login(mupdatePort(node));
  client.send('U01 UPDATE\r\n');
  await client.waitFor(/U01 OK "streaming starts"\r\n/, 20_000);
  return client;
}

/** The mailbox names an UPDATE stream carried (MAILBOX lines: a quoted name or a literal). */
function updatedNames(received: string): Set<string> {
  const names = new Set<string>();
  for (const match of received.matchAll(/U01 MAILBOX (?:"([^"]*)"|\{\d+\+?\}\r\n([^ \r\n]*))/g)) names.add(match[1] ?? match[2] ?? '');
  return names;
}

/** Follows the health service's Watch for the whole server; resolves with every status it reported. */
function watchHealth(endpoint: string): Promise<number[]> {
  const health = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const statuses: number[] = [];
  return new Promise((resolve) => {
    const call = health.makeServerStreamRequest(
      '/grpc.health.v1.Health/Watch',
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.alloc(0),
    );
    call.on('data', (message: Buffer) => statuses.push(message[1] ?? 0)); // field 1 varint: 1 SERVING, 2 NOT_SERVING
    call.on('error', () => undefined);
    call.on('close', () => {
      health.close();
      resolve(statuses);
    });
  });
}

describe('graceful restart under load', () => {
  it('loses no acknowledged write and resumes every Watch without a gap', async () => {
    const first = await start();
    await current.client.putServer({ name: 'backend1' });
    const startRevision = Number((await current.client.status())['applied_revision']);

    const followers = Array.from({ length: followersCount }, () => follower(startRevision));
    const health = watchHealth(first.endpoint);
    // A Cyrus frontend's UPDATE follower: cut at the stop, it reconnects and resyncs from a full dump.
    const frontend = await updateFollower(first);
    const acked: Acked[] = [];
    let writing = true;
    const writers = Array.from({ length: writersCount }, (_, id) => writer(id, acked, () => writing));

    while (acked.length < writersCount * writesBeforeStop) await sleep(20);
    // A proxy's open LookupStream: answered until the stop, then ended so the stop need not wait for it.
    const lookups = current.client.lookupStream();
    const lookupEnd = new Promise<grpc.ServiceError>((resolve) => lookups.on('error', resolve));
    const answered = new Promise<LookupStreamResponse__Output>((resolve) => lookups.once('data', resolve));
    lookups.write({ name: 'user.w0.f0' });
    expect((await answered).results[0]).toMatchObject({ found: true });
    const stoppedAt = Date.now();
    const exitCode = await first.stop('SIGTERM');
    const stopMs = Date.now() - stoppedAt;
    expect(exitCode).toBe(0);
    expect(stopMs).toBeLessThan(limits.shutdownGraceMs);
    const lookupStatus = await lookupEnd;
    expect([grpc.status[lookupStatus.code], lookupStatus.details]).toEqual(['UNAVAILABLE', expect.stringMatching(/node is stopping/)]);
    expect(first.stderr()).not.toMatch(/cutting|"level":50/);
    await frontend.waitFor(() => frontend.closed, 5_000);
    const statuses = await health;
    expect(statuses[0]).toBe(1);
    expect(statuses.at(-1)).toBe(2); // NOT_SERVING before the stream closed

    const ackedBeforeRestart = acked.length;
    const restarted = await start();
    const resynced = await updateFollower(restarted);
    while (acked.length < ackedBeforeRestart + writersCount * writesAfterRestart) await sleep(20);
    writing = false;
    await Promise.all(writers);
    const lastRevision = Number((await current.client.status())['applied_revision']);
    for (const one of followers) {
      for (let waited = 0; (one.revisions.at(-1) ?? 0) < lastRevision && waited < 10_000; waited += 20) await sleep(20);
      one.stop();
    }
    await Promise.all(followers.map((one) => one.done));

    // Every acknowledged write is on the restarted node, at the revision it was acknowledged with.
    const found = await current.client.lookupMailboxes({ names: acked.map((write) => write.name) });
    const revisions = found.results.map((result) => result.mailbox?.revision ?? -1);
    expect(revisions).toEqual(acked.map((write) => write.revision));

    // Each follower was told where to resume, resumed, and saw every revision once, in order.
    const expected = Array.from({ length: lastRevision - startRevision }, (_, index) => startRevision + 1 + index);
    for (const one of followers) {
      expect(one.resumedFrom.length).toBeGreaterThanOrEqual(1);
      expect(one.revisions).toEqual(expected);
    }
    for (const write of acked) expect(expected).toContain(write.revision);

    // The frontend's resync (dump, then live changes) carries every acknowledged mailbox.
    await resynced.waitFor((received) => acked.every((write) => updatedNames(received).has(write.name)), 10_000);
    resynced.close();
  }, 60_000);
});
