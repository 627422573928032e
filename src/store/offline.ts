/**
 * The one door through which tools reach a STOPPED node's data directory:
 * `mbdir import --data-dir`, `export --data-dir`, `backup`/`restore --data-dir`,
 * `rebalance generate-directory`, `bench generate` and the read-thread cost
 * bench. It re-exports exactly what they use (the store, the bulk-load fast
 * path, the directory's lock, the refusal of a directory without a database,
 * backup, the packed-row format, the read-only reader and its pool) and
 * nothing of the running node. Anything
 * a tool needs from src/store goes through here, so a change to the store's
 * inside shows up in one module; test/unit/tool-imports.test.ts enforces it.
 * These tools take the data directory's lock (DataDirLock) before writing.
 */
export { Store, cacheMebibytesMax, defaultCacheMebibytes, serverRecordMemoEntriesMax, type SynchronousMode } from './store.js';
export { EmptyDirectoryLoad, isEmptyForBulkLoad, type InterleavedMailbox } from './bulk-load.js';
export { DataDirLock } from './data-dir-lock.js';
export { existingDatabasePathOf } from './connection.js';
export { backupDataDirectory, installBackup, readBackupFacts, type BackupFacts } from './backup.js';
export { packedFieldSeparator, packMailboxRow } from './packed-rows.js';
export { ReaderStore } from './reader.js';
export { ReadPool } from './read-pool.js';
