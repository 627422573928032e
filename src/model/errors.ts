/**
 * The typed errors of the core. Rules throw these; every adapter maps them to
 * its protocol in one table (gRPC status, MUPDATE `NO`, socketmap, nginx).
 * Anything else thrown is a programmer error and surfaces as an internal error.
 * Messages name the problem and the offending value: they reach operators.
 */

export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidArgument'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'Unavailable'
  | 'ResourceExhausted'
  | 'FailedPrecondition'
  | 'DeadlineExceeded';

export class DirectoryError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = kind;
  }
}

export const notFound = (message: string): DirectoryError => new DirectoryError('NotFound', message);
export const conflict = (message: string): DirectoryError => new DirectoryError('Conflict', message);
export const invalidArgument = (message: string): DirectoryError =>
  new DirectoryError('InvalidArgument', message);
export const permissionDenied = (message: string): DirectoryError =>
  new DirectoryError('PermissionDenied', message);
export const unauthenticated = (message: string): DirectoryError =>
  new DirectoryError('Unauthenticated', message);
export const unavailable = (message: string): DirectoryError =>
  new DirectoryError('Unavailable', message);
export const resourceExhausted = (message: string): DirectoryError =>
  new DirectoryError('ResourceExhausted', message);
export const failedPrecondition = (message: string): DirectoryError =>
  new DirectoryError('FailedPrecondition', message);
export const deadlineExceeded = (message: string): DirectoryError =>
  new DirectoryError('DeadlineExceeded', message);

/** Quotes a user-supplied value for an error message, bounded and printable. */
export function quote(value: string, maxChars = 80): string {
  const printable = value.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const cut = printable.length > maxChars ? `${printable.slice(0, maxChars)}...` : printable;
  return `"${cut}"`;
}
