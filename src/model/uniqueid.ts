/**
 * Mailbox uniqueids: opaque, 1-64 chars of [A-Za-z0-9._-]. Cyrus 3 sends
 * 24-character ids or UUIDs; the directory generates one (24 lowercase base-36
 * characters, Cyrus's shape) when a client gives none. Randomness is injected
 * so tests can be seeded.
 */
import { invalidArgument, quote } from './errors.js';
import { limits } from './limits.js';

const uniqueidShape = /^[A-Za-z0-9._-]+$/;

/** Throws InvalidArgument unless `uniqueid` is a valid uniqueid. */
export function validateUniqueid(uniqueid: string): void {
  if (uniqueid.length === 0) throw invalidArgument('uniqueid is empty');
  if (uniqueid.length > limits.uniqueidLengthMax) {
    throw invalidArgument(`uniqueid is ${uniqueid.length} characters, longer than the limit of ${limits.uniqueidLengthMax}`);
  }
  if (!uniqueidShape.test(uniqueid)) {
    throw invalidArgument(`uniqueid ${quote(uniqueid)} has characters outside [A-Za-z0-9._-]`);
  }
}

export type RandomBytes = (count: number) => Uint8Array;

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Bytes at or above this are redrawn, so every character is equally likely (252 = 7 x 36). */
const unbiasedByteLimit = 252;

/** A fresh 24-character uniqueid drawn from `randomBytes`, uniformly over [0-9a-z]. */
export function generateUniqueid(randomBytes: RandomBytes): string {
  let out = '';
  for (let draws = 0; out.length < 24; draws += 1) {
    if (draws > 64) throw new Error('generateUniqueid: the random source keeps returning out-of-range bytes');
    for (const byte of randomBytes(32)) {
      if (byte < unbiasedByteLimit && out.length < 24) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}
