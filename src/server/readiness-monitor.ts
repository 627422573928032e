/**
 * Keeps the node's readiness current: evaluates the readiness rule
 * (readiness.ts) from the engine's status every limits.readinessCheckIntervalMs
 * and on demand (/readyz), and reports it to the gRPC health service, so a
 * load balancer probing either sees the same answer. Once the node drains it
 * stays not ready (the gRPC adapter has already said NOT_SERVING); the monitor
 * never turns a draining node back to SERVING.
 */
import type { Logger } from '../logging.js';
import { limits } from '../model/limits.js';
import type { Engine, EngineStatus } from '../replication/engine.js';
import { readinessOf, type Readiness } from './readiness.js';

/** Where readiness is reported: the gRPC health service's statuses. */
export type ReadinessReporter = (serving: boolean) => void;

export class ReadinessMonitor {
  private draining = false;
  private last: Readiness = { ready: false, reasons: ['starting: the data directory is not open yet'] };
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<Readiness> | null = null;
  /** False until the first check: a node not ready from its start says so (and why) once, as a change would. */
  private evaluated = false;

  constructor(
    private readonly engine: Engine,
    private readonly report: ReadinessReporter,
    private readonly logger: Logger,
  ) {}

  /** The node has opened its data and serves: start checking. */
  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), limits.readinessCheckIntervalMs);
    this.timer.unref();
  }

  /** The node is stopping: not ready from now on, and no more checks. */
  drain(): void {
    this.draining = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.last = readinessOf({ started: true, draining: true, status: undefined });
  }

  /** Readiness now (one engine status read; concurrent callers share it). */
  check(): Promise<Readiness> {
    this.checking ??= this.evaluate().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async evaluate(): Promise<Readiness> {
    let status: EngineStatus | undefined;
    try {
      status = await this.engine.status();
    } catch {
      status = undefined;
    }
    const readiness = readinessOf({ started: true, draining: this.draining, status });
    if (this.draining) return readiness;
    if (readiness.ready !== this.last.ready || !this.evaluated) {
      if (readiness.ready) this.logger.info('ready: serving');
      else this.logger.warn({ reasons: readiness.reasons }, 'not ready');
      this.report(readiness.ready);
    }
    this.last = readiness;
    this.evaluated = true;
    return readiness;
  }
}
