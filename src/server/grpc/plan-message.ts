/**
 * A rebalance plan cut to what one gRPC message carries. PlanRebalance may
 * plan up to `limits.planUsersMax` users, and with long user names that is
 * more than `limits.grpcMessageBytesMax` (about 75 bytes a move with short
 * names, up to about 300 with the longest): grpc-js would refuse the whole
 * answer with RESOURCE_EXHAUSTED. The moves that do not fit wait for the next
 * plan; the answer's `total` still counts every move, so the caller sees that
 * more are left (the rebalance job plans again after each round).
 */
import { limits } from '../../model/limits.js';

/** What a plan answer holds besides its moves and stale marks (total, revision): a generous allowance. */
const planAnswerOtherBytes = 64;
/** Bytes a plan answer's moves and stale marks may take. */
export const planAnswerListsBytesMax = limits.grpcMessageBytesMax - planAnswerOtherBytes;

/** The wire fields of one planned move, as PlanRebalanceResponse carries it. */
export interface WirePlannedMove {
  user: string;
  from_server: string;
  to_server: string;
  reason: string;
  business: string;
  moving: boolean;
}

/** Bytes of a protobuf varint holding `value`. */
function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** Bytes of a length-delimited field (one-byte tag) whose content is `contentBytes` long. */
function delimitedFieldBytes(contentBytes: number): number {
  return 1 + varintBytes(contentBytes) + contentBytes;
}

/** A string field as protobufjs (grpc-js's encoder) writes it when set, even to '' (the tag and a zero length). */
function stringFieldBytes(value: string): number {
  return delimitedFieldBytes(Buffer.byteLength(value, 'utf8'));
}

/** A bool field as protobufjs writes it when set, even to false. */
const boolFieldBytes = 2;

/** Encoded bytes of a move inside the answer (its field tag and length included). */
export function plannedMoveBytes(move: WirePlannedMove): number {
  const content =
    stringFieldBytes(move.user) +
    stringFieldBytes(move.from_server) +
    stringFieldBytes(move.to_server) +
    stringFieldBytes(move.reason) +
    stringFieldBytes(move.business) +
    boolFieldBytes;
  return delimitedFieldBytes(content);
}

/**
 * The longest prefixes of `staleMoving`, then of `moves`, whose encoding fits
 * in `budgetBytes` (by default one gRPC message, less the answer's other
 * fields). Stale marks come first: they are few and short, and a full plan
 * must not keep the job from clearing them.
 */
export function planWithinMessage(
  moves: readonly WirePlannedMove[],
  staleMoving: readonly string[],
  budgetBytes = planAnswerListsBytesMax,
): { moves: WirePlannedMove[]; staleMoving: string[] } {
  const stale = longestPrefixWithin(staleMoving, stringFieldBytes, budgetBytes);
  const fitting = longestPrefixWithin(moves, plannedMoveBytes, stale.bytesLeft);
  return { moves: fitting.items, staleMoving: stale.items };
}

/** The longest prefix of `items` whose `bytesOf` add up to at most `budgetBytes`, and the bytes left. */
function longestPrefixWithin<T>(items: readonly T[], bytesOf: (item: T) => number, budgetBytes: number): { items: T[]; bytesLeft: number } {
  let bytesLeft = budgetBytes;
  let count = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (bytes > bytesLeft) break;
    bytesLeft -= bytes;
    count += 1;
  }
  return { items: items.slice(0, count), bytesLeft };
}
