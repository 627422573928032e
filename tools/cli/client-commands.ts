/**
 * The client subcommands of `mbdir`: one per RPC, each a thin mapping from
 * arguments to a request and from the answer to text (or JSON with --json).
 * Errors reach the user as one line `mbdir: CODE: message` and exit code 1
 * (2 for usage errors, which commander reports itself).
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { AclEntry, Location, Mailbox, StatusResponse__Output } from '../../src/client/messages.js';
import { limits } from '../../src/model/limits.js';
import { parseDumpLine } from '../../src/model/cyrus-dump.js';
import { mailboxToWire } from '../../src/api/wire.js';
import { clientFromCommand, type GlobalOptions } from './global-options.js';
import { formatListed, formatMailbox, formatServer, formatStatus, printJson } from './format.js';

function clientOf(command: Command): { client: MbdirClient; json: boolean } {
  return { client: clientFromCommand(command), json: command.optsWithGlobals<GlobalOptions>().json === true };
}

/** Runs an action with a client, closing it afterwards. */
function withClient<Args extends unknown[]>(
  action: (context: { client: MbdirClient; json: boolean }, ...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    const command = args[args.length - 1] as Command;
    const context = clientOf(command);
    try {
      await action(context, ...args);
    } finally {
      context.client.close();
    }
  };
}

/** `id=rights,id2=rights` -> ACL entries. */
function parseAclOption(value: string, previous: AclEntry[] = []): AclEntry[] {
  const entries = value.split(',').filter((part) => part !== '').map((part) => {
    const equals = part.lastIndexOf('=');
    if (equals <= 0) throw new Error(`ACL entry ${JSON.stringify(part)} must be IDENTIFIER=RIGHTS`);
    return { identifier: part.slice(0, equals), rights: part.slice(equals + 1) };
  });
  return [...previous, ...entries];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseLocation(value: string, previous: Location[] = []): Location[] {
  const [server = '', partition = ''] = value.split('!');
  return [...previous, { server, partition }];
}

function integerOption(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`${JSON.stringify(value)} is not a non-negative integer`);
  return parsed;
}

function waitSecondsOption(value: string): number {
  const seconds = integerOption(value);
  if (seconds > limits.statusWaitSecondsMax) throw new Error(`--wait ${value} is more than ${limits.statusWaitSecondsMax} seconds`);
  return seconds;
}

/** Why a node that answered Status is not ready for writes yet, or null when it is. */
function notReadyReason(status: StatusResponse__Output): string | null {
  if (status.engine !== 'etcd') return null;
  const endpoints = status.etcd_endpoints;
  if (endpoints.some((endpoint) => endpoint.healthy)) return null;
  const reasons = endpoints.map((endpoint) => `${endpoint.endpoint}: ${endpoint.error}`);
  return `node ${status.node_id} reaches no etcd leader (${reasons.join('; ')})`;
}

/**
 * Status, first asking again (a fresh connection each time, so no reconnect
 * backoff delays it) until the node answers and is ready, for at most
 * `seconds`; 0 asks once. Fails with the last reason the node was not ready.
 */
async function statusWhenReady(command: Command, seconds: number): Promise<StatusResponse__Output> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const client = clientFromCommand(command);
    let reason: string;
    try {
      const status = await client.status();
      const notReady = seconds === 0 ? null : notReadyReason(status);
      if (notReady === null) return status;
      reason = notReady;
    } catch (error) {
      const starting = error instanceof ClientError && (error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.DEADLINE_EXCEEDED);
      if (seconds === 0 || !starting) throw error;
      reason = error.details;
    } finally {
      client.close();
    }
    if (Date.now() + limits.statusWaitRetryMs > until) throw new Error(`not ready after ${seconds} s: ${reason}`);
    await new Promise((resolve) => setTimeout(resolve, limits.statusWaitRetryMs));
  }
}

function print(json: boolean, response: object, human: () => string): void {
  if (json) printJson(response);
  else process.stdout.write(`${human()}\n`);
}

/** Reads a backend list for `sync`: a Cyrus `ctl_mboxlist -d` dump or JSON lines of Mailbox. */
function readSyncFile(path: string): Mailbox[] {
  const text = readFileSync(path, 'utf8');
  const mailboxes: Mailbox[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('{"') && trimmed.endsWith('}') && !trimmed.includes('": {')) {
      mailboxes.push(JSON.parse(trimmed) as Mailbox);
      continue;
    }
    const parsed = parseDumpLine(line);
    if (parsed.kind === 'mailbox') mailboxes.push(mailboxToWire(parsed.mailbox));
  }
  return mailboxes;
}

/** What commander gives `create` (camelCase option names, parsed values). */
interface CreateOptions {
  uniqueid?: string;
  server?: string;
  partition: string;
  acl?: AclEntry[];
  replica?: Location[];
  mbtype: string;
  reserve?: boolean;
  requestId?: string;
}

