// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchRequest {
  'from_revision'?: (number | string | Long);
  'servers'?: (string)[];
  'prefixes'?: (string)[];
}

export interface WatchRequest__Output {
  'from_revision': (number);
  'servers': (string)[];
  'prefixes': (string)[];
}
