// Original file: proto/mbdir/v1/mbdir.proto

export const CreateOutcome = {
  CREATE_OUTCOME_UNSPECIFIED: 'CREATE_OUTCOME_UNSPECIFIED',
  CREATED: 'CREATED',
  ALREADY_PRESENT: 'ALREADY_PRESENT',
  REPLICA_ADDED: 'REPLICA_ADDED',
} as const;

export type CreateOutcome =
  | 'CREATE_OUTCOME_UNSPECIFIED'
  | 0
  | 'CREATED'
  | 1
  | 'ALREADY_PRESENT'
  | 2
  | 'REPLICA_ADDED'
  | 3

export type CreateOutcome__Output = typeof CreateOutcome[keyof typeof CreateOutcome]
