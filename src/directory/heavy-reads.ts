/**
 * The reads that may take milliseconds (LIST, a page of a scan, a rebalance
 * plan), named so a read thread can run them (read-worker.ts) with the very
 * rule code the main thread runs: each entry calls a rule of this folder on a
 * store's reads (StoreQueries: the node's Store, or a read thread's). Inputs and answers are plain values a thread message can carry
 * (structured clone): sort keys travel as hex strings, never as Buffers.
 * Nothing here writes, waits or keeps state between calls.
 */
import type { MailboxRecord } from '../model/records.js';
import type { StoreQueries } from '../store/queries.js';
import { listMailboxes, type ListInput, type ListResult } from './list-rules.js';
import { planRebalance, type PlannedMove } from './placement-rules.js';

export interface ScanPageInput {
  server: string;
  /** The sort key to read after, hex ('' from the start). */
  afterKeyHex: string;
  limit: number;
}

export interface ScanPageResult {
  mailboxes: MailboxRecord[];
  lastKeyHex: string;
}

export interface RebalancePlan {
  moves: PlannedMove[];
  total: number;
  staleMoving: string[];
}

/** Each heavy read: its input and its answer. */
export interface HeavyReads {
  list: { input: ListInput; result: ListResult };
  scanPage: { input: ScanPageInput; result: ScanPageResult };
  plan: { input: { maxUsers: number }; result: RebalancePlan };
}

export type HeavyReadKind = keyof HeavyReads;

/** The rule behind each heavy read; the main thread and the read threads call the same table. */
export const heavyReads: { [Kind in HeavyReadKind]: (store: StoreQueries, input: HeavyReads[Kind]['input']) => HeavyReads[Kind]['result'] } = {
  list: (store, input) => listMailboxes(store, input),
  scanPage: (store, input) => {
    const page = store.scanPage(input.server, Buffer.from(input.afterKeyHex, 'hex'), input.limit);
    return { mailboxes: page.mailboxes, lastKeyHex: page.lastKey.toString('hex') };
  },
  plan: (store, input) => planRebalance(store, input.maxUsers),
};

