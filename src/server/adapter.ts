/**
 * What every listener of a node (gRPC today; MUPDATE, HTTP, socketmap next)
 * gives the node so that one stop path serves them all: `drain` stops taking
 * new work and says so (health), `idle` resolves when the work in flight is
 * done, `close` cuts whatever is left. The node calls them in that order, all
 * adapters together, bounded by limits.shutdownGraceMs (src/server/node.ts).
 * InFlight is the counter an adapter keeps of its calls or sessions.
 */

export interface NodeAdapter {
  /** For logs: `gRPC`, `MUPDATE`, ... */
  readonly protocol: string;
  /** Stops accepting connections and calls, and reports not serving; work in flight goes on. */
  drain(): void;
  /** Resolves once no call or session of this adapter is in flight. */
  idle(): Promise<void>;
  /** Ends what is left at once (after the grace period) and releases the listener. */
  close(): Promise<void>;
}

/**
 * Counts work in flight; `idle()` resolves when it reaches zero. Every `enter`
 * must be matched by exactly one `leave` (the gRPC call wrappers do it on each
 * path: no closure per call, lookups are hot).
 */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  enter(): void {
    this.count += 1;
  }

  leave(): void {
    this.count -= 1;
    if (this.count === 0 && this.waiters.length > 0) this.wake();
  }

  get size(): number {
    return this.count;
  }

  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
