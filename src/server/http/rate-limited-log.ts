/**
 * Refusals logged at most once per kind and interval: a client (or a scanner)
 * hammering a proxy with bad logins must not flood the log. The lines skipped
 * are counted into the next one of that kind. A kind is a message's shape
 * (refusalKind: quoted values taken out), so a user name does not make a new
 * kind; the table is bounded all the same (cleared when full).
 */
import type { Logger } from '../../logging.js';

/** Kinds remembered at once; past it the table starts afresh (at worst a few extra lines). */
const kindsMax = 256;

/** The kind of a refusal: its code and its message without the quoted values and numbers in it. */
export function refusalKind(code: string, message: string): string {
  return `${code} ${message.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/[0-9]+/g, 'N').slice(0, 200)}`;
}

export class RateLimitedLog {
  private readonly lastByKey = new Map<string, { atMs: number; skipped: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** Logs `message` with `fields` unless a line of `key` was logged less than the interval ago. */
  info(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.nowMs();
    const last = this.lastByKey.get(key);
    if (last !== undefined && now - last.atMs < this.intervalMs) {
      last.skipped += 1;
      return;
    }
    this.logger.info({ ...fields, ...(last !== undefined && last.skipped > 0 ? { skippedSinceLast: last.skipped } : {}) }, message);
    if (this.lastByKey.size >= kindsMax && last === undefined) this.lastByKey.clear();
    this.lastByKey.set(key, { atMs: now, skipped: 0 });
  }
}
