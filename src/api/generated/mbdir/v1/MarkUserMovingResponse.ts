// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface MarkUserMovingResponse {
  'revision'?: (number | string | Long);
  'hierarchy_revision'?: (number | string | Long);
  'moving_since_ms'?: (number | string | Long);
  'hierarchy_mailboxes'?: (number);
}

export interface MarkUserMovingResponse__Output {
  'revision': (number);
  'hierarchy_revision': (number);
  'moving_since_ms': (number);
  'hierarchy_mailboxes': (number);
}
