/**
 * Small validated strings: server names, business ids, partitions, mbtype,
 * addresses (numeric IP:port, which nginx requires), request ids.
 */
import { invalidArgument, quote } from './errors.js';
import { limits } from './limits.js';
import { isIP } from 'node:net';

const labelShape = /^[A-Za-z0-9._:@-]+$/;

/** A server name, business id or datacentre: 1..255 of [A-Za-z0-9._:@-]. */
export function validateLabel(value: string, what: string): void {
  if (value.length === 0) throw invalidArgument(`${what} is empty`);
  if (Buffer.byteLength(value, 'utf8') > limits.labelBytesMax) {
    throw invalidArgument(`${what} is longer than the limit of ${limits.labelBytesMax} bytes`);
  }
  if (!labelShape.test(value)) throw invalidArgument(`${what} ${quote(value)} has characters outside [A-Za-z0-9._:@-]`);
}

/** A partition name; "default" when empty. */
export function normalizePartition(value: string): string {
  if (value.length === 0) return 'default';
  if (Buffer.byteLength(value, 'utf8') > limits.partitionBytesMax || !/^[A-Za-z0-9._-]+$/.test(value)) {
    throw invalidArgument(`partition ${quote(value)} must be 1..${limits.partitionBytesMax} of [A-Za-z0-9._-]`);
  }
  return value;
}

/** A Cyrus mbtype (letters); "e" when empty. */
export function normalizeMbtype(value: string): string {
  if (value.length === 0) return 'e';
  if (value.length > limits.mbtypeLengthMax || !/^[a-z]+$/.test(value)) {
    throw invalidArgument(`mbtype ${quote(value)} must be 1..${limits.mbtypeLengthMax} lowercase letters`);
  }
  return value;
}

/** A request id: up to 128 printable characters, may be empty. */
export function validateRequestId(value: string): void {
  if (value.length > limits.requestIdBytesMax || /[\x00-\x20\x7f]/.test(value)) {
    throw invalidArgument(`request_id must be at most ${limits.requestIdBytesMax} printable characters without spaces`);
  }
}

/** A numeric `IP:port` or `[IPv6]:port`; empty allowed (not yet known). */
export function validateAddress(value: string, what: string): void {
  if (value.length === 0) return;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3] ?? '0');
  if (match === null || isIP(host) === 0 || port < 1 || port > 65535) {
    throw invalidArgument(`${what} ${quote(value)} must be a numeric IP and port, e.g. 10.0.0.5:143 or [::1]:24`);
  }
}

/** Splits a numeric address into host and port (assumes it validated). */
export function splitAddress(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  return { host: value.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(value.slice(colon + 1)) };
}
