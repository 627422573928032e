// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';

export interface SyncServerRequest {
  'server'?: (string);
  'dry_run'?: (boolean);
  'mailboxes'?: (_mbdir_v1_Mailbox)[];
}

export interface SyncServerRequest__Output {
  'server': (string);
  'dry_run': (boolean);
  'mailboxes': (_mbdir_v1_Mailbox__Output)[];
}
