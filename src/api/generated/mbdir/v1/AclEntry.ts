// Original file: proto/mbdir/v1/mbdir.proto


export interface AclEntry {
  'identifier'?: (string);
  'rights'?: (string);
}

export interface AclEntry__Output {
  'identifier': (string);
  'rights': (string);
}
