// Original file: proto/mbdir/v1/mbdir.proto

import type { ListedMailbox as _mbdir_v1_ListedMailbox, ListedMailbox__Output as _mbdir_v1_ListedMailbox__Output } from '../../mbdir/v1/ListedMailbox.js';
import type { Long } from '@grpc/proto-loader';

export interface ListMailboxesResponse {
  'mailboxes'?: (_mbdir_v1_ListedMailbox)[];
  'next_page_token'?: (string);
  'revision'?: (number | string | Long);
}

export interface ListMailboxesResponse__Output {
  'mailboxes': (_mbdir_v1_ListedMailbox__Output)[];
  'next_page_token': (string);
  'revision': (number);
}
