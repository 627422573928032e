// Original file: proto/mbdir/v1/mbdir.proto

import type { Business as _mbdir_v1_Business, Business__Output as _mbdir_v1_Business__Output } from '../../mbdir/v1/Business.js';
import type { Long } from '@grpc/proto-loader';

export interface BusinessResponse {
  'business'?: (_mbdir_v1_Business | null);
  'revision'?: (number | string | Long);
}

export interface BusinessResponse__Output {
  'business': (_mbdir_v1_Business__Output | null);
  'revision': (number);
}
