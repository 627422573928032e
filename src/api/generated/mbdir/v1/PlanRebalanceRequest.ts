// Original file: proto/mbdir/v1/mbdir.proto


export interface PlanRebalanceRequest {
  'max_users'?: (number);
}

export interface PlanRebalanceRequest__Output {
  'max_users': (number);
}
