// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface ListMailboxesRequest {
  'user'?: (string);
  'groups'?: (string)[];
  'reference'?: (string);
  'pattern'?: (string);
  'page_size'?: (number);
  'page_token'?: (string);
  'min_revision'?: (number | string | Long);
}

export interface ListMailboxesRequest__Output {
  'user': (string);
  'groups': (string)[];
  'reference': (string);
  'pattern': (string);
  'page_size': (number);
  'page_token': (string);
  'min_revision': (number);
}
