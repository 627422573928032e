// Original file: proto/mbdir/v1/mbdir.proto

import type { Location as _mbdir_v1_Location, Location__Output as _mbdir_v1_Location__Output } from '../../mbdir/v1/Location.js';
import type { AclEntry as _mbdir_v1_AclEntry, AclEntry__Output as _mbdir_v1_AclEntry__Output } from '../../mbdir/v1/AclEntry.js';
import type { MailboxState as _mbdir_v1_MailboxState, MailboxState__Output as _mbdir_v1_MailboxState__Output } from '../../mbdir/v1/MailboxState.js';
import type { Long } from '@grpc/proto-loader';

export interface Mailbox {
  'uniqueid'?: (string);
  'name'?: (string);
  'server'?: (string);
  'partition'?: (string);
  'replicas'?: (_mbdir_v1_Location)[];
  'acl'?: (_mbdir_v1_AclEntry)[];
  'mbtype'?: (string);
  'state'?: (_mbdir_v1_MailboxState);
  'uidvalidity'?: (number | string | Long);
  'createdmodseq'?: (number | string | Long);
  'foldermodseq'?: (number | string | Long);
  'revision'?: (number | string | Long);
  'name_history'?: (string)[];
  'uniqueid_generated'?: (boolean);
}

export interface Mailbox__Output {
  'uniqueid': (string);
  'name': (string);
  'server': (string);
  'partition': (string);
  'replicas': (_mbdir_v1_Location__Output)[];
  'acl': (_mbdir_v1_AclEntry__Output)[];
  'mbtype': (string);
  'state': (_mbdir_v1_MailboxState__Output);
  'uidvalidity': (number);
  'createdmodseq': (number);
  'foldermodseq': (number);
  'revision': (number);
  'name_history': (string)[];
  'uniqueid_generated': (boolean);
}
