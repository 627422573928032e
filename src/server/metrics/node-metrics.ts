/**
 * The node's Prometheus metrics: one prom-client Registry per node (never the
 * library's global one, so two nodes in one process, as in tests, stay apart).
 * Counters and histograms are fed by the adapters (gRPC calls, text-protocol
 * commands) and the engine (commits, flushes, etcd retries) as work happens;
 * gauges that describe state (revision, mailboxes, lag, quorum, subscribers)
 * are read from the node only when Prometheus scrapes. Label values come from
 * fixed sets (method names, codes, command names), never from client input, so
 * the series count stays bounded.
 */
import client from 'prom-client';
import { codecFallbackCounts } from '../../api/codec-fallbacks.js';
import type { EngineStatus, EngineTelemetry } from '../../replication/engine.js';

/** What the gauges read at scrape time; the node provides it. */
export interface MetricsSource {
  appliedRevision(): number;
  mailboxCounts(): { active: number; reserved: number };
  watchSubscribers(): number;
  /** Engine status (etcd: endpoint health and the cluster's revision); may take a network round trip. */
  engineStatus(): Promise<EngineStatus>;
}

export interface BuildInfo {
  version: string;
  nodeId: string;
  engine: 'standalone' | 'etcd';
}

/**
 * How often the event-loop delay histogram behind `nodejs_eventloop_lag_*_seconds`
 * samples, in ms (each sample is this interval plus the delay; prom-client's
 * default is 10). Every scrape reads the histogram and starts a new one, so the
 * p99 and max gauges describe the time since the last scrape.
 */
export const eventLoopSampleIntervalMs = 5;

/** Seconds; a lookup answers in well under a millisecond, a large LIST or SyncServer in seconds. */
const callSecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; a COMMIT or an fdatasync takes from 50 us to tens of ms. */
const storeSecondsBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export type GrpcCallType = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';

/**
 * Keeps prom-client's labelled children by key: `labels()` hashes its arguments
 * on every call, which the lookup path (microseconds per call) should not pay.
 */
class ChildCache<Child> {
  private readonly children = new Map<string, Child>();
  constructor(private readonly make: (...values: string[]) => Child) {}

  get(...values: string[]): Child {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.make(...values);
      this.children.set(key, child);
    }
    return child;
  }
}

export class NodeMetrics {
  readonly registry = new client.Registry();
  /** The engine's reports, wired to the commit and flush histograms and the etcd counters. */
  readonly engineTelemetry: EngineTelemetry;
  private readonly grpcStarted: ChildCache<client.Counter.Internal>;
  private readonly grpcHandled: ChildCache<client.Counter.Internal>;
  private readonly grpcSeconds: ChildCache<client.Histogram.Internal<string>>;
  private readonly protocolCommands: ChildCache<client.Counter.Internal>;
  private readonly protocolConnections: client.Gauge;
  private readonly streamCutoffs: client.Counter;
  private readonly limitRefusals: client.Counter;

