/**
 * Every bound mbdir puts on its inputs and queues, in one place.
 *
 * Names carry their unit and end with the qualifier (`nameBytesMax`). A value
 * here is a contract with operators (docs/operations.md lists them) and with tests
 * (each limit is exercised at the limit and one past it). `checkLimits` runs at
 * load time and asserts how the bounds relate to each other.
 */

export const limits = {
  /** Cyrus's MAX_MAILBOX_NAME is 490 bytes; a name longer is refused. */
  nameBytesMax: 490,
  /** uniqueid: 1..64 of [A-Za-z0-9._-] (Cyrus sends 24-char ids or UUIDs). */
  uniqueidLengthMax: 64,
  /** user ids: `alice` or `alice@example.com`. */
  userIdBytesMax: 255,
  /** ACL identifiers, including a leading `-` for negative rights. */
  identifierBytesMax: 255,
  /** ACL entries on one mailbox. */
  aclEntriesMax: 128,
  /** Rights letters in one entry, before normalisation (with +/- prefix). */
  rightsLengthMax: 32,
  /** Groups a LIST caller may name. */
  listGroupsMax: 64,
  /** LIST reference + pattern, in bytes. */
  patternBytesMax: 512,
  /** Wildcards (`*`, `%`) in one LIST pattern, after collapsing runs. */
  patternWildcardsMax: 32,
  /** ListMailboxes page size: default and maximum. */
  pageSizeDefault: 1000,
  pageSizeMax: 10000,
  /** Page tokens are opaque and short. */
  pageTokenBytesMax: 1024,
  /** Names per LookupMailboxes call and per LookupStream message. */
  lookupNamesMax: 1000,
  /** Mailboxes moved by one rename (a subtree) or one user move. */
  renameSubtreeMailboxesMax: 10000,
  /** Mailboxes in one SyncServer stream (a backend's whole list). */
  syncEntriesMax: 1_000_000,
  /** Mailboxes in one SyncServer message. */
  syncBatchMailboxesMax: 10000,
  /** Changes committed by one SyncServer transaction batch. */
  syncCommitBatchMax: 5000,
  /** Readiness: an etcd node more revisions than this behind etcd reports not ready (/readyz, gRPC health). */
  readyLagRevisionsMax: 1000,
  /** Readiness: how often the node re-evaluates it for the gRPC health service. */
  readinessCheckIntervalMs: 2000,
  /** Watch: concurrent subscribers on one node. */
  watchSubscribersMax: 2000,
  /** Watch: events buffered for one subscriber before it is cut off. */
  watchBufferEventsMax: 10000,
  /**
   * Watch: bytes all subscribers together hold unsent (snapshot and catch-up pages, live
   * queues; src/directory/watch-budget.ts estimates them); past it the slowest let go of
   * their snapshot pages (read again later), then, if that is not enough, are cut off.
   */
  watchHeldBytesMax: 64 * 1024 * 1024,
  /** Watch: prefixes and servers in one filter. */
  watchFilterEntriesMax: 256,
  /** Client: messages of a server stream received and not yet read before the client pauses the call. */
  clientStreamBufferMessagesMax: 256,
  /**
   * HTTP/2 flow-control window of mbdir's client (per stream and per connection): how many
   * response bytes the node may send before the client acknowledges them. gRPC's 64 KiB
   * default stalls a node answering 32 lookups of 100 mailboxes at once.
   */
  clientFlowControlWindowBytes: 8 * 1024 * 1024,
  /** Change log: revisions kept for Watch resumption. */
  changeLogRetentionRevisions: 100_000,
  /** gRPC: one message, in bytes, both ways. */
  grpcMessageBytesMax: 4 * 1024 * 1024,
  /** gRPC: concurrent streams on one HTTP/2 connection. */
  grpcConcurrentStreamsMax: 1000,
  /**
   * gRPC listener: connections open at once; past it a new one is closed at once and logged.
   * Keep it under the process's open-file limit (`ulimit -n`), which also holds SQLite's and etcd's.
   */
  grpcConnectionsMax: 1000,
  /** gRPC listener: a connection that has not sent its first HTTP/2 (or TLS) bytes by then is closed. */
  grpcHandshakeTimeoutMs: 10_000,
  /** gRPC listener: a connection that moves no byte either way this long is closed (a live one is pinged every grpcKeepaliveTimeMs). */
  grpcSocketIdleTimeoutMs: 180_000,
  /** gRPC: a connection with no call in flight this long is told to go away (grpc.max_connection_idle_ms); its client reconnects when it needs to. */
  grpcConnectionIdleMs: 600_000,
  /** gRPC: the node pings each connection this often, and closes it when a ping is not answered within the timeout. */
  grpcKeepaliveTimeMs: 60_000,
  grpcKeepaliveTimeoutMs: 20_000,
  /** Listeners: at most one log line per reason (connection limit, handshake, idle) per this interval. */
  listenerRefusalLogIntervalMs: 10_000,
  /** Lists of a mailbox as read from a gRPC message, before the rules' own bounds (aclEntriesMax, replicasMax, nameHistoryMax) name the problem. */
  wireAclEntriesMax: 10_000,
  wireReplicasMax: 1000,
  wireNameHistoryMax: 64,
  /** A fast codec that falls back to the generic one: at most one warning per method and direction per this interval. */
  codecFallbackLogIntervalMs: 10_000,
  /** A read waiting for min_revision gives up after this long without a deadline. */
  minRevisionWaitMsMax: 10_000,
  /** A reservation (RESERVE without ACTIVATE) is released after this long. */
  reservationTtlMs: 10 * 60 * 1000,
  /** Server names, business ids, datacentre names. */
  labelBytesMax: 255,
  /** Metadata strings: mbtype, partition, request id. */
  mbtypeLengthMax: 8,
  partitionBytesMax: 255,
  requestIdBytesMax: 128,
  /** Replicas of one mailbox besides its primary. */
  replicasMax: 8,
  /** Users planned by one PlanRebalance answer. */
  planUsersMax: 100_000,
  planUsersDefault: 10_000,
  /** Name history entries kept per mailbox. */
  nameHistoryMax: 16,
  /** Leases (AcquireLock): the TTL a holder may ask for, and the holder string's length. */
  lockTtlMsMin: 1000,
  lockTtlMsMax: 60 * 60 * 1000,
  lockHolderBytesMax: 255,
  /** Distinct servers one imported dump may name (each is checked against the directory, or registered). */
  importServersMax: 10_000,
  /** The description of a data directory's holder (`serve.holder`) quoted in a refusal, in characters. */
  dataDirHolderCharsMax: 300,
  /** The rebalance job: moves run at once, per server, and how long one mover may run. */
  rebalanceParallelMax: 64,
  rebalancePerServerMax: 64,
  moverTimeoutMsMax: 24 * 60 * 60 * 1000,
  /** The tail of a mover's output kept to explain a failure. */
  moverOutputBytesMax: 4096,
  /** Postfix socketmap: one request netstring's payload (`name key`), Postfix's own query limit. */
  socketmapQueryBytesMax: 10_000,
  /** Postfix socketmap: one reply netstring's payload, Postfix's own reply limit. */
  socketmapReplyBytesMax: 100_000,
  /** Postfix socketmap: a connection idle this long is closed (Postfix's own socketmap timeout, 100 s; it closes idle ones after 10 s). */
  socketmapIdleMs: 100_000,
  /** Postfix socketmap: open connections at once; one more is refused (closed) and logged. */
  socketmapConnectionsMax: 1000,
  /** Recipient address (`user+ext@domain`) a lookup accepts, bytes. */
  recipientBytesMax: 1000,
  /** Local domains (`--socketmap-local-domains`) at most. */
  localDomainsMax: 1000,
  /** Dovecot dict: one request line, bytes (Dovecot's DICT_CLIENT_MAX_LINE_LENGTH is 64 KiB). */
  dovecotDictLineBytesMax: 64 * 1024,
  /** Dovecot dict: a connection idle this long is closed (Dovecot reconnects on its next lookup). */
  dovecotDictIdleMs: 100_000,
  /** Dovecot dict: open connections at once (one per auth worker process). */
  dovecotDictConnectionsMax: 1000,
  /** Users whose route (socketmap, Dovecot) a node remembers until a change touches them; the oldest goes first. */
  routeCacheEntriesMax: 200_000,
  /** Refusals (over a connection limit, a malformed request): one log line per kind per interval; the rest are counted. */
  refusalLogIntervalMs: 10_000,
  /** etcd engine: a request to etcd at most (etcd's --max-request-bytes default, 1.5 MiB). */
  etcdRequestBytesMax: 1536 * 1024,
  /** etcd engine: operations per txn list at most (etcd's --max-txn-ops default). */
  etcdTxnOpsMax: 128,
  /** etcd engine: deadline of one request to etcd; past it the member is taken as cut off. */
  etcdRequestTimeoutMs: 3_000,
  /** etcd engine: attempts of one commit whose guard failed because another node wrote first. */
  etcdCommitAttemptsMax: 16,
  /** etcd engine: keys read per page when relisting (a fresh node, or after a compaction; each a whole hierarchy). */
  etcdRelistPageKeysMax: 100,
  /**
   * etcd engine: pages of keys one relist request's range may span (etcd 3.4 walks every
   * key of a range to count them, whatever its limit: relist-windows.ts cuts the range).
   */
  etcdRelistWindowPagesMax: 16,
  /** etcd engine: one message from etcd at most (a relist page of large hierarchies, a watch fragment). */
  etcdResponseBytesMax: 64 * 1024 * 1024,
  /** etcd engine: mailboxes in one hierarchy (one etcd value) at most. */
  etcdHierarchyMailboxesMax: 2_000,
  /**
   * etcd engine: mailbox records of recently written hierarchies kept encoded for the next
   * write's hierarchy value (hierarchy-cache.ts), about 0.5 KiB each.
   */
  etcdHierarchyCacheMailboxesMax: 50_000,
  /** etcd engine: writes sent together in one etcd request at most (etcd-write-batcher.ts). */
  etcdWriteBatchTxnsMax: 64,
  /** etcd engine: history kept when compacting (revisions behind the newest). */
  etcdCompactRetentionRevisionsDefault: 100_000,
  /** etcd maintenance: how often each node offers to run it (sweep, compact, defragment) by default. */
  etcdMaintenanceIntervalSecondsDefault: 300,
  /** etcd maintenance: shortest and longest interval a setting may give. */
  etcdMaintenanceIntervalSecondsMin: 1,
  etcdMaintenanceIntervalSecondsMax: 86_400,
  /** etcd maintenance: TTL of a node's lease (its published revision and the maintenance lock) by default. */
  etcdMaintenanceLeaseSecondsDefault: 30,
  /** etcd maintenance: shortest and longest lease a setting may give (etcd's own minimum TTL is 5 s after a leader change). */
  etcdMaintenanceLeaseSecondsMin: 2,
  etcdMaintenanceLeaseSecondsMax: 3_600,
  /** etcd maintenance: tombstone keys one sweep reads and removes at most (the rest wait for the next cycle). */
  etcdSweepKeysMax: 1_000_000,
  /** etcd maintenance: tombstones removed by one etcd transaction (each also one compare; under etcdTxnOpsMax). */
  etcdSweepTxnKeysMax: 120,
  /** etcd maintenance: sweep transactions in flight at once. */
  etcdSweepTxnsConcurrentMax: 4,
  /** etcd maintenance: a member is defragmented only when at least this part of its database file is free. */
  etcdDefragmentFreeRatioMin: 0.25,
  /** etcd maintenance: deadline of one member's defragmentation, or of a compaction waited out physically. */
  etcdDefragmentTimeoutMs: 120_000,
  /** MUPDATE: connections one listener serves at once (Cyrus's mupdate_connections_max is 128). */
  mupdateConnectionsMax: 1024,
  /** MUPDATE: bytes of one command line outside its literals (tag, command, quoted strings, literal headers). */
  mupdateLineBytesMax: 8 * 1024,
  /** MUPDATE: bytes of one literal (a name, a location or an ACL of aclEntriesMax entries). */
  mupdateLiteralBytesMax: 64 * 1024,
  /** MUPDATE: arguments of one command (UPDATE names at most 30 servers, as Cyrus counts). */
  mupdateArgumentsMax: 32,
  /** MUPDATE: servers named by one partial UPDATE (Cyrus stops at 30). */
  mupdateUpdateServersMax: 30,
  /** MUPDATE: a connection with no input for this long is closed (Cyrus: 180 minutes). */
  mupdateIdleMs: 180 * 60 * 1000,
  /** MUPDATE: commands read ahead of the one being answered before the session stops reading. */
  mupdatePipelinedCommandsMax: 256,
  /** MUPDATE: bytes queued on a socket before the session stops writing and waits for the client. */
  mupdateSocketBufferBytesMax: 1024 * 1024,
  /** MUPDATE: names waiting to be pushed to one UPDATE follower; past it the follower is cut off. */
  mupdatePendingNamesMax: 100_000,
  /** MUPDATE: a closed connection whose peer does not read what is left is destroyed after this long. */
  mupdateCloseGraceMs: 5_000,
  /** MUPDATE: a refusal (connection limit, bad token) is logged at most once per this period per listener. */
  mupdateRefusalLogIntervalMs: 10_000,
  /** etcd engine: pause before re-opening a broken watch on the next endpoint. */
  etcdWatchRetryMs: 250,
  /** A watch that keeps breaking (etcd unreachable) logs at most one line per this interval, with the breaks left out counted. */
  etcdWatchBrokenLogIntervalMs: 10_000,
  /**
   * etcd engine: watch events held for the next apply at most. Responses that arrive in one turn
   * of the event loop are applied in one SQLite transaction; at this many, they are applied at once.
   */
  etcdApplyBatchEventsMax: 10_000,
  /** `mbdir status --wait`: how long a caller may wait for a node to be ready, at most. */
  statusWaitSecondsMax: 3_600,
  /** `mbdir status --wait`: pause between two asks while the node is not ready. */
  statusWaitRetryMs: 250,
  /**
   * `mbdir --timeout SECONDS`, the deadline of each call, at most: the longest a Node timer
   * waits (2^31-1 ms, about 24.8 days); a later deadline would not be kept by the client.
   */
  clientTimeoutSecondsMax: 2_147_483,
  /**
   * HTTP adapter: request line and headers together, in bytes (node:http's maxHeaderSize). It holds
   * nginx's auth_http request for a password that fills nginx's default client buffer (4 KiB),
   * escaped in full (three bytes each); past it nginx would get a 431 and show its client an error.
   */
  httpHeaderBytesMax: 16 * 1024,
  /** HTTP adapter: the request target (path and query), in bytes. */
  httpUrlBytesMax: 2048,
  /** HTTP adapter: open connections at once; more are closed at accept. */
  httpConnectionsMax: 1024,
  /** HTTP adapter: a request's headers must arrive within this long... */
  httpHeadersTimeoutMs: 5_000,
  /** ...and the whole request within this long. */
  httpRequestTimeoutMs: 10_000,
  /** HTTP adapter: an idle kept-alive connection is closed after this long (nginx's auth_http opens one per login). */
  httpKeepAliveTimeoutMs: 5_000,
  /** HTTP adapter: one refusal of each kind logged per this interval; the rest are counted into the next line. */
  httpRefusalLogIntervalMs: 10_000,
  /** nginx auth_http: nginx reads the answer's status line and headers into a fixed buffer of this size. */
  authHttpResponseBytesMax: 1024,
  /** nginx auth_http: Auth-Wait seconds before a refused client may try again. */
  authHttpRefusalWaitSeconds: 3,
  /** nginx auth_http: Auth-Wait seconds while a user is moving or their server is down. */
  authHttpRetryWaitSeconds: 5,
  /** nginx auth_http: from this Auth-Login-Attempt on, answers carry no Auth-Wait and nginx closes the session (its docs advise 10-20). */
  authHttpLoginAttemptsMax: 10,
  /**
   * Graceful stop (SIGTERM): how long calls in flight may run after the node stops
   * accepting new ones; past it they are cut. Keep systemd's TimeoutStopSec above it.
   */
  shutdownGraceMs: 10_000,
  /**
   * Graceful stop: once no call is in flight, how long the last statuses get to leave
   * before connections that are still open (health watches) are cut.
   */
  shutdownFlushMs: 250,
  /** Backup: bytes of the database file in one streamed Backup message (the client holds up to clientStreamBufferMessagesMax of them). */
  backupChunkBytes: 128 * 1024,
  /** Backup: database pages copied per step of SQLite's online backup (4 MiB at 4 KiB pages). */
  backupStepPages: 1024,
  /** Backup: backups one node takes at once (each copies the whole database). */
  backupsConcurrentMax: 1,
  /** Read threads (`--read-threads`) a node may run, each with its own SQLite connection. */
  readThreadsMax: 64,
  /** Read threads' nice value (`--read-thread-nice`) at most: Linux's lowest priority. */
  readThreadNiceMax: 19,
  /** Heavy reads (LIST, scan pages, plans) waiting for or running on the read threads; one more is refused. */
  readPoolPendingMax: 4096,
  /** Times a read thread re-reads when its snapshot is older than the revision the read needs, 1 ms apart. */
  readSnapshotRetriesMax: 100,
  /** The LIST latency diagnostic (MBDIR_LIST_LEGS): calls and collections it keeps a thread. */
  listLegsRecordsMax: 1_000_000,
} as const;

