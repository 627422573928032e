// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';

export interface LookupResult {
  'name'?: (string);
  'found'?: (boolean);
  'mailbox'?: (_mbdir_v1_Mailbox | null);
}

export interface LookupResult__Output {
  'name': (string);
  'found': (boolean);
  'mailbox': (_mbdir_v1_Mailbox__Output | null);
}
