// Original file: proto/mbdir/v1/mbdir.proto

import type { Server as _mbdir_v1_Server, Server__Output as _mbdir_v1_Server__Output } from '../../mbdir/v1/Server.js';
import type { Long } from '@grpc/proto-loader';

export interface ServerLoad {
  'server'?: (_mbdir_v1_Server | null);
  'users'?: (number | string | Long);
  'mailboxes'?: (number | string | Long);
}

export interface ServerLoad__Output {
  'server': (_mbdir_v1_Server__Output | null);
  'users': (number);
  'mailboxes': (number);
}
