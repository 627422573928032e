// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface ScanMailboxesRequest {
  'server'?: (string);
  'prefix'?: (string);
  'min_revision'?: (number | string | Long);
  'include_reserved'?: (boolean);
}

export interface ScanMailboxesRequest__Output {
  'server': (string);
  'prefix': (string);
  'min_revision': (number);
  'include_reserved': (boolean);
}
