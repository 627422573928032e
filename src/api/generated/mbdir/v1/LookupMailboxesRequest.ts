// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface LookupMailboxesRequest {
  'names'?: (string)[];
  'min_revision'?: (number | string | Long);
}

export interface LookupMailboxesRequest__Output {
  'names': (string)[];
  'min_revision': (number);
}
