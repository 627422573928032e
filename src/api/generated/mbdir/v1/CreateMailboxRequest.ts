// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';

export interface CreateMailboxRequest {
  'mailbox'?: (_mbdir_v1_Mailbox | null);
  'reserve_only'?: (boolean);
  'request_id'?: (string);
}

export interface CreateMailboxRequest__Output {
  'mailbox': (_mbdir_v1_Mailbox__Output | null);
  'reserve_only': (boolean);
  'request_id': (string);
}
