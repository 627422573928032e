// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';

export interface ListedMailbox {
  'mailbox'?: (_mbdir_v1_Mailbox | null);
  'my_rights'?: (string);
  'has_children'?: (boolean);
}

export interface ListedMailbox__Output {
  'mailbox': (_mbdir_v1_Mailbox__Output | null);
  'my_rights': (string);
  'has_children': (boolean);
}
