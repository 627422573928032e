// Original file: proto/mbdir/v1/mbdir.proto

export const ServerState = {
  SERVER_STATE_UNSPECIFIED: 'SERVER_STATE_UNSPECIFIED',
  UP: 'UP',
  DRAINING: 'DRAINING',
  DOWN: 'DOWN',
} as const;

export type ServerState =
  | 'SERVER_STATE_UNSPECIFIED'
  | 0
  | 'UP'
  | 1
  | 'DRAINING'
  | 2
  | 'DOWN'
  | 3

export type ServerState__Output = typeof ServerState[keyof typeof ServerState]
