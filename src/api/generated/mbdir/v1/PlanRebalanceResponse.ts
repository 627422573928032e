// Original file: proto/mbdir/v1/mbdir.proto

import type { PlannedMove as _mbdir_v1_PlannedMove, PlannedMove__Output as _mbdir_v1_PlannedMove__Output } from '../../mbdir/v1/PlannedMove.js';
import type { Long } from '@grpc/proto-loader';

export interface PlanRebalanceResponse {
  'moves'?: (_mbdir_v1_PlannedMove)[];
  'total'?: (number);
  'revision'?: (number | string | Long);
  'stale_moving'?: (string)[];
}

export interface PlanRebalanceResponse__Output {
  'moves': (_mbdir_v1_PlannedMove__Output)[];
  'total': (number);
  'revision': (number);
  'stale_moving': (string)[];
}
