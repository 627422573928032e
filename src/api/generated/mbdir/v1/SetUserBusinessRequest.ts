// Original file: proto/mbdir/v1/mbdir.proto


export interface SetUserBusinessRequest {
  'user'?: (string);
  'business'?: (string);
}

export interface SetUserBusinessRequest__Output {
  'user': (string);
  'business': (string);
}
