// Original file: proto/mbdir/v1/mbdir.proto

import type { LookupResult as _mbdir_v1_LookupResult, LookupResult__Output as _mbdir_v1_LookupResult__Output } from '../../mbdir/v1/LookupResult.js';
import type { Long } from '@grpc/proto-loader';

export interface LookupStreamResponse {
  'results'?: (_mbdir_v1_LookupResult)[];
  'revision'?: (number | string | Long);
}

export interface LookupStreamResponse__Output {
  'results': (_mbdir_v1_LookupResult__Output)[];
  'revision': (number);
}
