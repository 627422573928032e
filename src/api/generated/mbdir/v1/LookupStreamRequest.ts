// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface LookupStreamRequest {
  'name'?: (string);
  'min_revision'?: (number | string | Long);
  'names'?: (string)[];
}

export interface LookupStreamRequest__Output {
  'name': (string);
  'min_revision': (number);
  'names': (string)[];
}
