// Original file: proto/mbdir/v1/mbdir.proto

export const MailboxState = {
  MAILBOX_STATE_UNSPECIFIED: 'MAILBOX_STATE_UNSPECIFIED',
  RESERVED: 'RESERVED',
  ACTIVE: 'ACTIVE',
} as const;

export type MailboxState =
  | 'MAILBOX_STATE_UNSPECIFIED'
  | 0
  | 'RESERVED'
  | 1
  | 'ACTIVE'
  | 2

export type MailboxState__Output = typeof MailboxState[keyof typeof MailboxState]
