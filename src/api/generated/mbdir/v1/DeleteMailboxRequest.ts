// Original file: proto/mbdir/v1/mbdir.proto


export interface DeleteMailboxRequest {
  'name'?: (string);
}

export interface DeleteMailboxRequest__Output {
  'name': (string);
}
