// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface EtcdMaintenance {
  'node'?: (string);
  'at_ms'?: (number | string | Long);
  'compacted_revision'?: (number | string | Long);
  'swept_tombstones'?: (number | string | Long);
  'db_size_bytes_before'?: (number | string | Long);
  'db_size_bytes_after'?: (number | string | Long);
}

export interface EtcdMaintenance__Output {
  'node': (string);
  'at_ms': (number);
  'compacted_revision': (number);
  'swept_tombstones': (number);
  'db_size_bytes_before': (number);
  'db_size_bytes_after': (number);
}