  constructor(build: BuildInfo, source: MetricsSource) {
    client.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: eventLoopSampleIntervalMs });
    // prom-client names three gauges `..._total`, which Prometheus reserves for counters (promtool
    // refuses them); each is the sum of its per-type gauge (nodejs_active_handles{type}, ...).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    const registers = [this.registry];
    new client.Gauge({
      name: 'mbdir_build_info',
      help: 'Always 1; the labels say which mbdir this node runs.',
      labelNames: ['version', 'node_id', 'engine'],
      registers,
    }).set({ version: build.version, node_id: build.nodeId, engine: build.engine }, 1);

    const started = new client.Counter({
      name: 'grpc_server_started_total',
      help: 'gRPC calls started on the server.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_type'],
      registers,
    });
    const handled = new client.Counter({
      name: 'grpc_server_handled_total',
      help: 'gRPC calls completed on the server, by status code.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_type', 'grpc_code'],
      registers,
    });
    const seconds = new client.Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from the start of a gRPC call to its status, in seconds (streams: their whole life).',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_type'],
      buckets: callSecondsBuckets,
      registers,
    });
    this.grpcStarted = new ChildCache((service, method, type) => started.labels(service ?? '', method ?? '', type ?? ''));
    this.grpcHandled = new ChildCache((service, method, type, code) =>
      handled.labels(service ?? '', method ?? '', type ?? '', code ?? ''),
    );
    this.grpcSeconds = new ChildCache((service, method, type) => seconds.labels(service ?? '', method ?? '', type ?? ''));

    const commands = new client.Counter({
      name: 'mbdir_protocol_commands_total',
      help: 'Commands of the text protocols (mupdate, auth_http, socketmap, dovecot_dict), by result.',
      labelNames: ['protocol', 'command', 'result'],
      registers,
    });
    this.protocolCommands = new ChildCache((protocol, command, result) =>
      commands.labels(protocol ?? '', command ?? '', result ?? ''),
    );
    this.protocolConnections = new client.Gauge({
      name: 'mbdir_protocol_connections',
      help: 'Open connections of each text protocol listener.',
      labelNames: ['protocol'],
      registers,
    });
    this.streamCutoffs = new client.Counter({
      name: 'mbdir_stream_cutoffs_total',
      help: 'Change-stream subscribers (gRPC Watch, MUPDATE UPDATE) cut off because they fell behind (reason: buffer) or all held too much (budget).',
      labelNames: ['reason'],
      registers,
    });
    this.limitRefusals = new client.Counter({
      name: 'mbdir_limit_refusals_total',
      help: 'Connections or requests refused by a named limit (connections per listener, line or literal size, idle time).',
      labelNames: ['protocol', 'limit'],
      registers,
    });

    this.engineTelemetry = this.makeEngineTelemetry(registers);
    this.registerStateGauges(registers, source, build.engine);
    registerCodecFallbacks(registers);
  }

  /** Records one gRPC call's start; the returned function records its end with the status code name. */
  grpcCall(service: string, method: string, type: GrpcCallType): (code: string) => void {
    this.grpcStarted.get(service, method, type).inc();
    const startedMs = performance.now();
    return (code) => {
      this.grpcHandled.get(service, method, type, code).inc();
      this.grpcSeconds.get(service, method, type).observe((performance.now() - startedMs) / 1000);
    };
  }

  /** One command of a text protocol; `result` from a fixed set (ok, no, bad, notfound, temp, ...). */
  protocolCommand(protocol: string, command: string, result: string): void {
    this.protocolCommands.get(protocol, command, result).inc();
  }

  protocolConnectionOpened(protocol: string): void {
    this.protocolConnections.inc({ protocol });
  }

  protocolConnectionClosed(protocol: string): void {
    this.protocolConnections.dec({ protocol });
  }

  streamCutOff(reason: 'buffer' | 'budget'): void {
    this.streamCutoffs.inc({ reason });
  }

  limitRefused(protocol: string, limit: string): void {
    this.limitRefusals.inc({ protocol, limit });
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private makeEngineTelemetry(registers: client.Registry[]): EngineTelemetry {
    const commitSeconds = new client.Histogram({
      name: 'mbdir_store_commit_seconds',
      help: 'Time of one store transaction, BEGIN to COMMIT, in seconds (a transaction may carry many writes).',
      buckets: storeSecondsBuckets,
      registers,
    });
    const writes = new client.Counter({
      name: 'mbdir_store_committed_writes_total',
      help: 'Writes committed by store transactions (several may share one transaction).',
      registers,
    });
    const flushSeconds = new client.Histogram({
      name: 'mbdir_store_fsync_seconds',
      help: 'Time of one flush (fdatasync) of the write-ahead log, in seconds.',
      buckets: storeSecondsBuckets,
      registers,
    });
    const conflicts = new client.Counter({
      name: 'mbdir_etcd_txn_conflicts_total',
      help: "etcd transactions whose guard failed because another node wrote a key they read (the write is decided again).",
      registers,
    });
    const retries = new client.Counter({
      name: 'mbdir_etcd_txn_retries_total',
      help: 'etcd transactions sent again to another endpoint after one did not answer.',
      registers,
    });
    return {
      transactionCommitted: (seconds, count) => {
        commitSeconds.observe(seconds);
        writes.inc(count);
      },
      walFlushed: (seconds) => flushSeconds.observe(seconds),
      etcdTxnConflicted: () => conflicts.inc(),
      etcdTxnRetried: () => retries.inc(),
    };
  }

  private registerStateGauges(registers: client.Registry[], source: MetricsSource, engine: 'standalone' | 'etcd'): void {
    const gauge = (name: string, help: string, collect: (this: client.Gauge) => void | Promise<void>, labelNames: string[] = []): void => {
      new client.Gauge({ name, help, labelNames, registers, collect });
    };
    gauge('mbdir_applied_revision', 'The newest directory revision this node has applied.', function () {
      this.set(source.appliedRevision());
    });
    gauge(
      'mbdir_mailboxes',
      'Mailboxes in this node\'s directory, by state (RESERVED: held by a two-phase create).',
      function () {
        const counts = source.mailboxCounts();
        this.set({ state: 'active' }, counts.active);
        this.set({ state: 'reserved' }, counts.reserved);
      },
      ['state'],
    );
    gauge('mbdir_watch_subscribers', 'Change-stream subscribers attached to this node (gRPC Watch and MUPDATE UPDATE).', function () {
      this.set(source.watchSubscribers());
    });
    if (engine !== 'etcd') return;
    const status = new ScrapeStatus(source);
    gauge('mbdir_etcd_lag_revisions', "How far this node's copy is behind the newest etcd revision it knows of.", async function () {
      const current = await status.read();
      if (current !== undefined) this.set(Math.max(0, current.clusterRevision - current.appliedRevision));
    });
    gauge('mbdir_cluster_has_quorum', '1 when an etcd member with a leader answered the last scrape, else 0 (writes fail then).', async function () {
      const current = await status.read();
      this.set(current?.endpoints.some((endpoint) => endpoint.healthy) === true ? 1 : 0);
    });
    gauge(
      'mbdir_etcd_endpoint_up',
      '1 when this etcd endpoint answered its status request with a leader, else 0.',
      async function () {
        const current = await status.read();
        for (const endpoint of current?.endpoints ?? []) this.set({ endpoint: endpoint.endpoint }, endpoint.healthy ? 1 : 0);
      },
      ['endpoint'],
    );
  }
}

/**
 * One engine status per scrape, shared by the gauges that need it (each would
 * otherwise ask etcd). Undefined when the status could not be read: the scrape
 * still answers, with quorum 0.
 */
class ScrapeStatus {
  private pending: Promise<EngineStatus | undefined> | null = null;
  constructor(private readonly source: MetricsSource) {}

  read(): Promise<EngineStatus | undefined> {
    if (this.pending === null) {
      this.pending = this.source.engineStatus().catch(() => undefined);
      void this.pending.then(() => {
        setTimeout(() => (this.pending = null), 0);
      });
    }
    return this.pending;
  }
}

/** The fast codecs' fallbacks to proto-loader's (src/api/codec-fallbacks.ts counts them process-wide), read at scrape time. */
function registerCodecFallbacks(registers: client.Registry[]): void {
  new client.Counter({
    name: 'mbdir_codec_fallbacks_total',
    help: 'Messages a fast protobuf codec refused and the generic one encoded or decoded instead, by method and direction (never expected: a fast path disagrees with the contract).',
    labelNames: ['method', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const { method, direction, count } of codecFallbackCounts()) this.inc({ method, direction }, count);
    },
  });
}
