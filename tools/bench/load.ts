/**
 * The bench's load: closed loops of N concurrent callers for a fixed time, one
 * operation at a time, recording each call's latency; a streaming lookup with a
 * bounded window of names in flight (Watch delivery is in watch-delivery.ts). It only talks gRPC through MbdirClient; request contents come
 * from the generator's shape and a seeded PRNG.
 */
import type { MbdirClient } from '../../src/client/client.js';
import type { ListMailboxesRequest, LookupStreamResponse__Output } from '../../src/client/messages.js';
import { businessOf, folderNames, groupOf, userId, type DirectoryShape } from './generate.js';
import { LatencyRecorder, randomBelow, seededRandom } from './stats.js';

export interface LoadSettings {
  concurrency: number;
  /** HTTP/2 connections the unary callers are spread over (caller i on connection i mod n). */
  connections: number;
  durationMs: number;
  seed: number;
  /** Names per LookupMailboxes call. */
  lookupBatchNames: number;
  /** Names in flight on the LookupStream. */
  streamWindowNames: number;
  /** Names per LookupStream message (1: one message per name). */
  streamBatchNames: number;
  /** Seconds each operation runs unmeasured first (JIT, caches, connections). */
  warmupMs: number;
  /** Turns the node and the echo take at each operation (--duration split between them). */
  rounds: number;
  watchSubscribers: number;
  /** Pause between two writes while measuring Watch delivery. */
  watchWriteIntervalMs: number;
  /** Processes the Watch subscribers are spread over. */
  watchProcesses: number;
}

export interface Measured {
  operations: number;
  names: number;
  errors: number;
  firstError: string;
  seconds: number;
  latency: LatencyRecorder;
  /**
   * Watch: CPU seconds of the node and of the subscriber processes over the measured
   * window only (not the attaching, not the tallying), which the report then shows.
   */
  windowCpuSeconds?: { server: number; load: number };
  /** Watch: the disk-wait share (report.ts Phase.ioStallPercent) over the measured window only. */
  windowIoStallPercent?: number | null;
}

/** Picks existing names, users and their groups for requests. */
export class RequestPicker {
  private readonly random: () => number;
  private readonly folders: string[];

  constructor(private readonly shape: DirectoryShape, seed: number) {
    this.random = seededRandom(seed);
    this.folders = folderNames(shape.foldersPerUser);
  }

  userIndex(): number {
    return randomBelow(this.random, this.shape.users);
  }

  name(): string {
    const user = userId(this.userIndex());
    const folder = randomBelow(this.random, this.folders.length + 1);
    return folder === this.folders.length ? `user.${user}` : `user.${user}.${this.folders[folder] ?? ''}`;
  }

  names(count: number): string[] {
    return Array.from({ length: count }, () => this.name());
  }

  listRequest(): ListMailboxesRequest {
    const index = this.userIndex();
    return { user: userId(index), groups: [groupOf(businessOf(this.shape, index))], reference: '', pattern: '*' };
  }
}

/** Runs `call` from `concurrency` callers for `durationMs`; each call returns how many names it served, or -1 to stop its caller. */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  call: (worker: number) => Promise<number>,
  onTick?: (measured: Measured) => void,
): Promise<Measured> {
  const measured: Measured = { operations: 0, names: 0, errors: 0, firstError: '', seconds: 0, latency: new LatencyRecorder() };
  const startedMs = performance.now();
  const endMs = startedMs + durationMs;
  const ticker = onTick === undefined ? null : setInterval(() => onTick(measured), 250);
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < endMs) {
      const callStartedMs = performance.now();
      try {
        // Read the count after the await: `x += await f()` would read x before and lose concurrent updates.
        const served = await call(index);
        if (served < 0) return; // the caller has nothing left to do (e.g. no more mailboxes to rename)
        measured.names += served;
        measured.operations += 1;
        measured.latency.add(performance.now() - callStartedMs);
      } catch (error) {
        measured.errors += 1;
        if (measured.firstError === '') measured.firstError = (error as Error).message;
        if (measured.errors > 1000 && measured.operations === 0) return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  if (ticker !== null) clearInterval(ticker);
  measured.seconds = (performance.now() - startedMs) / 1000;
  return measured;
}

/**
 * LookupStream: one stream for `durationMs`, `streamWindowNames` names in
 * flight in messages of `streamBatchNames` names; latency is per message.
 */
export function streamLookups(client: MbdirClient, picker: RequestPicker, settings: LoadSettings, durationMs = settings.durationMs): Promise<Measured> {
  const measured: Measured = { operations: 0, names: 0, errors: 0, firstError: '', seconds: 0, latency: new LatencyRecorder() };
  const stream = client.lookupStream();
  const batch = Math.max(1, settings.streamBatchNames);
  const sentAtMs: number[] = [];
  let head = 0;
  const startedMs = performance.now();
  const endMs = startedMs + durationMs;
  let writing = true;
  const send = (): void => {
    sentAtMs.push(performance.now());
    stream.write(batch === 1 ? { name: picker.name() } : { names: picker.names(batch) });
  };
  return new Promise<Measured>((resolve) => {
    const done = (): void => {
      measured.seconds = (performance.now() - startedMs) / 1000;
      resolve(measured);
    };
    stream.on('data', (response: LookupStreamResponse__Output) => {
      const sent = sentAtMs[head] ?? performance.now();
      head += 1;
      measured.names += response.results.length;
      measured.operations += 1;
      measured.latency.add(performance.now() - sent);
      if (head > 100_000) {
        sentAtMs.splice(0, head);
        head = 0;
      }
      if (writing && performance.now() < endMs) send();
      else if (writing) {
        writing = false;
        stream.end();
      }
    });
    stream.on('error', (error: Error) => {
      measured.errors += 1;
      measured.firstError ||= error.message;
    });
    stream.on('close', done);
    stream.on('end', done);
    for (let sent = 0; sent < settings.streamWindowNames; sent += batch) send();
  });
}
