/**
 * Whether a node should receive traffic, and why not: the one rule behind
 * /readyz and the gRPC health service's statuses. A node is ready once its
 * data is open and it is not draining; on etcd it also needs an etcd member
 * with a leader (quorum, so writes can succeed) and a copy at most
 * `readyLagRevisionsMax` revisions behind etcd. Pure: the node feeds it.
 */
import { limits } from '../model/limits.js';
import type { EngineStatus } from '../replication/engine.js';

export interface ReadinessInput {
  started: boolean;
  draining: boolean;
  /** The engine's status; undefined when it could not be read. */
  status: EngineStatus | undefined;
}

export interface Readiness {
  ready: boolean;
  /** Why the node is not ready, one plain sentence each; empty when ready. */
  reasons: string[];
}

/** Decides readiness; `lagRevisionsMax` is limits.readyLagRevisionsMax unless a test lowers it. */
export function readinessOf(input: ReadinessInput, lagRevisionsMax: number = limits.readyLagRevisionsMax): Readiness {
  const reasons: string[] = [];
  if (!input.started) reasons.push('starting: the data directory is not open yet');
  if (input.draining) reasons.push('draining: the node is stopping');
  if (input.status === undefined) {
    if (input.started) reasons.push('the engine status could not be read');
  } else if (input.status.engine === 'etcd') {
    if (!input.status.endpoints.some((endpoint) => endpoint.healthy)) {
      const tried = input.status.endpoints.map((endpoint) => endpoint.endpoint).join(', ');
      reasons.push(`no etcd member with a leader answered (${tried}): writes would fail`);
    }
    const lag = input.status.clusterRevision - input.status.appliedRevision;
    if (lag > lagRevisionsMax) reasons.push(`${lag} revisions behind etcd (more than ${lagRevisionsMax})`);
  }
  return { ready: reasons.length === 0, reasons };
}
