/**
 * What the command line needs to start and configure a node, in one module:
 * the node (node.ts) and its config types, the gRPC listener's default bounds
 * and server options, the token table and guard (`mbdir serve` loads and
 * reloads it; `mbdir token add` appends to it) and the data directory's lock
 * (serve takes it before anything else). `mbdir serve` (tools/cli/serve.ts,
 * its settings in config.ts, the token command in tools/mbdir.ts) and the
 * bench's echo floor (which must serve gRPC with the node's own options) import
 * src/server only through here; test/unit/tool-imports.test.ts enforces it.
 */
export { MbdirNode, type AdapterBounds, type NodeConfig } from './node.js';
export { defaultGrpcListenerBounds, grpcServerOptions } from './grpc/server.js';
export type { ListenerBounds } from './guarded-listener.js';
export { TokenGuard } from './auth/guard.js';
export { TokenTable, addToken } from './auth/token-file.js';
export { DataDirLock } from '../store/data-dir-lock.js';
export { cacheMebibytesMax, defaultCacheMebibytes } from '../store/store.js';
