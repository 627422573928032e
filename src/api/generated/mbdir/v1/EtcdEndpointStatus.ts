// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface EtcdEndpointStatus {
  'endpoint'?: (string);
  'healthy'?: (boolean);
  'error'?: (string);
  'revision'?: (number | string | Long);
  'leader'?: (boolean);
}

export interface EtcdEndpointStatus__Output {
  'endpoint': (string);
  'healthy': (boolean);
  'error': (string);
  'revision': (number);
  'leader': (boolean);
}
