/**
 * Principals and what each may call. A principal is a named role from the
 * token file: `admin`, `proxy` (reads only), `rebalancer` (plan and move users,
 * and read) or `backend:SERVER` (writes to mailboxes on SERVER, and read). This
 * table is the whole policy: every gRPC method is listed with the access it
 * needs, and an unlisted method is refused.
 */
import { invalidArgument, permissionDenied, quote } from '../../model/errors.js';
import { validateLabel } from '../../model/labels.js';

export type Role = { kind: 'admin' } | { kind: 'proxy' } | { kind: 'rebalancer' } | { kind: 'backend'; server: string };

export interface Principal {
  name: string;
  role: Role;
}

/** The principal every caller is when the node runs without --tokens (loopback only). */
export const loopbackAdmin: Principal = { name: 'loopback', role: { kind: 'admin' } };

export function parseRole(text: string): Role {
  if (text === 'admin' || text === 'proxy' || text === 'rebalancer') return { kind: text };
  if (text.startsWith('backend:')) {
    const server = text.slice('backend:'.length);
    validateLabel(server, 'backend server');
    return { kind: 'backend', server };
  }
  throw invalidArgument(`role ${quote(text)} is not admin, proxy, rebalancer or backend:SERVER`);
}

export function roleText(role: Role): string {
  return role.kind === 'backend' ? `backend:${role.server}` : role.kind;
}

type Access = 'read' | 'mailbox-write' | 'rebalance' | 'admin';

const methodAccess: Record<string, Access> = {
  GetMailbox: 'read',
  LookupMailboxes: 'read',
  LookupStream: 'read',
  ListMailboxes: 'read',
  ScanMailboxes: 'read',
  Watch: 'read',
  ResolveUser: 'read',
  ListServers: 'read',
  Status: 'read',
  CreateMailbox: 'mailbox-write',
  ActivateMailbox: 'mailbox-write',
  RenameMailbox: 'mailbox-write',
  DeleteMailbox: 'mailbox-write',
  SetAcl: 'mailbox-write',
  SyncServer: 'mailbox-write',
  PlanRebalance: 'rebalance',
  MoveUser: 'rebalance',
  MarkUserMoving: 'rebalance',
  AcquireLock: 'rebalance',
  ReleaseLock: 'rebalance',
  PutServer: 'admin',
  PutBusiness: 'admin',
  SetUserBusiness: 'admin',
  Backup: 'admin',
};

const rolesFor: Record<Access, string> = {
  read: 'any role',
  'mailbox-write': 'admin or backend:SERVER (for mailboxes on SERVER)',
  rebalance: 'admin or rebalancer',
  admin: 'admin',
};

function allows(role: Role, access: Access): boolean {
  switch (role.kind) {
    case 'admin':
      return true;
    case 'proxy':
      return access === 'read';
    case 'rebalancer':
      return access === 'read' || access === 'rebalance';
    case 'backend':
      return access === 'read' || access === 'mailbox-write';
  }
}

/** Throws PermissionDenied, naming the role that would be needed, unless `principal` may call `method`. */
export function authorize(principal: Principal, method: string): void {
  // Own keys only: `toString` and the like are not methods of the policy.
  const access = Object.hasOwn(methodAccess, method) ? methodAccess[method] : undefined;
  if (access === undefined) throw permissionDenied(`method ${method} is not open to any role`);
  if (!allows(principal.role, access)) {
    throw permissionDenied(
      `${principal.name} (role ${roleText(principal.role)}) may not call ${method}: it needs ${rolesFor[access]}`,
    );
  }
}
