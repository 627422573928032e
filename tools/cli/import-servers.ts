/**
 * The servers a Cyrus dump places mailboxes on, read before `mbdir import`
 * writes anything: a dump from Cyrus names servers mbdir may not know yet, and
 * a mailbox on an unregistered server is one no proxy can route to. The import
 * refuses such a dump, naming the servers, unless told `--register-servers`,
 * which registers each by name alone (state UP, no addresses yet). The scan
 * reads the file once more, a chunk at a time, and looks only at each line's
 * `mbtype` and `server` (a full parse of a line only when its layout is not Cyrus's).
 */
import { createReadStream } from 'node:fs';
import { dumpLineBytesMax, parseDumpLine } from '../../src/model/cyrus-dump.js';
import { invalidArgument } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import type { ServerRecord } from '../../src/model/records.js';
import { importChunkBytes } from './import-pipeline.js';
import { linesOf } from './transfer.js';

/** Unknown servers named in one refusal; the count says how many more. */
const unknownServersListedMax = 10;

const mbtypeKey = '"mbtype": "';
const serverKey = '"server": "';
const aclKey = '"acl": ';

/** The value after `key` in a Cyrus dump line (a JSON string without escapes), or null. */
function valueAfter(line: string, key: string, end: number): string | null {
  const start = line.indexOf(key);
  if (start < 0 || start > end) return null;
  const from = start + key.length;
  const close = line.indexOf('"', from);
  return close < 0 ? null : line.slice(from, close);
}

/** The server one dump line places a mailbox on: undefined for a tombstone or a line that is no mailbox. */
export function serverOfDumpLine(line: string, fallbackServer: string): string | undefined {
  // The ACL comes after mbtype and server in Cyrus's layout: an identifier named "server" is not the server.
  const acl = line.indexOf(aclKey);
  const end = acl < 0 ? line.length : acl;
  const mbtype = valueAfter(line, mbtypeKey, end);
  if (mbtype !== null && !line.includes('\\"', 0)) {
    if (mbtype.includes('d')) return undefined;
    const server = valueAfter(line, serverKey, end);
    return server !== null && server !== '' ? server : fallbackServer === '' ? undefined : fallbackServer;
  }
  try {
    const parsed = parseDumpLine(line);
    if (parsed.kind !== 'mailbox') return undefined;
    return parsed.mailbox.server !== '' ? parsed.mailbox.server : fallbackServer === '' ? undefined : fallbackServer;
  } catch {
    return undefined; // the import itself reports the bad line, with its number
  }
}

/** Each server the dump's mailboxes are on, with how many; at most limits.importServersMax servers. */
export async function serversNamedByDump(path: string, fallbackServer: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const input = createReadStream(path, { highWaterMark: importChunkBytes });
  try {
    for await (const lines of linesOfDump(input, path)) {
      for (const line of lines) {
        const server = serverOfDumpLine(line, fallbackServer);
        if (server === undefined) continue;
        const count = counts.get(server);
        if (count === undefined && counts.size >= limits.importServersMax) {
          throw invalidArgument(`${path} names more than ${limits.importServersMax} servers`);
        }
        counts.set(server, (count ?? 0) + 1);
      }
    }
  } finally {
    input.destroy();
  }
  return counts;
}

/** The dump's lines; an over-long line is refused as the import itself words it (`FILE: why`). */
async function* linesOfDump(input: AsyncIterable<Buffer>, path: string): AsyncGenerator<string[]> {
  try {
    yield* linesOf(input, dumpLineBytesMax);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/** Where the import writes: which servers it knows, and how it registers more. */
export interface ServerRegistry {
  registeredServers(): Promise<ReadonlySet<string>>;
  registerServers(servers: readonly ServerRecord[]): Promise<void>;
}

/** A server registered by an import: its name alone, UP; `mbdir server-put` gives it addresses. */
function importedServer(name: string): ServerRecord {
  return { name, imapAddress: '', pop3Address: '', lmtpAddress: '', state: 'UP', weight: 1, datacenter: '' };
}

/**
 * Checks the dump's servers against the directory before anything is written:
 * throws naming the unknown ones unless `register`, then registers them.
 * Returns the names registered.
 */
export async function admitDumpServers(
  path: string,
  named: ReadonlyMap<string, number>,
  registry: ServerRegistry,
  register: boolean,
): Promise<string[]> {
  const known = await registry.registeredServers();
  const unknown = [...named].filter(([server]) => !known.has(server)).sort(([left], [right]) => (left < right ? -1 : 1));
  if (unknown.length === 0) return [];
  if (!register) {
    const listed = unknown.slice(0, unknownServersListedMax).map(([server, count]) => `${server} (${count} mailbox${count === 1 ? '' : 'es'})`);
    const more = unknown.length > listed.length ? ` and ${unknown.length - listed.length} more` : '';
    throw new Error(
      `${path} names ${unknown.length} server${unknown.length === 1 ? '' : 's'} the directory does not know: ` +
        `${listed.join(', ')}${more}; nothing was imported. Register each first with ` +
        'mbdir server-put NAME --imap IP:PORT --lmtp IP:PORT, or give --register-servers to register them by name ' +
        '(then give them addresses with mbdir server-put)',
    );
  }
  await registry.registerServers(unknown.map(([server]) => importedServer(server)));
  return unknown.map(([server]) => server);
}
