/**
 * The one rate-limited log of refusals, for every adapter and the guarded
 * listener: a client (or a scanner) hammering a port with bad logins or
 * connections past the limit must not flood the log. At most one line per kind
 * per interval; the lines skipped are counted into the next line of that kind
 * as `suppressedSinceLast`. A kind is the caller's key (refusalKind takes the
 * quoted values and numbers out of a message, so a user name does not make a new
 * kind); the table of kinds is bounded (cleared when full). The clock is injected for tests.
 */
import type { Logger } from '../logging.js';

/** Kinds remembered at once; past it the table starts afresh (at worst a few extra lines). */
const kindsMax = 256;

/** The kind of a refusal: its code and its message without the quoted values and numbers in it. */
export function refusalKind(code: string, message: string): string {
  return `${code} ${message.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/[0-9]+/g, 'N').slice(0, 200)}`;
}

export type RefusalLevel = 'info' | 'warn';

export class RateLimitedLog {
  private readonly lastByKind = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly level: RefusalLevel = 'warn',
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** Logs `message` with `fields` unless a line of `kind` was logged less than the interval ago; returns whether it logged. */
  note(kind: string, fields: Record<string, unknown>, message: string): boolean {
    const now = this.nowMs();
    const last = this.lastByKind.get(kind);
    if (last !== undefined && now - last.atMs < this.intervalMs) {
      last.suppressed += 1;
      return false;
    }
    const suppressed = last?.suppressed ?? 0;
    this.logger[this.level]({ ...fields, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, message);
    if (this.lastByKind.size >= kindsMax && last === undefined) this.lastByKind.clear();
    this.lastByKind.set(kind, { atMs: now, suppressed: 0 });
    return true;
  }

  /** `note` with the message as its own kind. */
  warn(message: string, fields: Record<string, unknown>): boolean {
    return this.note(message, fields, message);
  }
}
