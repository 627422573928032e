// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleaseLockResponse {
  'released'?: (boolean);
  'revision'?: (number | string | Long);
}

export interface ReleaseLockResponse__Output {
  'released': (boolean);
  'revision': (number);
}
