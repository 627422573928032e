/**
 * MUPDATE commands, each a thin handler: check arity and role, call the same
 * Directory method the gRPC service would (or a location-rules view), write
 * Cyrus's answer. Every role check goes through the one policy table
 * (auth/roles.ts) under the gRPC method of the same access; a backend's writes
 * go through its scoped directory. No mailbox rule is decided here.
 */
import type { Directory } from '../../directory/directory.js';
import { locationMatchingPrefix, locationSeenBy } from '../../directory/location-rules.js';
import { parseAclText } from '../../model/acl.js';
import { invalidArgument } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import { parseLocationText } from '../../model/location.js';
import type { MailboxRecord } from '../../model/records.js';
import { authorize, type Principal } from '../auth/roles.js';
import type { MupdateSession } from './session.js';
import { UpdateFollower } from './update-stream.js';

export interface CommandContext {
  session: MupdateSession;
  directory: Directory;
  principal: Principal;
  tag: string;
}

type Handler = (context: CommandContext, args: string[]) => Promise<void> | undefined;

interface CommandSpec {
  argsMin: number;
  argsMax: number;
  /** The gRPC method whose access this command needs (auth/roles.ts). */
  method: string;
  /** Allowed while the session streams UPDATE (Cyrus: NOOP and LOGOUT only). */
  whileStreaming: boolean;
  run: Handler;
}

/** The server of a backend principal ('' for other roles): what it sees and writes as. */
function callerServer(principal: Principal): string {
  return principal.role.kind === 'backend' ? principal.role.server : '';
}

function writerOf(context: CommandContext) {
  return context.session.options.writer;
}

/** The directory writes go through: a backend's is confined to its own server. */
function writeDirectory(context: CommandContext): Directory {
  const server = callerServer(context.principal);
  return server === '' ? context.directory : context.directory.scopedTo(server);
}

/** A location argument; a bare partition (Cyrus `mupdate_config: replicated`) is taken as the caller's server. */
function locationOf(context: CommandContext, text: string): { server: string; partition: string } {
  const location = parseLocationText(text);
  if (location.hasServer) return location;
  const server = callerServer(context.principal);
  if (server === '') throw invalidArgument(`location "${text.slice(0, 64)}" names no server; expected server!partition`);
  return { server, partition: location.partition };
}

/** One mailbox line as `viewer` sees it. */
function lineFor(context: CommandContext, tag: string, mailbox: MailboxRecord, location: { server: string; partition: string }): string {
  return writerOf(context).mailbox(tag, { ...mailbox, server: location.server, partition: location.partition });
}

const find: Handler = (context, [name = '']) => {
  const mailbox = context.directory.lookupMailboxes([name]).value[0];
  if (mailbox !== undefined) {
    context.session.write(lineFor(context, context.tag, mailbox, locationSeenBy(mailbox, callerServer(context.principal))));
  }
  context.session.write(writerOf(context).ok(context.tag, 'Search completed'));
  return undefined;
};

const list: Handler = async (context, args) => {
  const prefix = args[0] ?? '';
  const bang = prefix.indexOf('!');
  const server = bang > 0 ? prefix.slice(0, bang) : '';
  for await (const page of context.directory.scanMailboxes({ server, prefix: '', includeReserved: true })) {
    for (const mailbox of page) {
      const location = prefix === '' ? locationSeenBy(mailbox, callerServer(context.principal)) : locationMatchingPrefix(mailbox, prefix);
      if (location !== null) context.session.write(lineFor(context, context.tag, mailbox, location));
    }
    await context.session.waitForRoom();
    // A closed session's waits resolve at once: going on would scan the whole table in one turn.
    if (context.session.isClosed) return;
  }
  context.session.write(writerOf(context).ok(context.tag, 'list complete'));
};

const reserve: Handler = async (context, [name = '', location = '']) => {
  await writeDirectory(context).reserveLocation({ name, ...locationOf(context, location) });
  context.session.write(writerOf(context).ok(context.tag, 'done'));
};

