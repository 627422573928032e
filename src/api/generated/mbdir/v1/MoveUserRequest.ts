// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface MoveUserRequest {
  'user'?: (string);
  'from_server'?: (string);
  'to_server'?: (string);
  'partition'?: (string);
  'expect_revision'?: (number | string | Long);
  'expect_mailboxes'?: (number);
}

export interface MoveUserRequest__Output {
  'user': (string);
  'from_server': (string);
  'to_server': (string);
  'partition': (string);
  'expect_revision': (number);
  'expect_mailboxes': (number);
}
