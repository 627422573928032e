// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface BackupChunk {
  'revision'?: (number | string | Long);
  'total_bytes'?: (number | string | Long);
  'schema_version'?: (number);
  'data'?: (Buffer | Uint8Array | string);
}

export interface BackupChunk__Output {
  'revision': (number);
  'total_bytes': (number);
  'schema_version': (number);
  'data': (Buffer);
}