const activate: Handler = async (context, [name = '', location = '', acl = '']) => {
  await writeDirectory(context).activateLocation({ name, ...locationOf(context, location), acl: parseAclText(acl) });
  context.session.write(writerOf(context).ok(context.tag, 'done'));
};

const deactivate: Handler = async (context, [name = '', location = '']) => {
  await writeDirectory(context).deactivateLocation({ name, ...locationOf(context, location) });
  context.session.write(writerOf(context).ok(context.tag, 'done'));
};

const remove: Handler = async (context, [name = '']) => {
  await writeDirectory(context).deleteIfPresent(name, callerServer(context.principal));
  context.session.write(writerOf(context).ok(context.tag, 'done'));
};

const noop: Handler = async (context) => {
  const follower = context.session.follower;
  if (follower !== null) {
    await follower.whenLive();
    follower.flush(true);
  }
  context.session.write(writerOf(context).ok(context.tag, 'Noop done'));
};

const update: Handler = (context, servers) => {
  const { session } = context;
  const options = session.options;
  if (servers.some((server) => server === '')) throw invalidArgument('Badly formed arguments: an empty server name');
  const follower = new UpdateFollower(
    context.tag,
    options.writer,
    {
      write: (text) => session.write(text),
      end: (error) => {
        options.refusals.warn('UPDATE follower cut off', { remote: session.socket.remoteAddress, reason: error.message });
        session.fail(context.tag, 'UPDATE', error);
        session.close();
      },
    },
    (name) => context.directory.lookupMailboxes([name]).value[0],
    options.pendingNamesMax,
  );
  // Streaming only once the watch took it (a node at its limit of watchers answers NO and the session goes on).
  session.subscription = context.directory.watch({ servers, prefixes: [], reserved: true }, 0, follower);
  session.follower = follower;
  return undefined;
};

const commands: Record<string, CommandSpec> = {
  FIND: { argsMin: 1, argsMax: 1, method: 'GetMailbox', whileStreaming: false, run: find },
  LIST: { argsMin: 0, argsMax: 1, method: 'ScanMailboxes', whileStreaming: false, run: list },
  RESERVE: { argsMin: 2, argsMax: 2, method: 'CreateMailbox', whileStreaming: false, run: reserve },
  ACTIVATE: { argsMin: 3, argsMax: 3, method: 'ActivateMailbox', whileStreaming: false, run: activate },
  DEACTIVATE: { argsMin: 2, argsMax: 2, method: 'ActivateMailbox', whileStreaming: false, run: deactivate },
  DELETE: { argsMin: 1, argsMax: 1, method: 'DeleteMailbox', whileStreaming: false, run: remove },
  NOOP: { argsMin: 0, argsMax: 0, method: 'Status', whileStreaming: true, run: noop },
  UPDATE: { argsMin: 0, argsMax: limits.mupdateUpdateServersMax, method: 'Watch', whileStreaming: false, run: update },
};

/**
 * Runs one command of a logged-in session; its answer is written when the
 * returned promise settles (undefined: already written). Throws the core's
 * typed errors for the session to answer through the error table.
 */
/** Whether `name` is a command this server knows (metric labels come only from this set). */
export function isKnownCommand(name: string): boolean {
  return Object.hasOwn(commands, name);
}

export function runCommand(context: CommandContext, name: string, args: string[]): Promise<void> | undefined {
  const writer = writerOf(context);
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (spec === undefined) return void context.session.write(writer.bad(context.tag, 'Unrecognized command'));
  if (args.length < spec.argsMin) return void context.session.write(writer.bad(context.tag, 'Missing arguments'));
  if (args.length > spec.argsMax) return void context.session.write(writer.bad(context.tag, 'Extra arguments'));
  if (context.session.follower !== null && !spec.whileStreaming) {
    return void context.session.write(writer.bad(context.tag, 'not legal when streaming'));
  }
  authorize(context.principal, spec.method);
  return spec.run(context, args);
}
