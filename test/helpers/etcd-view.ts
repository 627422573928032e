// What cluster tests compare to say "the node's view equals etcd's": one line per
// mailbox record (name, uniqueid, server, revision, ACL), from a node's scan or
// straight from etcd's hierarchy values, each sorted.
import type { MbdirClient } from '../../src/client/client.js';
import type { Message } from './message.js';

/** One record as both sides show it: what a lost or stale change would make differ. */
export function recordSummary(record: Message): string {
  const acl = ((record['acl'] as Message[] | undefined) ?? []).map((entry) => `${String(entry['identifier'])}=${String(entry['rights'])}`);
  return `${String(record['name'])} ${String(record['uniqueid'])} ${String(record['server'])} r${Number(record['revision'])} [${acl.join(',')}]`;
}

/** The node's scan, summarized and sorted; without `minRevision`, what it serves right now. */
export async function scanSummaries(client: MbdirClient, minRevision?: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const record of client.scanMailboxes(minRevision === undefined ? {} : { min_revision: minRevision })) {
    lines.push(recordSummary(record as unknown as Message));
  }
  return lines.sort();
}

/** Every mailbox record in etcd's hierarchy values under `prefix`, read from `clientUrl` (revision 0 reads as the key's mod_revision). */
export async function etcdRecordSummaries(clientUrl: string, prefix: string): Promise<string[]> {
  const key = Buffer.from(`${prefix}/hier/`);
  const end = Buffer.from(key);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  const response = await fetch(`${clientUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: key.toString('base64'), range_end: end.toString('base64') }),
  });
  const body = (await response.json()) as { kvs?: Array<{ value: string; mod_revision: string }> };
  const lines: string[] = [];
  for (const kv of body.kvs ?? []) {
    const value = JSON.parse(Buffer.from(kv.value, 'base64').toString()) as { mailboxes: Message[] };
    for (const record of value.mailboxes) {
      const revision = Number(record['revision']) === 0 ? Number(kv.mod_revision) : Number(record['revision']);
      lines.push(recordSummary({ ...record, revision }));
    }
  }
  return lines.sort();
}
