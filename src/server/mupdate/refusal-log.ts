/**
 * Warnings about refused MUPDATE clients (connection limit, bad logins, cut-off
 * followers), at most one line per kind per interval, with the count of those
 * left unlogged: a flood of refusals must not become a flood of log lines. The
 * clock is injected for tests.
 */
import type { Logger } from '../../logging.js';

export class RefusalLog {
  private readonly lastMs = new Map<string, number>();
  private readonly unlogged = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** Logs `message` at warn unless one of the same `message` was logged within the interval. */
  warn(message: string, fields: Record<string, unknown>): void {
    const now = this.nowMs();
    const last = this.lastMs.get(message);
    if (last !== undefined && now - last < this.intervalMs) {
      this.unlogged.set(message, (this.unlogged.get(message) ?? 0) + 1);
      return;
    }
    const suppressed = this.unlogged.get(message) ?? 0;
    this.logger.warn({ ...fields, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, message);
    this.lastMs.set(message, now);
    this.unlogged.delete(message);
  }
}
