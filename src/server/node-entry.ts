/**
 * What the command line needs to start and configure a node, in one module:
 * the node and its config types, the gRPC listener's bounds and options, the
 * token table and guard, the data directory's lock and the cache bounds. Only
 * `mbdir serve` (serve.ts, config.ts), `mbdir token add` (tools/mbdir.ts) and
 * the bench's floors (the echo serves with the node's gRPC options; the
 * event-loop reading takes off the node's sampling interval) import it;
 * test/unit/tool-imports.test.ts keeps every other src/server module out of tools.
 */
export { MbdirNode, type AdapterBounds, type NodeConfig } from './node.js';
export { defaultGrpcListenerBounds, grpcServerOptions } from './grpc/server.js';
export type { ListenerBounds } from './guarded-listener.js';
export { TokenGuard } from './auth/guard.js';
export { TokenTable, addToken } from './auth/token-file.js';
export { eventLoopSampleIntervalMs } from './metrics/node-metrics.js';
export { DataDirLock } from '../store/data-dir-lock.js';
export { cacheMebibytesMax, defaultCacheMebibytes } from '../store/store.js';
export { lowerHelperThreads, mainThreadRealtimePriority, setRealtimePriority, type PriorityChange } from './thread-priority.js';
