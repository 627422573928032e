/**
 * The audit line of every write through gRPC: one info line per write that
 * committed, with the principal, the method, the name it wrote and the
 * revision. This table says which request field names the write's subject;
 * a method not listed is not a write. It logs names and principals only:
 * never metadata (the token) nor any request field besides the subject.
 */
import type { Logger } from '../../logging.js';
import type { Principal } from '../auth/roles.js';
import { roleText } from '../auth/roles.js';

type Request = Record<string, unknown>;

const field = (key: string) => (request: Request): string => {
  const value = request[key];
  return typeof value === 'string' ? value : '';
};

/** Which request field names what a write method changed. */
const writeSubjects: Record<string, (request: Request) => string> = {
  CreateMailbox: (request) => field('name')((request['mailbox'] ?? {}) as Request),
  ActivateMailbox: field('name'),
  RenameMailbox: (request) => `${field('name')(request)} -> ${field('new_name')(request)}`,
  DeleteMailbox: field('name'),
  SetAcl: field('name'),
  PutServer: field('name'),
  PutBusiness: field('id'),
  SetUserBusiness: field('user'),
  MoveUser: field('user'),
  MarkUserMoving: field('user'),
  AcquireLock: field('name'),
  ReleaseLock: field('name'),
};

export type WriteLog = (principal: Principal, request: unknown, response: unknown) => void;

/** The audit logger of `method`, or null when the method is not a write. */
export function writeLogFor(method: string, logger: Logger): WriteLog | null {
  const subject = Object.hasOwn(writeSubjects, method) ? writeSubjects[method] : undefined;
  if (subject === undefined) return null;
  return (principal, request, response) => {
    logWrite(logger, principal, method, subject(request as Request), (response as Request)['revision']);
  };
}

/** One audit line; `revision` as the response carries it (a number or a numeric string). */
export function logWrite(logger: Logger, principal: Principal, method: string, name: string, revision: unknown): void {
  logger.info(
    { principal: principal.name, role: roleText(principal.role), method, name, revision: Number(revision ?? 0) },
    'write',
  );
}
