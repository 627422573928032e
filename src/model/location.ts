/**
 * A mailbox location in Cyrus's text form, `server!partition` (MUPDATE,
 * mailboxes.db `server` + `partition`). An empty partition (`be!`, what a
 * Cyrus rename sends) is kept empty here: the rules decide what it means.
 * Pure: parsing and validation only.
 */
import { invalidArgument, quote } from './errors.js';
import { normalizePartition, validateLabel } from './labels.js';

export interface LocationText {
  server: string;
  /** '' when the text gave none (`be!`, or a bare partition from a replicated backend). */
  partition: string;
  /** False for a bare partition (Cyrus `mupdate_config: replicated` sends no `server!`). */
  hasServer: boolean;
}

/** Parses `server!partition`, `server!` or a bare `partition`; throws InvalidArgument naming the text. */
export function parseLocationText(text: string): LocationText {
  const bang = text.indexOf('!');
  if (bang < 0) {
    if (text === '') throw invalidArgument('location is empty; expected server!partition');
    return { server: '', partition: checkedPartition(text, text), hasServer: false };
  }
  const server = text.slice(0, bang);
  const partition = text.slice(bang + 1);
  if (server === '') throw invalidArgument(`location ${quote(text)} has no server before "!"`);
  validateLabel(server, `server of location ${quote(text)}`);
  return { server, partition: partition === '' ? '' : checkedPartition(partition, text), hasServer: true };
}

function checkedPartition(partition: string, text: string): string {
  try {
    return normalizePartition(partition);
  } catch {
    throw invalidArgument(`location ${quote(text)}: partition must be [A-Za-z0-9._-]`);
  }
}
