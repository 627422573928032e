// Original file: proto/mbdir/v1/mbdir.proto

import type { Server as _mbdir_v1_Server, Server__Output as _mbdir_v1_Server__Output } from '../../mbdir/v1/Server.js';
import type { Long } from '@grpc/proto-loader';

export interface ServerResponse {
  'server'?: (_mbdir_v1_Server | null);
  'revision'?: (number | string | Long);
}

export interface ServerResponse__Output {
  'server': (_mbdir_v1_Server__Output | null);
  'revision': (number);
}
