/**
 * Lease rules: named locks with a holder and an expiry, so that two runs of a
 * job (the hourly rebalance) never overlap. A lease is granted when it is free,
 * expired, or already the caller's (which renews it); it is released only by
 * its holder. Decisions go through the engine like every write, so a cluster
 * engine replicates them; they never read a clock themselves (it is passed in).
 */
import { invalidArgument, quote } from '../model/errors.js';
import { validateLabel } from '../model/labels.js';
import { limits } from '../model/limits.js';
import type { LockRecord } from '../model/records.js';
import type { Decision } from '../replication/engine.js';
import type { Store } from '../store/store.js';

export interface LockAnswer {
  granted: boolean;
  /** The holder after the decision: the caller when granted, else whoever holds it. */
  holder: string;
  expiresAtMs: number;
}

function validateHolder(holder: string): void {
  if (holder.length === 0) throw invalidArgument('holder is empty');
  if (Buffer.byteLength(holder, 'utf8') > limits.lockHolderBytesMax || /[\x00-\x1f\x7f]/.test(holder)) {
    throw invalidArgument(`holder ${quote(holder)} must be 1..${limits.lockHolderBytesMax} printable bytes`);
  }
}

/** Grants (or renews) the lease `name` to `holder` for `ttlMs` unless another holder's lease is live. */
export function decideAcquireLock(
  store: Store,
  input: { name: string; holder: string; ttlMs: number },
  nowMs: number,
): Decision<LockAnswer> {
  validateLabel(input.name, 'lock name');
  validateHolder(input.holder);
  if (!Number.isInteger(input.ttlMs) || input.ttlMs < limits.lockTtlMsMin || input.ttlMs > limits.lockTtlMsMax) {
    throw invalidArgument(`ttl_ms must be ${limits.lockTtlMsMin}..${limits.lockTtlMsMax}`);
  }
  const current = store.lock(input.name);
  if (current !== undefined && current.holder !== input.holder && current.expiresAtMs > nowMs) {
    return { changes: [], result: { granted: false, holder: current.holder, expiresAtMs: current.expiresAtMs } };
  }
  const lock: LockRecord = { name: input.name, holder: input.holder, expiresAtMs: nowMs + input.ttlMs };
  return { changes: [{ kind: 'lock.put', lock }], result: { granted: true, holder: lock.holder, expiresAtMs: lock.expiresAtMs } };
}

/** Releases the lease when `holder` holds it; answers false (and changes nothing) otherwise. */
export function decideReleaseLock(store: Store, input: { name: string; holder: string }): Decision<boolean> {
  validateLabel(input.name, 'lock name');
  validateHolder(input.holder);
  const current = store.lock(input.name);
  if (current === undefined || current.holder !== input.holder) return { changes: [], result: false };
  return { changes: [{ kind: 'lock.delete', name: input.name }], result: true };
}
