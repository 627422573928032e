// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';
import type { Long } from '@grpc/proto-loader';

export interface MoveUserResponse {
  'mailboxes'?: (_mbdir_v1_Mailbox)[];
  'revision'?: (number | string | Long);
}

export interface MoveUserResponse__Output {
  'mailboxes': (_mbdir_v1_Mailbox__Output)[];
  'revision': (number);
}
