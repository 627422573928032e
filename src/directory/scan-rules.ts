/**
 * What a scan (ScanMailboxes, SyncServer's comparison, MUPDATE's LIST of a
 * server) selects from each page of the mailbox table, in sort-key order:
 * the records inside the prefix's subtree (the prefix itself and its
 * children), active ones unless reserved ones are asked for, and when the
 * scan has passed the subtree. One rule for the main thread and the read
 * threads (which select and encode a page where they read it). Pure.
 */
import { validateLabel } from '../model/labels.js';
import { childKeyRange, sortKey, validateName } from '../model/names.js';
import type { MailboxRecord } from '../model/records.js';

/** Records a scan reads from the table at a time. */
export const scanPageSize = 250;

/** What to scan: one server's mailboxes or every server's (''), one subtree or all (''). */
export interface ScanFilter {
  server: string;
  prefix: string;
  includeReserved: boolean;
}

/** A validated scan, as plain data a read thread can be sent (keys as hex). */
export interface ScanPlan {
  server: string;
  includeReserved: boolean;
  /** The prefix's sort key, or '' for the whole table. */
  prefixKeyHex: string;
  /** Where the first page starts: just before the prefix's key, or the table's start. */
  startAfterHex: string;
}

/** Validates a scan's filter and says where it starts. */
export function planScan(filter: ScanFilter): ScanPlan {
  if (filter.prefix !== '') validateName(filter.prefix, 'prefix');
  if (filter.server !== '') validateLabel(filter.server, 'server');
  if (filter.prefix === '') return { server: filter.server, includeReserved: filter.includeReserved, prefixKeyHex: '', startAfterHex: '' };
  const prefixKey = sortKey(filter.prefix);
  return {
    server: filter.server,
    includeReserved: filter.includeReserved,
    prefixKeyHex: prefixKey.toString('hex'),
    startAfterHex: prefixKey.subarray(0, prefixKey.length - 1).toString('hex'),
  };
}

/** One page's selection, and whether the scan is over (the page was short, or went past the subtree). */
export function selectScanPage(plan: ScanPlan, page: readonly MailboxRecord[], pageSize: number): { selected: MailboxRecord[]; finished: boolean } {
  const prefixKey = plan.prefixKeyHex === '' ? null : Buffer.from(plan.prefixKeyHex, 'hex');
  const prefixRange = prefixKey === null ? null : childKeyRange(prefixKey);
  const selected: MailboxRecord[] = [];
  let beyondPrefix = false;
  for (const mailbox of page) {
    if (prefixKey !== null && prefixRange !== null) {
      const key = sortKey(mailbox.name);
      const inside = key.equals(prefixKey) || (Buffer.compare(key, prefixRange.low) >= 0 && Buffer.compare(key, prefixRange.high) < 0);
      if (!inside) {
        if (Buffer.compare(key, prefixRange.high) >= 0) beyondPrefix = true;
        continue;
      }
    }
    if (mailbox.state === 'ACTIVE' || plan.includeReserved) selected.push(mailbox);
  }
  return { selected, finished: beyondPrefix || page.length < pageSize };
}
