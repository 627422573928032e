// Original file: proto/mbdir/v1/mbdir.proto

import type { ServerState as _mbdir_v1_ServerState, ServerState__Output as _mbdir_v1_ServerState__Output } from '../../mbdir/v1/ServerState.js';

export interface Server {
  'name'?: (string);
  'imap_address'?: (string);
  'lmtp_address'?: (string);
  'state'?: (_mbdir_v1_ServerState);
  'weight'?: (number);
  'datacenter'?: (string);
  'pop3_address'?: (string);
  'replica_partner'?: (string);
}

export interface Server__Output {
  'name': (string);
  'imap_address': (string);
  'lmtp_address': (string);
  'state': (_mbdir_v1_ServerState__Output);
  'weight': (number);
  'datacenter': (string);
  'pop3_address': (string);
  'replica_partner': (string);
}
