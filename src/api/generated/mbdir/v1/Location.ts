// Original file: proto/mbdir/v1/mbdir.proto


export interface Location {
  'server'?: (string);
  'partition'?: (string);
}

export interface Location__Output {
  'server': (string);
  'partition': (string);
}
