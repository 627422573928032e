// Original file: proto/mbdir/v1/mbdir.proto

import type { WatchEventType as _mbdir_v1_WatchEventType, WatchEventType__Output as _mbdir_v1_WatchEventType__Output } from '../../mbdir/v1/WatchEventType.js';
import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';
import type { Long } from '@grpc/proto-loader';

export interface WatchEvent {
  'type'?: (_mbdir_v1_WatchEventType);
  'mailbox'?: (_mbdir_v1_Mailbox | null);
  'revision'?: (number | string | Long);
}

export interface WatchEvent__Output {
  'type': (_mbdir_v1_WatchEventType__Output);
  'mailbox': (_mbdir_v1_Mailbox__Output | null);
  'revision': (number);
}
