// Original file: proto/mbdir/v1/mbdir.proto


export interface MarkUserMovingRequest {
  'user'?: (string);
  'from_server'?: (string);
  'to_server'?: (string);
  'clear'?: (boolean);
}

export interface MarkUserMovingRequest__Output {
  'user': (string);
  'from_server': (string);
  'to_server': (string);
  'clear': (boolean);
}
