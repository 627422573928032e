// Original file: proto/mbdir/v1/mbdir.proto


export interface ReleaseLockRequest {
  'name'?: (string);
  'holder'?: (string);
}

export interface ReleaseLockRequest__Output {
  'name': (string);
  'holder': (string);
}
