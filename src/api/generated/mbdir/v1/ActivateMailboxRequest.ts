// Original file: proto/mbdir/v1/mbdir.proto

import type { AclEntry as _mbdir_v1_AclEntry, AclEntry__Output as _mbdir_v1_AclEntry__Output } from '../../mbdir/v1/AclEntry.js';

export interface ActivateMailboxRequest {
  'name'?: (string);
  'uniqueid'?: (string);
  'acl'?: (_mbdir_v1_AclEntry)[];
}

export interface ActivateMailboxRequest__Output {
  'name': (string);
  'uniqueid': (string);
  'acl': (_mbdir_v1_AclEntry__Output)[];
}
