// Original file: proto/mbdir/v1/mbdir.proto


export interface Business {
  'id'?: (string);
  'home_server'?: (string);
}

export interface Business__Output {
  'id': (string);
  'home_server': (string);
}
