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

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
