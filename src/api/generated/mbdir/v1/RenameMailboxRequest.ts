// Original file: proto/mbdir/v1/mbdir.proto


export interface RenameMailboxRequest {
  'name'?: (string);
  'new_name'?: (string);
}

export interface RenameMailboxRequest__Output {
  'name': (string);
  'new_name': (string);
}
