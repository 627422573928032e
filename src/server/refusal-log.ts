/**
 * Rate-limited logging of refusals (a connection over the limit, a malformed
 * request): a flood of bad clients must not flood the log. At most
 * `limits.refusalLogLinesPerInterval` lines per interval; the rest are counted
 * and the count is logged with the next line. The clock is injected for tests.
 */
import type { Logger } from '../logging.js';
import { limits } from '../model/limits.js';

export class RefusalLog {
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private linesInWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
    private readonly linesPerInterval: number = limits.refusalLogLinesPerInterval,
    private readonly intervalMs: number = limits.refusalLogIntervalMs,
  ) {}

  /** Logs one refusal at warn level unless this interval's lines are spent; returns whether it logged. */
  refuse(fields: Record<string, unknown>, message: string): boolean {
    const now = this.nowMs();
    if (now - this.windowStartMs >= this.intervalMs) {
      this.windowStartMs = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow >= this.linesPerInterval) {
      this.suppressed += 1;
      return false;
    }
    this.linesInWindow += 1;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.logger.warn(suppressed > 0 ? { ...fields, suppressedBefore: suppressed } : fields, message);
    return true;
  }
}