interface ListOptions {
  reference: string;
  group?: string[];
  pageSize: number;
  pageToken?: string;
  minRevision: number;
}

interface WatchOptions {
  from: number;
  server?: string[];
  prefix?: string[];
  count: number;
}

interface ServerPutOptions {
  imap: string;
  lmtp: string;
  pop3: string;
  state: 'UP' | 'DRAINING' | 'DOWN';
  weight: number;
  datacenter: string;
  replicaPartner: string;
}

export function addClientCommands(program: Command): void {
  program
    .command('create')
    .description('create (or reserve) a mailbox; with no --server the directory places it')
    .argument('<name>', 'internal name, e.g. user.alice.Sent or example.com!user.bob')
    .option('--uniqueid <id>', 'the mailbox uniqueid (generated when absent)')
    .option('--server <server>', 'the server holding it (placed by the directory when absent)')
    .option('--partition <partition>', 'Cyrus partition', 'default')
    .option('--acl <id=rights,...>', 'ACL entries (repeatable)', parseAclOption)
    .option('--replica <server!partition>', 'a replica location (repeatable)', parseLocation)
    .option('--mbtype <letters>', 'Cyrus mailbox type', 'e')
    .option('--reserve', 'only reserve the name (MUPDATE RESERVE); activate later')
    .option('--request-id <id>', 'makes a retried create recognisable')
    .action(
      withClient(async ({ client, json }, name: string, options: CreateOptions) => {
        const response = await client.createMailbox({
          mailbox: {
            name,
            uniqueid: options.uniqueid ?? '',
            server: options.server ?? '',
            partition: options.partition,
            acl: options.acl ?? [],
            replicas: options.replica ?? [],
            mbtype: options.mbtype,
          },
          reserve_only: options.reserve === true,
          request_id: options.requestId ?? '',
        });
        print(json, response, () => `${response.outcome} ${formatMailbox(response.mailbox)}\nrevision ${response.revision}`);
      }),
    );

  program
    .command('activate')
    .description('activate a reserved mailbox')
    .argument('<name>')
    .option('--uniqueid <id>', 'must match the reservation')
    .option('--acl <id=rights,...>', 'replace the ACL', parseAclOption)
    .action(
      withClient(async ({ client, json }, name: string, options: { uniqueid?: string; acl?: AclEntry[] }) => {
        const response = await client.activateMailbox({ name, uniqueid: options.uniqueid ?? '', acl: options.acl ?? [] });
        print(json, response, () => `${formatMailbox(response.mailbox)}\nrevision ${response.revision}`);
      }),
    );

  program
    .command('get')
    .description('show one mailbox by name (or --uniqueid)')
    .argument('[name]')
    .option('--uniqueid <id>', 'look up by uniqueid instead of name')
    .option('--min-revision <n>', 'wait until this node has applied revision n', integerOption, 0)
    .action(
      withClient(async ({ client, json }, name: string | undefined, options: { uniqueid?: string; minRevision: number }) => {
        if (name === undefined && options.uniqueid === undefined) throw new Error('give a name or --uniqueid');
        const key = options.uniqueid === undefined ? { name: name ?? '' } : { uniqueid: options.uniqueid };
        const response = await client.getMailbox({ ...key, min_revision: options.minRevision });
        print(json, response, () => formatMailbox(response.mailbox, true));
      }),
    );

  program
    .command('lookup')
    .description('look up several names at once')
    .argument('<names...>')
    .action(
      withClient(async ({ client, json }, names: string[]) => {
        const response = await client.lookupMailboxes({ names });
        print(json, response, () =>
          response.results
            .map((result) => (result.found ? formatMailbox(result.mailbox) : `${result.name}  (not found)`))
            .join('\n'),
        );
      }),
    );

  program
    .command('rename')
    .description('rename a mailbox and its whole subtree')
    .argument('<name>')
    .argument('<new-name>')
    .action(
      withClient(async ({ client, json }, name: string, newName: string) => {
        const response = await client.renameMailbox({ name, new_name: newName });
        print(json, response, () => `renamed ${response.mailboxes.length} mailbox(es) at revision ${response.revision}`);
      }),
    );

  program
    .command('delete')
    .description('delete one mailbox')
    .argument('<name>')
    .action(
      withClient(async ({ client, json }, name: string) => {
        const response = await client.deleteMailbox({ name });
        print(json, response, () => `deleted ${name} at revision ${response.revision}`);
      }),
    );

  program
    .command('setacl')
    .description('set, add (+rights) or remove (-rights) an ACL entry; empty rights remove it')
    .argument('<name>')
    .argument('<identifier>', 'user, group:NAME, anyone, or -identifier for negative rights')
    .argument('[rights]', 'RFC 4314 letters', '')
    // `-bob` (a negative entry) and `-lr` (remove rights) are arguments here, not options.
    .allowUnknownOption()
    .action(
      withClient(async ({ client, json }, name: string, identifier: string, rights: string) => {
        const response = await client.setAcl({ name, identifier, rights });
        print(json, response, () => formatMailbox(response.mailbox, true));
      }),
    );

  program
    .command('list')
    .description("IMAP LIST for a user: mailboxes they may see (right 'l') matching a pattern")
    .argument('<user>', 'alice or alice@example.com')
    .argument('[pattern]', '* matches anything, % anything but "."', '*')
    .option('--reference <ref>', 'LIST reference, prefixed to the pattern', '')
    .option('--group <group>', 'a group identifier the user belongs to (repeatable)', collect)
    .option('--page-size <n>', 'mailboxes per page', integerOption, 0)
    .option('--page-token <token>', 'continue from a previous page')
    .option('--min-revision <n>', 'wait until this node has applied revision n', integerOption, 0)
    .action(
      withClient(async ({ client, json }, user: string, pattern: string, options: ListOptions) => {
        const response = await client.listMailboxes({
          user,
          pattern,
          reference: options.reference,
          groups: options.group ?? [],
          page_size: options.pageSize,
          page_token: options.pageToken ?? '',
          min_revision: options.minRevision,
        });
        print(json, response, () => {
          const lines = response.mailboxes.map(formatListed);
          if (response.next_page_token !== '') lines.push(`(more: --page-token ${response.next_page_token})`);
          return lines.length === 0 ? '(no mailboxes)' : lines.join('\n');
        });
      }),
    );

  program
    .command('scan')
    .description('stream mailboxes in Cyrus order, all or one server\'s or one subtree\'s')
    .option('--server <server>', 'only mailboxes on this server (primary or replica)', '')
    .option('--prefix <name>', 'only this name and its subtree', '')
    .option('--include-reserved', 'include RESERVED mailboxes')
    .action(
      withClient(async ({ client, json }, options: { server: string; prefix: string; includeReserved?: boolean }) => {
        const request = { server: options.server, prefix: options.prefix, include_reserved: options.includeReserved === true };
        for await (const mailbox of client.scanMailboxes(request)) {
          process.stdout.write(json ? `${JSON.stringify(mailbox)}\n` : `${formatMailbox(mailbox)}\n`);
        }
      }),
    );

  program
    .command('sync')
    .description("reconcile a backend's whole list (ctl_mboxlist -d JSON, or JSON lines of Mailbox)")
    .argument('<server>', 'the backend whose list this is')
    .argument('<file>', 'the list')
    .option('--dry-run', 'report the difference without applying it')
    .action(
      withClient(async ({ client, json }, server: string, file: string, options: { dryRun?: boolean }) => {
        const mailboxes = readSyncFile(file);
        const batches: Mailbox[][] = [];
        for (let start = 0; start < mailboxes.length; start += 1000) batches.push(mailboxes.slice(start, start + 1000));
        const response = await client.syncServer(server, options.dryRun === true, batches);
        print(json, response, () => {
          const lines = [
            `${response.applied ? 'applied' : 'dry run'}: ${response.added_count} added, ` +
              `${response.updated_count} updated, ${response.removed_count} removed, ` +
              `${response.conflicting_count} conflicting, ${response.unchanged} unchanged`,
          ];
          for (const conflict of response.conflicting) lines.push(`conflict: ${conflict.reason}`);
          lines.push(`revision ${response.revision}`);
          return lines.join('\n');
        });
      }),
    );

  program
    .command('watch')
    .description('follow changes (snapshot first when --from is 0); Ctrl-C to stop')
    .option('--from <revision>', 'resume after this revision (0: snapshot first)', integerOption, 0)
    .option('--server <server>', 'only mailboxes on this server (repeatable)', collect)
    .option('--prefix <name>', 'only this name and its subtree (repeatable)', collect)
    .option('--count <n>', 'stop after n events', integerOption, 0)
    .action(
      withClient(async ({ client, json }, options: WatchOptions) => {
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const request = { from_revision: options.from, servers: options.server ?? [], prefixes: options.prefix ?? [] };
        let seen = 0;
        for await (const event of client.watch(request, abort.signal)) {
          const mailbox = event.mailbox;
          process.stdout.write(
            json
              ? `${JSON.stringify(event)}\n`
              : `${event.revision}\t${event.type}${mailbox === null ? '' : `\t${formatMailbox(mailbox)}`}\n`,
          );
          seen += 1;
          if (options.count !== 0 && seen >= options.count) abort.abort();
        }
      }),
    );

  program
    .command('servers')
    .description('list registered servers with their users and mailboxes')
    .action(
      withClient(async ({ client, json }) => {
        const response = await client.listServers({});
        print(json, response, () => {
          const rows = response.servers.map(formatServer);
          return rows.length === 0 ? '(no servers registered)' : rows.join('\n');
        });
      }),
    );

  program
    .command('server-put')
    .description('register or update a server')
    .argument('<name>', 'the Cyrus servername')
    .option('--imap <ip:port>', 'IMAP address (numeric)', '')
    .option('--lmtp <ip:port>', 'LMTP address (numeric)', '')
    .option('--pop3 <ip:port>', 'POP3 address (numeric; nginx auth_http routes POP3 logins here)', '')
    .addOption(new Option('--state <state>', 'placement state').choices(['UP', 'DRAINING', 'DOWN']).default('UP'))
    .option('--weight <n>', 'placement share', integerOption, 1)
    .option('--datacenter <dc>', 'datacentre label', '')
    .option('--replica-partner <server>', 'the server this one is a replica pair with (MUPDATE registers replicas between them)', '')
    .action(
      withClient(async ({ client, json }, name: string, options: ServerPutOptions) => {
        const response = await client.putServer({
          name,
          imap_address: options.imap,
          lmtp_address: options.lmtp,
          pop3_address: options.pop3,
          state: options.state,
          weight: options.weight,
          datacenter: options.datacenter,
          replica_partner: options.replicaPartner,
        });
        print(json, response, () => `server ${name} stored at revision ${response.revision}`);
      }),
    );

  program
    .command('business-put')
    .description("register a business and its home server")
    .argument('<id>')
    .argument('<home-server>')
    .action(
      withClient(async ({ client, json }, id: string, homeServer: string) => {
        const response = await client.putBusiness({ id, home_server: homeServer });
        print(json, response, () => `business ${id} -> ${homeServer} at revision ${response.revision}`);
      }),
    );

  program
    .command('user-business')
    .description('assign a user to a business (empty business clears it)')
    .argument('<user>')
    .argument('[business]', 'business id', '')
    .action(
      withClient(async ({ client, json }, user: string, business: string) => {
        const response = await client.setUserBusiness({ user, business });
        print(json, response, () => `user ${user} -> business ${business || '(none)'} at revision ${response.revision}`);
      }),
    );

  program
    .command('resolve')
    .description('where a user lives (server, IMAP, POP3 and LMTP addresses, moving)')
    .argument('<user>')
    .option('--min-revision <n>', 'wait until this node has applied revision n', integerOption, 0)
    .action(
      withClient(async ({ client, json }, user: string, options: { minRevision: number }) => {
        const response = await client.resolveUser({ user, min_revision: options.minRevision });
        print(json, response, () =>
          [
            `${user} on ${response.server}!${response.partition}`,
            `imap ${response.imap_address || '-'}  lmtp ${response.lmtp_address || '-'}` +
              (response.pop3_address === '' ? '' : `  pop3 ${response.pop3_address}`),
            response.moving ? `MOVING to ${response.moving_to}` : 'not moving',
          ].join('\n'),
        );
      }),
    );

  program
    .command('plan')
    .description('users the rebalance job would move, and why')
    .option('--max-users <n>', 'at most n users', integerOption, 0)
    .action(
      withClient(async ({ client, json }, options: { maxUsers: number }) => {
        const response = await client.planRebalance({ max_users: options.maxUsers });
        print(json, response, () => {
          const moves = response.moves.map((move) => `${move.user}\t${move.from_server} -> ${move.to_server}\t${move.reason}`);
          return [...moves, `${response.total} user(s) to move`].join('\n');
        });
      }),
    );

  program
    .command('move')
    .description("commit a user's move (their whole hierarchy), guarded on the source server")
    .argument('<user>')
    .argument('<from-server>')
    .argument('<to-server>')
    .option('--partition <partition>', 'target partition (kept when absent)', '')
    .action(
      withClient(async ({ client, json }, user: string, from: string, to: string, options: { partition: string }) => {
        const response = await client.moveUser({ user, from_server: from, to_server: to, partition: options.partition });
        print(json, response, () => `moved ${response.mailboxes.length} mailbox(es) of ${user} to ${to} at revision ${response.revision}`);
      }),
    );

  program
    .command('status')
    .description("the node, its engine and applied revision; on engine etcd, each endpoint's health and the node's lag")
    .option('--wait <seconds>', 'first wait (at most this long) until the node answers and, on engine etcd, reaches an etcd leader', waitSecondsOption, 0)
    .action(async (options: { wait: number }, command: Command) => {
      const response = await statusWhenReady(command, options.wait);
      print(command.optsWithGlobals<GlobalOptions>().json === true, response, () => formatStatus(response));
    });
}
