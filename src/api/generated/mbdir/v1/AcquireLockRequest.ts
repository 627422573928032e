// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface AcquireLockRequest {
  'name'?: (string);
  'holder'?: (string);
  'ttl_ms'?: (number | string | Long);
}

export interface AcquireLockRequest__Output {
  'name': (string);
  'holder': (string);
  'ttl_ms': (number);
}
