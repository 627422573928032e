/**
 * gRPC adapter for mbdir.v1.Placement (servers, businesses, users, resolve,
 * rebalance plan, guarded moves) and mbdir.v1.Cluster (status). Parsing and
 * shaping only; placement rules are in src/directory/placement-rules.ts.
 */
import type * as grpc from '@grpc/grpc-js';
import { readAfterRevision, timeLeftMs, unary, type CallContext } from './calls.js';
import { planWithinMessage } from './plan-message.js';
import type { EngineStatus } from '../../replication/engine.js';
import { businessFromWire, businessToWire, mailboxToWire, serverFromWire, serverToWire, wireBool, wireNumber, wireString } from '../../api/wire.js';

type Request = Record<string, unknown>;
type Response = Record<string, unknown>;

export function placementService(context: CallContext): grpc.UntypedServiceImplementation {
  return {
    PutServer: unary<Request, Response>(context, 'PutServer', async (request, _call, directory) => {
      const stored = await directory.putServer(serverFromWire(request));
      return { server: serverToWire(stored.value), revision: stored.revision };
    }),

    ListServers: unary<Request, Response>(context, 'ListServers', async (request, call, directory) => {
      await directory.readAt(wireNumber(request['min_revision'], 'min_revision'), timeLeftMs(call));
      const listed = directory.listServers();
      return {
        servers: listed.value.map((load) => ({
          server: serverToWire(load.server),
          users: load.users,
          mailboxes: load.mailboxes,
        })),
        revision: listed.revision,
      };
    }),

    PutBusiness: unary<Request, Response>(context, 'PutBusiness', async (request, _call, directory) => {
      const stored = await directory.putBusiness(businessFromWire(request));
      return { business: businessToWire(stored.value), revision: stored.revision };
    }),

    SetUserBusiness: unary<Request, Response>(context, 'SetUserBusiness', async (request, _call, directory) => ({
      revision: await directory.setUserBusiness(
        wireString(request['user'], 'user'),
        wireString(request['business'], 'business'),
      ),
    })),

    ResolveUser: unary<Request, Response>(context, 'ResolveUser', (request, call, directory) =>
      readAfterRevision(request, call, directory, () => {
        const resolved = directory.resolveUser(wireString(request['user'], 'user'));
        const { mailbox, server, record } = resolved.value;
        return {
          user: resolved.value.user,
          server: mailbox.server,
          imap_address: server?.imapAddress ?? '',
          lmtp_address: server?.lmtpAddress ?? '',
          pop3_address: server?.pop3Address ?? '',
          moving: (record?.movingSinceMs ?? 0) > 0,
          revision: resolved.revision,
          partition: mailbox.partition,
          business: record?.business ?? '',
          moving_to: record?.movingTo ?? '',
          moving_since_ms: record?.movingSinceMs ?? 0,
        };
      }),
    ),

    PlanRebalance: unary<Request, Response>(context, 'PlanRebalance', async (request, _call, directory) => {
      const plan = await directory.planRebalance(wireNumber(request['max_users'], 'max_users'));
      const moves = plan.value.moves.map((move) => ({
        user: move.user,
        from_server: move.fromServer,
        to_server: move.toServer,
        reason: move.reason,
        business: move.business,
        moving: move.moving,
      }));
      const fitting = planWithinMessage(moves, plan.value.staleMoving);
      if (fitting.moves.length < moves.length || fitting.staleMoving.length < plan.value.staleMoving.length) {
        context.logger.info(
          { planned: moves.length, answered: fitting.moves.length, staleMoving: plan.value.staleMoving.length, staleAnswered: fitting.staleMoving.length },
          'rebalance plan cut to one gRPC message; the next plan takes the rest',
        );
      }
      return { moves: fitting.moves, total: plan.value.total, revision: plan.revision, stale_moving: fitting.staleMoving };
    }),

    MoveUser: unary<Request, Response>(context, 'MoveUser', async (request, _call, directory) => {
      const moved = await directory.moveUser({
        user: wireString(request['user'], 'user'),
        fromServer: wireString(request['from_server'], 'from_server'),
        toServer: wireString(request['to_server'], 'to_server'),
        partition: wireString(request['partition'], 'partition'),
        expectRevision: wireNumber(request['expect_revision'], 'expect_revision'),
        expectMailboxes: wireNumber(request['expect_mailboxes'], 'expect_mailboxes'),
      });
      return { mailboxes: moved.value.map(mailboxToWire), revision: moved.revision };
    }),

    MarkUserMoving: unary<Request, Response>(context, 'MarkUserMoving', async (request, _call, directory) => {
      const marked = await directory.markUserMoving({
        user: wireString(request['user'], 'user'),
        fromServer: wireString(request['from_server'], 'from_server'),
        toServer: wireString(request['to_server'], 'to_server'),
        clear: wireBool(request['clear']),
      });
      return {
        revision: marked.revision,
        hierarchy_revision: marked.value.revision,
        hierarchy_mailboxes: marked.value.count,
        moving_since_ms: marked.value.movingSinceMs,
      };
    }),

    AcquireLock: unary<Request, Response>(context, 'AcquireLock', async (request, _call, directory) => {
      const answer = await directory.acquireLock({
        name: wireString(request['name'], 'name'),
        holder: wireString(request['holder'], 'holder'),
        ttlMs: wireNumber(request['ttl_ms'], 'ttl_ms'),
      });
      return {
        granted: answer.value.granted,
        holder: answer.value.holder,
        expires_ms: answer.value.expiresAtMs,
        revision: answer.revision,
      };
    }),

    ReleaseLock: unary<Request, Response>(context, 'ReleaseLock', async (request, _call, directory) => {
      const released = await directory.releaseLock({
        name: wireString(request['name'], 'name'),
        holder: wireString(request['holder'], 'holder'),
      });
      return { released: released.value, revision: released.revision };
    }),
  };
}

export function clusterService(context: CallContext, version: string): grpc.UntypedServiceImplementation {
  return {
    Status: unary<Request, Response>(context, 'Status', async (_request, _call, directory) => {
      const status = await directory.status();
      return {
        node_id: status.nodeId,
        engine: status.engine,
        applied_revision: status.appliedRevision,
        mailboxes: status.mailboxes,
        oldest_retained_revision: status.oldestRetained,
        etcd_endpoints: status.endpoints,
        etcd_revision: status.clusterRevision,
        lag_revisions: Math.max(0, status.clusterRevision - status.appliedRevision),
        version,
        uptime_ms: status.uptimeMs,
        ...(status.lastMaintenance === undefined ? {} : { last_maintenance: maintenanceMessage(status.lastMaintenance) }),
      };
    }),
  };
}

/** The last etcd maintenance run as the wire's EtcdMaintenance. */
function maintenanceMessage(run: NonNullable<EngineStatus['lastMaintenance']>): Response {
  return {
    node: run.node,
    at_ms: run.atMs,
    compacted_revision: run.compactedRevision,
    swept_tombstones: run.sweptTombstones,
    db_size_bytes_before: run.dbSizeBytesBefore,
    db_size_bytes_after: run.dbSizeBytesAfter,
  };
}
