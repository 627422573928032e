// Original file: proto/mbdir/v1/mbdir.proto


export interface SetAclRequest {
  'name'?: (string);
  'identifier'?: (string);
  'rights'?: (string);
}

export interface SetAclRequest__Output {
  'name': (string);
  'identifier': (string);
  'rights': (string);
}
