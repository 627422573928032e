/**
 * Human-readable rendering of answers for the command line: one line per
 * mailbox (name, location, uniqueid, ACL), aligned enough to read and grep.
 */
import type { Message } from '../../src/client/client.js';

function aclText(acl: unknown): string {
  return (acl as Message[]).map((entry) => `${String(entry['identifier'])}=${String(entry['rights'])}`).join(' ');
}

export function formatMailbox(mailbox: Message, detailed = false): string {
  const replicas = (mailbox['replicas'] as Message[])
    .map((replica) => `${String(replica['server'])}!${String(replica['partition'])}`)
    .join(',');
  const state = mailbox['state'] === 'RESERVED' ? '  RESERVED' : '';
  const line =
    `${String(mailbox['name'])}  ${String(mailbox['server'])}!${String(mailbox['partition'])}` +
    `${replicas === '' ? '' : `  replicas ${replicas}`}  ${String(mailbox['uniqueid'])}${state}  ${aclText(mailbox['acl'])}`;
  if (!detailed) return line;
  return [
    line,
    `  mbtype ${String(mailbox['mbtype'])}  uidvalidity ${String(mailbox['uidvalidity'])}  revision ${String(mailbox['revision'])}`,
    ...((mailbox['name_history'] as string[]).length > 0 ? [`  formerly ${(mailbox['name_history'] as string[]).join(', ')}`] : []),
  ].join('\n');
}

export function formatListed(entry: Message): string {
  const mailbox = entry['mailbox'] as Message;
  const children = entry['has_children'] === true ? '\\HasChildren' : '\\HasNoChildren';
  return `${String(mailbox['name'])}  ${children}  rights ${String(entry['my_rights'])}  on ${String(mailbox['server'])}`;
}

export function formatServer(load: Message): string {
  const server = load['server'] as Message;
  return (
    `${String(server['name'])}\t${String(server['state'])}\tweight ${String(server['weight'])}\t` +
    `imap ${String(server['imap_address']) || '-'}\tlmtp ${String(server['lmtp_address']) || '-'}\t` +
    (String(server['pop3_address'] ?? '') === '' ? '' : `pop3 ${String(server['pop3_address'])}\t`) +
    `${String(load['users'])} users\t${String(load['mailboxes'])} mailboxes`
  );
}

/**
 * `mbdir status`: the node, its engine and applied revision; on engine etcd,
 * etcd's revision, the node's lag behind it, and one line per endpoint with
 * its health (the leader marked, the reason when unhealthy).
 */
export function formatStatus(status: Message): string {
  const lines = [
    `node ${String(status['node_id'])}  engine ${String(status['engine'])}  version ${String(status['version'])}  ` +
      `up ${Math.floor(Number(status['uptime_ms']) / 1000)} s`,
    `applied revision ${String(status['applied_revision'])}  mailboxes ${String(status['mailboxes'])}`,
  ];
  if (status['engine'] !== 'etcd') {
    lines.push('no etcd: SQLite on this node is the truth, so there is no lag');
    return lines.join('\n');
  }
  lines.push(`etcd revision ${String(status['etcd_revision'])}  lag ${String(status['lag_revisions'])} revisions`);
  for (const endpoint of status['etcd_endpoints'] as Message[]) {
    const health = endpoint['healthy'] === true
      ? `healthy${endpoint['leader'] === true ? ' leader' : ''}  revision ${String(endpoint['revision'])}`
      : `UNHEALTHY  ${String(endpoint['error']) || 'no answer'}`;
    lines.push(`etcd ${String(endpoint['endpoint'])}  ${health}`);
  }
  lines.push(maintenanceLine(status['last_maintenance'] as Message | null | undefined));
  return lines.join('\n');
}

/** Who ran etcd maintenance last, when, and what it did. */
function maintenanceLine(run: Message | null | undefined): string {
  if (run === null || run === undefined) return 'etcd maintenance: not run yet';
  const at = new Date(Number(run['at_ms'])).toISOString();
  const compacted = Number(run['compacted_revision']) === 0 ? 'not compacted' : `compacted at revision ${String(run['compacted_revision'])}`;
  return (
    `etcd maintenance last by ${String(run['node'])} at ${at}: ${compacted}, ${String(run['swept_tombstones'])} tombstones swept, ` +
    `db ${String(run['db_size_bytes_before'])} -> ${String(run['db_size_bytes_after'])} bytes`
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
