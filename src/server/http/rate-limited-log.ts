/**
 * Refusals logged at most once per kind and interval: a client (or a scanner)
 * hammering a proxy with bad logins must not flood the log. The lines skipped
 * are counted into the next one of that kind. Keys are a fixed set (error codes,
 * availability states) chosen by the caller, so the table stays small.
 */
import type { Logger } from '../../logging.js';

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
    this.lastByKey.set(key, { atMs: now, skipped: 0 });
  }
}
