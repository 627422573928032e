// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface AcquireLockResponse {
  'granted'?: (boolean);
  'holder'?: (string);
  'expires_ms'?: (number | string | Long);
  'revision'?: (number | string | Long);
}

export interface AcquireLockResponse__Output {
  'granted': (boolean);
  'holder': (string);
  'expires_ms': (number);
  'revision': (number);
}
