// Original file: proto/mbdir/v1/mbdir.proto

export const WatchEventType = {
  WATCH_EVENT_TYPE_UNSPECIFIED: 'WATCH_EVENT_TYPE_UNSPECIFIED',
  SNAPSHOT: 'SNAPSHOT',
  SNAPSHOT_END: 'SNAPSHOT_END',
  PUT: 'PUT',
  DELETE: 'DELETE',
  PROGRESS: 'PROGRESS',
} as const;

export type WatchEventType =
  | 'WATCH_EVENT_TYPE_UNSPECIFIED'
  | 0
  | 'SNAPSHOT'
  | 1
  | 'SNAPSHOT_END'
  | 2
  | 'PUT'
  | 3
  | 'DELETE'
  | 4
  | 'PROGRESS'
  | 5

export type WatchEventType__Output = typeof WatchEventType[keyof typeof WatchEventType]
