// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';

export interface SyncConflict {
  'mailbox'?: (_mbdir_v1_Mailbox | null);
  'holder'?: (_mbdir_v1_Mailbox | null);
  'reason'?: (string);
}

export interface SyncConflict__Output {
  'mailbox': (_mbdir_v1_Mailbox__Output | null);
  'holder': (_mbdir_v1_Mailbox__Output | null);
  'reason': (string);
}
