// Original file: proto/mbdir/v1/mbdir.proto


export interface PlannedMove {
  'user'?: (string);
  'from_server'?: (string);
  'to_server'?: (string);
  'reason'?: (string);
  'business'?: (string);
  'mailboxes'?: (number);
  'moving'?: (boolean);
}

export interface PlannedMove__Output {
  'user': (string);
  'from_server': (string);
  'to_server': (string);
  'reason': (string);
  'business': (string);
  'mailboxes': (number);
  'moving': (boolean);
}
