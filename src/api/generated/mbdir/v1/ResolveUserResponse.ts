// Original file: proto/mbdir/v1/mbdir.proto

import type { Long } from '@grpc/proto-loader';

export interface ResolveUserResponse {
  'user'?: (string);
  'server'?: (string);
  'imap_address'?: (string);
  'lmtp_address'?: (string);
  'moving'?: (boolean);
  'revision'?: (number | string | Long);
  'partition'?: (string);
  'business'?: (string);
  'moving_to'?: (string);
  'moving_since_ms'?: (number | string | Long);
  'pop3_address'?: (string);
}

export interface ResolveUserResponse__Output {
  'user': (string);
  'server': (string);
  'imap_address': (string);
  'lmtp_address': (string);
  'moving': (boolean);
  'revision': (number);
  'partition': (string);
  'business': (string);
  'moving_to': (string);
  'moving_since_ms': (number);
  'pop3_address': (string);
}
