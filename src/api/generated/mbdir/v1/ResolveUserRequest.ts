// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface ResolveUserRequest {
  'user'?: (string);
  'min_revision'?: (number | string | Long);
}

export interface ResolveUserRequest__Output {
  'user': (string);
  'min_revision': (number);
}
