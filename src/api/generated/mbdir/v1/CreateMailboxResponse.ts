// Original file: proto/mbdir/v1/mbdir.proto

import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';
import type { CreateOutcome as _mbdir_v1_CreateOutcome, CreateOutcome__Output as _mbdir_v1_CreateOutcome__Output } from '../../mbdir/v1/CreateOutcome.js';
import type { Long } from '@grpc/proto-loader';

export interface CreateMailboxResponse {
  'mailbox'?: (_mbdir_v1_Mailbox | null);
  'outcome'?: (_mbdir_v1_CreateOutcome);
  'revision'?: (number | string | Long);
}

export interface CreateMailboxResponse__Output {
  'mailbox': (_mbdir_v1_Mailbox__Output | null);
  'outcome': (_mbdir_v1_CreateOutcome__Output);
  'revision': (number);
}
