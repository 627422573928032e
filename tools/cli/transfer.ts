/**
 * `mbdir import FILE` and `mbdir export`: Cyrus `ctl_mboxlist -d` JSON in and
 * out, one line at a time (a file stream's chunks split into lines, at most one
 * chunk and one line held; never the whole dump in memory). Import goes straight
 * into a stopped node's data directory (`--data-dir`) or through a running node
 * (`--endpoint`); export writes in sort-key order, so import then export of a
 * Cyrus dump gives its entries back. Export reads only: a data directory
 * without a database is refused (nothing created), and a failed write of the
 * dump ends the command with one line naming where it was going.
 */
import { createReadStream, createWriteStream, openSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { clientFromCommand, type GlobalOptions } from './global-options.js';
import type { MbdirClient } from '../../src/client/client.js';
import { dumpFooter, dumpHeader, dumpLineBytesMax, formatDumpLine, parseDumpLine } from '../../src/model/cyrus-dump.js';
import { invalidArgument } from '../../src/model/errors.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { mailboxFromWire } from '../../src/api/wire.js';
import { existingDatabasePathOf, Store, type SynchronousMode } from '../../src/store/offline.js';
import { importedMailbox, type ImportOptions } from './import-parse.js';
import { importChunkBytes, loadPackedDump } from './import-pipeline.js';
import { admitDumpServers, serversNamedByDump, type ServerRegistry } from './import-servers.js';
import { ApiSink, apiConcurrencyDefault, DataDirSink, reportSchemaUpgrade, type MailboxSink, type SinkCounts } from './mailbox-sinks.js';

/** Lines between two progress-bar updates. */
const progressEveryLines = 5000;
/** Mailboxes read per page by export from a data directory. */
const exportPageMailboxes = 5000;

export interface ImportSummary extends SinkCounts {
  mailboxes: number;
  tombstones: number;
  generatedUniqueids: number;
  serversFromFlag: number;
  seconds: number;
  mailboxesPerSecond: number;
  target: string;
  /** Servers the dump named that the directory did not know, registered by --register-servers. */
  registeredServers: string[];
}

/**
 * The lines of a byte stream, a chunk's worth at a time (so a synchronous sink
 * takes them without an await per line). A line longer than `lineCharactersMax`
 * is refused as soon as that much of it is held, never buffered further.
 */
export async function* linesOf(input: AsyncIterable<Buffer>, lineCharactersMax: number): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of input) {
    const lines = (carry + decoder.write(chunk)).split('\n');
    carry = lines.pop() ?? '';
    if (carry.length > lineCharactersMax) throw invalidArgument(`dump line longer than ${lineCharactersMax} bytes`);
    yield lines;
  }
  const last = carry + decoder.end();
  if (last !== '') yield [last];
}

