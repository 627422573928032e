// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface ListServersRequest {
  'min_revision'?: (number | string | Long);
}

export interface ListServersRequest__Output {
  'min_revision': (number);
}