/** Asserts the relations between limits; throws at load time if they are off. */
export function checkLimits(): void {
  const assert = (condition: boolean, what: string): void => {
    if (!condition) throw new Error(`limits: ${what}`);
  };
  assert(limits.pageSizeDefault <= limits.pageSizeMax, 'pageSizeDefault <= pageSizeMax');
  assert(limits.syncBatchMailboxesMax <= limits.syncEntriesMax, 'sync batch <= sync entries');
  assert(limits.planUsersDefault <= limits.planUsersMax, 'planUsersDefault <= planUsersMax');
  assert(limits.lockTtlMsMin <= limits.lockTtlMsMax, 'lockTtlMsMin <= lockTtlMsMax');
  // One commit's events must fit a watcher's buffer, or a large rename or sync batch would
  // cut off even watchers that keep up.
  assert(limits.renameSubtreeMailboxesMax <= limits.watchBufferEventsMax, 'a subtree rename fits a watch buffer');
  assert(limits.syncCommitBatchMax <= limits.watchBufferEventsMax, 'a sync commit fits a watch buffer');
  // node:http refuses a headersTimeout above requestTimeout; the URL is part of the header block.
  assert(limits.httpHeadersTimeoutMs <= limits.httpRequestTimeoutMs, 'httpHeadersTimeoutMs <= httpRequestTimeoutMs');
  assert(limits.httpUrlBytesMax < limits.httpHeaderBytesMax, 'httpUrlBytesMax < httpHeaderBytesMax');
  // A user id, URL-escaped three bytes a byte, fits the request target of /v1/resolve.
  assert(3 * limits.userIdBytesMax + 64 <= limits.httpUrlBytesMax, 'an escaped user id fits httpUrlBytesMax');
  // A sweep txn holds one compare and one delete a tombstone, plus the swept marker's put.
  assert(limits.etcdSweepTxnKeysMax + 1 <= limits.etcdTxnOpsMax, 'a sweep txn fits etcd --max-txn-ops');
  assert(limits.mupdateUpdateServersMax < limits.mupdateArgumentsMax, 'a partial UPDATE fits the argument limit');
  // A whole ACL must fit one literal: each entry is an identifier, a tab, the rights and a tab.
  assert(
    limits.aclEntriesMax * (limits.identifierBytesMax + limits.rightsLengthMax + 2) <= limits.mupdateLiteralBytesMax,
    'an ACL fits an MUPDATE literal',
  );
  // One subscriber at its event limit (32 bytes a queued reference) must fit the shared budget many times over.
  assert(limits.watchBufferEventsMax * 32 * 64 <= limits.watchHeldBytesMax, 'the watch budget holds 64 full subscriber buffers');
  // A live connection is pinged (and must answer) before the socket idle timeout can close it.
  assert(limits.grpcKeepaliveTimeMs + limits.grpcKeepaliveTimeoutMs < limits.grpcSocketIdleTimeoutMs, 'keepalive fits the socket idle timeout');
  assert(limits.grpcHandshakeTimeoutMs < limits.grpcSocketIdleTimeoutMs, 'handshake timeout < socket idle timeout');
  // A full page of maximal records must fit in one gRPC message.
  assert(limits.pageSizeMax * 400 <= limits.grpcMessageBytesMax, 'page fits a gRPC message');
  // A recipient, with the map name and a space, must fit one socketmap query.
  assert(limits.recipientBytesMax + 64 <= limits.socketmapQueryBytesMax, 'a recipient fits a socketmap query');
  assert(limits.userIdBytesMax <= limits.recipientBytesMax, 'a user id fits a recipient');
  // A backup chunk and its header must fit one gRPC message.
  assert(limits.backupChunkBytes + 1024 <= limits.grpcMessageBytesMax, 'a backup chunk fits a gRPC message');
}

checkLimits();