function progressBar(totalBytes: number): cliProgress.SingleBar | null {
  if (process.stderr.isTTY !== true) return null;
  const bar = new cliProgress.SingleBar(
    { format: 'import [{bar}] {percentage}% | {mailboxes} mailboxes | {rate}/s | eta {eta}s', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { mailboxes: 0, rate: 0 });
  return bar;
}

/**
 * Streams a dump file into a sink; returns the summary. An empty data
 * directory takes the packed rows of the parsing threads (import-pipeline.ts);
 * any other sink takes the mailboxes line by line.
 */
export async function importDump(
  path: string,
  sink: MailboxSink & ServerRegistry,
  options: ImportOptions & { registerServers: boolean },
  target: string,
): Promise<ImportSummary> {
  // The rate counts the servers' read of the dump too: it is part of what an operator waits for.
  const startedMs = performance.now();
  let registeredServers: string[];
  try {
    // Before the first write: a dump naming a server the directory does not know is refused whole.
    registeredServers = await admitDumpServers(path, await serversNamedByDump(path, options.server), sink, options.registerServers);
  } catch (error) {
    await sink.finish().catch(() => undefined);
    throw error;
  }
  const summary: ImportSummary = {
    ...sink.counts,
    mailboxes: 0,
    tombstones: 0,
    generatedUniqueids: 0,
    serversFromFlag: 0,
    seconds: 0,
    mailboxesPerSecond: 0,
    target,
    registeredServers,
  };
  const bar = progressBar(statSync(path).size);
  const progress = (bytesDone: number, mailboxes: number): void => {
    bar?.update(bytesDone, { mailboxes, rate: Math.round(mailboxes / ((performance.now() - startedMs) / 1000)) });
  };
  try {
    if (sink instanceof DataDirSink && sink.takesPackedRows) await loadPackedDump(path, sink, options, summary, progress);
    else await importLineByLine(path, sink, options, summary, bar === null ? null : progress);
  } catch (error) {
    // What came before the bad line stays loaded, and a data directory is left complete and durable.
    await sink.finish().catch(() => undefined);
    throw error;
  } finally {
    bar?.stop();
  }
  await sink.finish();
  summary.seconds = (performance.now() - startedMs) / 1000;
  summary.mailboxesPerSecond = Math.round(summary.mailboxes / Math.max(summary.seconds, 1e-6));
  return { ...summary, ...sink.counts };
}

/** One mailbox at a time into the sink (a directory holding mailboxes, or a running node). */
async function importLineByLine(
  path: string,
  sink: MailboxSink,
  options: ImportOptions,
  summary: ImportSummary,
  progress: ((bytesDone: number, mailboxes: number) => void) | null,
): Promise<void> {
  const input = createReadStream(path, { highWaterMark: importChunkBytes });
  let lineNumber = 0;
  try {
    for await (const lines of linesOfAt(input, path)) {
      for (const line of lines) {
        lineNumber += 1;
        const parsed = parseDumpLineAt(line, lineNumber, path);
        if (parsed.kind === 'tombstone') summary.tombstones += 1;
        if (parsed.kind !== 'mailbox') continue;
        summary.mailboxes += 1;
        const added = sink.add(importedMailboxAt(parsed.mailbox, options, summary, lineNumber, path));
        if (added !== undefined) await added;
        if (progress !== null && lineNumber % progressEveryLines === 0) progress(input.bytesRead, summary.mailboxes);
      }
    }
  } finally {
    input.destroy();
  }
}

async function* linesOfAt(input: AsyncIterable<Buffer>, path: string): AsyncGenerator<string[]> {
  try {
    yield* linesOf(input, dumpLineBytesMax);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

function parseDumpLineAt(line: string, lineNumber: number, path: string): ReturnType<typeof parseDumpLine> {
  try {
    return parseDumpLine(line);
  } catch (error) {
    throw new Error(`${path}:${lineNumber}: ${(error as Error).message}`);
  }
}

function importedMailboxAt(
  mailbox: MailboxRecord,
  options: ImportOptions,
  summary: ImportSummary,
  lineNumber: number,
  path: string,
): MailboxRecord {
  try {
    return importedMailbox(mailbox, options, summary);
  } catch (error) {
    throw new Error(`${path}:${lineNumber}: ${(error as Error).message}`);
  }
}

/**
 * Writes the directory's ACTIVE mailboxes as a Cyrus dump, in sort-key order;
 * ends `output` unless it is stdout. Rejects with the first error of reading
 * the pages or of writing (after which `output` is destroyed).
 */
export async function exportDump(
  pages: AsyncIterable<MailboxRecord[]> | Iterable<MailboxRecord[]>,
  output: Writable,
  format: Parameters<typeof formatDumpLine>[1],
): Promise<number> {
  const counted = { mailboxes: 0 };
  await pipeline(Readable.from(dumpText(pages, format, counted)), output, { end: output !== process.stdout });
  return counted.mailboxes;
}

/** The dump's text, a page at a time; `counted` holds the mailboxes written so far. */
async function* dumpText(
  pages: AsyncIterable<MailboxRecord[]> | Iterable<MailboxRecord[]>,
  format: Parameters<typeof formatDumpLine>[1],
  counted: { mailboxes: number },
): AsyncGenerator<string> {
  yield `${dumpHeader}\n`;
  for await (const page of pages) {
    let chunk = '';
    for (const mailbox of page) {
      if (mailbox.state !== 'ACTIVE') continue;
      chunk += `${counted.mailboxes === 0 ? '' : ',\n'}${formatDumpLine(mailbox, format)}`;
      counted.mailboxes += 1;
    }
    if (chunk !== '') yield chunk;
  }
  yield `${counted.mailboxes === 0 ? '' : '\n'}${dumpFooter}\n`;
}

/**
 * The file of `export --output`, opened at once so a path that cannot be
 * written is refused before anything is read; its write errors are named
 * by the caller.
 */
function outputFile(path: string): Writable {
  try {
    return createWriteStream(path, { fd: openSync(path, 'w') });
  } catch (error) {
    throw new Error(`cannot write --output ${path}: ${(error as Error).message}`);
  }
}

/** Pages of a data directory in sort-key order (read-only use of the store). */
function* dataDirPages(dataDir: string, server: string): Generator<MailboxRecord[]> {
  const store = new Store({ dataDir, synchronous: 'NORMAL', onSchemaUpgrade: reportSchemaUpgrade(dataDir) });
  try {
    let afterKey: Buffer = Buffer.alloc(0);
    for (;;) {
      const page = store.scanPage(server, afterKey, exportPageMailboxes);
      afterKey = page.lastKey;
      if (page.mailboxes.length > 0) yield page.mailboxes;
      if (page.mailboxes.length < exportPageMailboxes) return;
    }
  } finally {
    store.close();
  }
}

/** Pages of a running node (ScanMailboxes, already in sort-key order). */
async function* endpointPages(client: MbdirClient, server: string): AsyncGenerator<MailboxRecord[]> {
  let page: MailboxRecord[] = [];
  for await (const message of client.scanMailboxes({ server, include_reserved: false })) {
    page.push({ ...mailboxFromWire(message), revision: message.revision });
    if (page.length >= exportPageMailboxes) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

function clientFor(command: Command): MbdirClient {
  return clientFromCommand(command);
}

function printImportSummary(summary: ImportSummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  process.stdout.write(
    `imported ${summary.written} of ${summary.mailboxes} mailboxes into ${summary.target} in ${summary.seconds.toFixed(2)} s ` +
      `(${summary.mailboxesPerSecond}/s): ${summary.unchanged} already present, ${summary.conflicts} conflicts, ` +
      `${summary.tombstones} tombstones skipped, ${summary.generatedUniqueids} uniqueids generated, ` +
      `${summary.serversFromFlag} servers from --server` +
      `${summary.registeredServers.length === 0 ? '' : `, servers registered: ${summary.registeredServers.join(', ')}`}\n`,
  );
  for (const example of summary.conflictExamples) process.stdout.write(`  conflict: ${example}\n`);
}

function synchronousOf(value: string): SynchronousMode {
  const upper = value.toUpperCase();
  if (upper !== 'FULL' && upper !== 'NORMAL' && upper !== 'OFF') throw new Error(`--synchronous ${value}: FULL, NORMAL or OFF`);
  return upper;
}

export function addTransferCommands(program: Command): void {
  program
    .command('import')
    .description('load a Cyrus ctl_mboxlist -d dump (backend or mupdate-master form)')
    .argument('<file>', 'the dump')
    .option('--data-dir <dir>', 'write straight into this stopped node\'s data directory (fast)')
    .option('--server <name>', 'server of entries that carry none (the backend form)', '')
    .option('--register-servers', 'register the servers the dump names that the directory does not know (by name; give them addresses with server-put after)')
    .option('--concurrency <n>', 'CreateMailbox calls in flight through --endpoint', String(apiConcurrencyDefault))
    .addOption(new Option('--synchronous <mode>', 'SQLite synchronous for --data-dir').default('NORMAL'))
    .action(async (file: string, options: Record<string, string | boolean | undefined>, command: Command) => {
      const json = command.optsWithGlobals<GlobalOptions>().json === true;
      const importOptions = { server: String(options['server'] ?? ''), registerServers: options['registerServers'] === true };
      const dataDir = options['dataDir'];
      if (typeof dataDir === 'string') {
        const sink = new DataDirSink(dataDir, synchronousOf(String(options['synchronous'] ?? 'NORMAL')));
        printImportSummary(await importDump(file, sink, importOptions, dataDir), json);
        return;
      }
      const client = clientFor(command);
      try {
        const sink = new ApiSink(client, Number(options['concurrency']));
        printImportSummary(await importDump(file, sink, importOptions, command.optsWithGlobals<GlobalOptions>().endpoint), json);
      } finally {
        client.close();
      }
    });

  program
    .command('export')
    .description('write the directory as a Cyrus ctl_mboxlist -d dump, in sort-key order')
    .option('--data-dir <dir>', 'read this data directory instead of asking --endpoint')
    .option('--server <name>', 'only the mailboxes of this server', '')
    .addOption(new Option('--form <form>', 'backend (uniqueid) or master (server)').choices(['backend', 'master']).default('backend'))
    .option('--output <file>', 'write here instead of stdout')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const master = options['form'] === 'master';
      const format = { withServer: master, withUniqueid: !master, mtime: '0' };
      const server = options['server'] ?? '';
      const dataDir = options['dataDir'];
      // A reader: a directory without a database is refused before any file is made.
      if (dataDir !== undefined) existingDatabasePathOf(dataDir);
      const path = options['output'];
      const output = path === undefined ? process.stdout : outputFile(path);
      const failed: { write: Error | null } = { write: null };
      output.on('error', (error) => (failed.write ??= error));
      const client = dataDir === undefined ? clientFor(command) : null;
      try {
        const pages = client === null ? dataDirPages(dataDir ?? '', server) : endpointPages(client, server);
        const count = await exportDump(pages, output, format);
        process.stderr.write(`exported ${count} mailboxes\n`);
      } catch (error) {
        if (error !== failed.write) throw error;
        throw new Error(`cannot write ${path === undefined ? 'stdout' : `--output ${path}`}: ${(error as Error).message}`);
      } finally {
        client?.close();
      }
    });
}
