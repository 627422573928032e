/**
 * Human-readable rendering of answers for the command line: one line per
 * mailbox (name, location, uniqueid, ACL), aligned enough to read and grep.
 * It reads the generated answer types; it never reaches the server's records.
 */
import type {
  AclEntry__Output,
  EtcdMaintenance__Output,
  ListedMailbox__Output,
  Mailbox__Output,
  ServerLoad__Output,
  StatusResponse__Output,
} from '../../src/client/messages.js';

function aclText(acl: readonly AclEntry__Output[]): string {
  return acl.map((entry) => `${entry.identifier}=${entry.rights}`).join(' ');
}

export function formatMailbox(mailbox: Mailbox__Output | null, detailed = false): string {
  if (mailbox === null) return '(no mailbox)';
  const replicas = mailbox.replicas.map((replica) => `${replica.server}!${replica.partition}`).join(',');
  const state = mailbox.state === 'RESERVED' ? '  RESERVED' : '';
  const line =
    `${mailbox.name}  ${mailbox.server}!${mailbox.partition}` +
    `${replicas === '' ? '' : `  replicas ${replicas}`}  ${mailbox.uniqueid}${state}  ${aclText(mailbox.acl)}`;
  if (!detailed) return line;
  return [
    line,
    `  mbtype ${mailbox.mbtype}  uidvalidity ${mailbox.uidvalidity}  revision ${mailbox.revision}`,
    ...(mailbox.name_history.length > 0 ? [`  formerly ${mailbox.name_history.join(', ')}`] : []),
  ].join('\n');
}

export function formatListed(entry: ListedMailbox__Output): string {
  const mailbox = entry.mailbox;
  const children = entry.has_children ? '\\HasChildren' : '\\HasNoChildren';
  return `${mailbox?.name ?? ''}  ${children}  rights ${entry.my_rights}  on ${mailbox?.server ?? ''}`;
}

export function formatServer(load: ServerLoad__Output): string {
  const server = load.server;
  if (server === null) return `(no server)\t${load.users} users\t${load.mailboxes} mailboxes`;
  return (
    `${server.name}\t${server.state}\tweight ${server.weight}\t` +
    `imap ${server.imap_address || '-'}\tlmtp ${server.lmtp_address || '-'}\t` +
    (server.pop3_address === '' ? '' : `pop3 ${server.pop3_address}\t`) +
    `${load.users} users\t${load.mailboxes} mailboxes`
  );
}

/**
 * `mbdir status`: the node, its engine and applied revision; on engine etcd,
 * etcd's revision, the node's lag behind it, and one line per endpoint with
 * its health (the leader marked, the reason when unhealthy).
 */
export function formatStatus(status: StatusResponse__Output): string {
  const lines = [
    `node ${status.node_id}  engine ${status.engine}  version ${status.version}  ` + `up ${Math.floor(status.uptime_ms / 1000)} s`,
    `applied revision ${status.applied_revision}  mailboxes ${status.mailboxes}`,
  ];
  if (status.engine !== 'etcd') {
    lines.push('no etcd: SQLite on this node is the truth, so there is no lag');
    return lines.join('\n');
  }
  lines.push(`etcd revision ${status.etcd_revision}  lag ${status.lag_revisions} revisions`);
  for (const endpoint of status.etcd_endpoints) {
    const health = endpoint.healthy
      ? `healthy${endpoint.leader ? ' leader' : ''}  revision ${endpoint.revision}`
      : `UNHEALTHY  ${endpoint.error || 'no answer'}`;
    lines.push(`etcd ${endpoint.endpoint}  ${health}`);
  }
  lines.push(maintenanceLine(status.last_maintenance));
  return lines.join('\n');
}

/** Who ran etcd maintenance last, when, and what it did. */
function maintenanceLine(run: EtcdMaintenance__Output | null): string {
  if (run === null) return 'etcd maintenance: not run yet';
  const at = new Date(run.at_ms).toISOString();
  const compacted = run.compacted_revision === 0 ? 'not compacted' : `compacted at revision ${run.compacted_revision}`;
  return (
    `etcd maintenance last by ${run.node} at ${at}: ${compacted}, ${run.swept_tombstones} tombstones swept, ` +
    `db ${run.db_size_bytes_before} -> ${run.db_size_bytes_after} bytes`
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
