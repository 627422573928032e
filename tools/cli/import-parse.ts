/**
 * What `mbdir import` does to each dump entry before it is stored (uniqueid
 * generated when missing, server from --server, fields checked and
 * normalised), and, for the fast load of an empty data directory, the same for
 * a whole chunk of lines at once: lines in, packed rows out (src/store/packed-rows.ts),
 * each the record the directory's create rule stores for a free name.
 * The chunk parser runs in a worker thread (import-worker.ts); it stops at the
 * first bad line and says which. Pure apart from the random uniqueids: no I/O.
 */
import { randomBytes } from 'node:crypto';
import { createdMailbox, createInputOf, normalizeCreatedFields } from '../../src/directory/mailbox-rules.js';
import { parseDumpLine } from '../../src/model/cyrus-dump.js';
import { invalidArgument } from '../../src/model/errors.js';
import type { MailboxRecord } from '../../src/model/records.js';
import { generateUniqueid } from '../../src/model/uniqueid.js';
import { packedFieldSeparator, packMailboxRow } from '../../src/store/offline.js';

export interface ImportOptions {
  /** Server of entries that carry none (`--server`). */
  server: string;
}

/** What the import counts beside the mailboxes it hands on. */
export interface ImportedCounts {
  generatedUniqueids: number;
  serversFromFlag: number;
}

/** A dump entry made ready for the directory: uniqueid and server filled, fields normalised. */
export function importedMailbox(mailbox: MailboxRecord, options: ImportOptions, counts: ImportedCounts): MailboxRecord {
  if (mailbox.uniqueid === '') {
    mailbox.uniqueid = generateUniqueid((count) => randomBytes(count));
    counts.generatedUniqueids += 1;
  }
  if (mailbox.server === '') {
    if (options.server === '') throw invalidArgument(`${mailbox.name} has no server in the dump: give --server NAME`);
    mailbox.server = options.server;
    counts.serversFromFlag += 1;
  }
  normalizeCreatedFields(mailbox);
  return mailbox;
}

/** A chunk of dump lines, parsed. */
export interface ParsedChunk extends ImportedCounts {
  /** The packed rows of the mailboxes but reservations, in line order ('' when none). */
  packed: string;
  /** The reservations, each after the packed rows of the lines before it: the create rule decides them one by one. */
  reservations: Array<{ rowsBefore: number; mailbox: MailboxRecord }>;
  /** Lines in the chunk (up to and including a bad one). */
  lines: number;
  mailboxes: number;
  tombstones: number;
  /** The first bad line (1-based within the chunk) and why; the rows before it are in `packed`. */
  failure: { line: number; message: string } | null;
}

/**
 * Parses whole dump lines (`text` ends with a newline, except the dump's last
 * line) into packed rows, with the rules of the line-at-a-time import.
 */
export function parseDumpChunk(text: string, options: ImportOptions): ParsedChunk {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const rows: string[] = [];
  const chunk: ParsedChunk = { packed: '', reservations: [], lines: 0, mailboxes: 0, tombstones: 0, generatedUniqueids: 0, serversFromFlag: 0, failure: null };
  for (const line of lines) {
    chunk.lines += 1;
    try {
      const parsed = parseDumpLine(line);
      if (parsed.kind === 'tombstone') chunk.tombstones += 1;
      if (parsed.kind !== 'mailbox') continue;
      chunk.mailboxes += 1;
      const mailbox = importedMailbox(parsed.mailbox, options, chunk);
      // What the create rule stores for a free name and uniqueid; the loader hands it the others.
      if (mailbox.state === 'RESERVED') chunk.reservations.push({ rowsBefore: rows.length, mailbox });
      else rows.push(packMailboxRow(createdMailbox(createInputOf(mailbox), mailbox.server, 0, 0)));
    } catch (error) {
      chunk.failure = { line: chunk.lines, message: (error as Error).message };
      break;
    }
  }
  chunk.packed = rows.join(packedFieldSeparator);
  return chunk;
}
