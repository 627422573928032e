// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';
import type { SyncConflict as _mbdir_v1_SyncConflict, SyncConflict__Output as _mbdir_v1_SyncConflict__Output } from '../../mbdir/v1/SyncConflict.js';
import type { Long } from '@grpc/proto-loader';

export interface SyncServerResponse {
  'added'?: (_mbdir_v1_Mailbox)[];
  'removed'?: (_mbdir_v1_Mailbox)[];
  'conflicting'?: (_mbdir_v1_SyncConflict)[];
  'updated'?: (_mbdir_v1_Mailbox)[];
  'unchanged'?: (number);
  'applied'?: (boolean);
  'revision'?: (number | string | Long);
  'added_count'?: (number);
  'removed_count'?: (number);
  'conflicting_count'?: (number);
  'updated_count'?: (number);
  'truncated'?: (boolean);
}

export interface SyncServerResponse__Output {
  'added': (_mbdir_v1_Mailbox__Output)[];
  'removed': (_mbdir_v1_Mailbox__Output)[];
  'conflicting': (_mbdir_v1_SyncConflict__Output)[];
  'updated': (_mbdir_v1_Mailbox__Output)[];
  'unchanged': (number);
  'applied': (boolean);
  'revision': (number);
  'added_count': (number);
  'removed_count': (number);
  'conflicting_count': (number);
  'updated_count': (number);
  'truncated': (boolean);
}
