// Original file: proto/mbdir/v1/mbdir.proto

import type { ServerLoad as _mbdir_v1_ServerLoad, ServerLoad__Output as _mbdir_v1_ServerLoad__Output } from '../../mbdir/v1/ServerLoad.js';
import type { Long } from '@grpc/proto-loader';

export interface ListServersResponse {
  'servers'?: (_mbdir_v1_ServerLoad)[];
  'revision'?: (number | string | Long);
}

export interface ListServersResponse__Output {
  'servers': (_mbdir_v1_ServerLoad__Output)[];
  'revision': (number);
}
