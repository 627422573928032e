// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface GetMailboxRequest {
  'name'?: (string);
  'uniqueid'?: (string);
  'min_revision'?: (number | string | Long);
  'key'?: "name"|"uniqueid";
}

export interface GetMailboxRequest__Output {
  'name'?: (string);
  'uniqueid'?: (string);
  'min_revision': (number);
  'key'?: "name"|"uniqueid";
}
