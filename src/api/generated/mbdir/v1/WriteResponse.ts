// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface WriteResponse {
  'revision'?: (number | string | Long);
}

export interface WriteResponse__Output {
  'revision': (number);
}
