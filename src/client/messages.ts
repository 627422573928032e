/**
 * The message types of the mbdir.v1 contract as a client sees them, re-exported
 * from the types proto-loader generates (src/api/generated, `npm run
 * proto:types`): a request is the generated input type (every field optional,
 * defaults filled in on the wire), an answer is its `__Output` type (every field
 * present, 64-bit integers as numbers, enums as names). Tools and tests import
 * them from here, never from the server's hand-written shapes.
 */
export type { AclEntry, AclEntry__Output } from '../api/generated/mbdir/v1/AclEntry.js';
export type { AcquireLockRequest, AcquireLockRequest__Output } from '../api/generated/mbdir/v1/AcquireLockRequest.js';
export type { AcquireLockResponse, AcquireLockResponse__Output } from '../api/generated/mbdir/v1/AcquireLockResponse.js';
export type { ActivateMailboxRequest, ActivateMailboxRequest__Output } from '../api/generated/mbdir/v1/ActivateMailboxRequest.js';
export type { BackupChunk, BackupChunk__Output } from '../api/generated/mbdir/v1/BackupChunk.js';
export type { BackupRequest, BackupRequest__Output } from '../api/generated/mbdir/v1/BackupRequest.js';
export type { Business, Business__Output } from '../api/generated/mbdir/v1/Business.js';
export type { BusinessResponse, BusinessResponse__Output } from '../api/generated/mbdir/v1/BusinessResponse.js';
export type { CreateMailboxRequest, CreateMailboxRequest__Output } from '../api/generated/mbdir/v1/CreateMailboxRequest.js';
export type { CreateMailboxResponse, CreateMailboxResponse__Output } from '../api/generated/mbdir/v1/CreateMailboxResponse.js';
export type { CreateOutcome, CreateOutcome__Output } from '../api/generated/mbdir/v1/CreateOutcome.js';
export type { DeleteMailboxRequest, DeleteMailboxRequest__Output } from '../api/generated/mbdir/v1/DeleteMailboxRequest.js';
export type { DeleteMailboxResponse, DeleteMailboxResponse__Output } from '../api/generated/mbdir/v1/DeleteMailboxResponse.js';
export type { EtcdEndpointStatus, EtcdEndpointStatus__Output } from '../api/generated/mbdir/v1/EtcdEndpointStatus.js';
export type { EtcdMaintenance, EtcdMaintenance__Output } from '../api/generated/mbdir/v1/EtcdMaintenance.js';
export type { GetMailboxRequest, GetMailboxRequest__Output } from '../api/generated/mbdir/v1/GetMailboxRequest.js';
export type { ListMailboxesRequest, ListMailboxesRequest__Output } from '../api/generated/mbdir/v1/ListMailboxesRequest.js';
export type { ListMailboxesResponse, ListMailboxesResponse__Output } from '../api/generated/mbdir/v1/ListMailboxesResponse.js';
export type { ListServersRequest, ListServersRequest__Output } from '../api/generated/mbdir/v1/ListServersRequest.js';
export type { ListServersResponse, ListServersResponse__Output } from '../api/generated/mbdir/v1/ListServersResponse.js';
export type { ListedMailbox, ListedMailbox__Output } from '../api/generated/mbdir/v1/ListedMailbox.js';
export type { Location, Location__Output } from '../api/generated/mbdir/v1/Location.js';
export type { LookupMailboxesRequest, LookupMailboxesRequest__Output } from '../api/generated/mbdir/v1/LookupMailboxesRequest.js';
export type { LookupMailboxesResponse, LookupMailboxesResponse__Output } from '../api/generated/mbdir/v1/LookupMailboxesResponse.js';
export type { LookupResult, LookupResult__Output } from '../api/generated/mbdir/v1/LookupResult.js';
export type { LookupStreamRequest, LookupStreamRequest__Output } from '../api/generated/mbdir/v1/LookupStreamRequest.js';
export type { LookupStreamResponse, LookupStreamResponse__Output } from '../api/generated/mbdir/v1/LookupStreamResponse.js';
export type { Mailbox, Mailbox__Output } from '../api/generated/mbdir/v1/Mailbox.js';
export type { MailboxResponse, MailboxResponse__Output } from '../api/generated/mbdir/v1/MailboxResponse.js';
export type { MailboxState, MailboxState__Output } from '../api/generated/mbdir/v1/MailboxState.js';
export type { MarkUserMovingRequest, MarkUserMovingRequest__Output } from '../api/generated/mbdir/v1/MarkUserMovingRequest.js';
export type { MarkUserMovingResponse, MarkUserMovingResponse__Output } from '../api/generated/mbdir/v1/MarkUserMovingResponse.js';
export type { MoveUserRequest, MoveUserRequest__Output } from '../api/generated/mbdir/v1/MoveUserRequest.js';
export type { MoveUserResponse, MoveUserResponse__Output } from '../api/generated/mbdir/v1/MoveUserResponse.js';
export type { PlanRebalanceRequest, PlanRebalanceRequest__Output } from '../api/generated/mbdir/v1/PlanRebalanceRequest.js';
export type { PlanRebalanceResponse, PlanRebalanceResponse__Output } from '../api/generated/mbdir/v1/PlanRebalanceResponse.js';
export type { PlannedMove, PlannedMove__Output } from '../api/generated/mbdir/v1/PlannedMove.js';
export type { ReleaseLockRequest, ReleaseLockRequest__Output } from '../api/generated/mbdir/v1/ReleaseLockRequest.js';
export type { ReleaseLockResponse, ReleaseLockResponse__Output } from '../api/generated/mbdir/v1/ReleaseLockResponse.js';
export type { RenameMailboxRequest, RenameMailboxRequest__Output } from '../api/generated/mbdir/v1/RenameMailboxRequest.js';
export type { RenameMailboxResponse, RenameMailboxResponse__Output } from '../api/generated/mbdir/v1/RenameMailboxResponse.js';
export type { ResolveUserRequest, ResolveUserRequest__Output } from '../api/generated/mbdir/v1/ResolveUserRequest.js';
export type { ResolveUserResponse, ResolveUserResponse__Output } from '../api/generated/mbdir/v1/ResolveUserResponse.js';
export type { ScanMailboxesRequest, ScanMailboxesRequest__Output } from '../api/generated/mbdir/v1/ScanMailboxesRequest.js';
export type { Server, Server__Output } from '../api/generated/mbdir/v1/Server.js';
export type { ServerLoad, ServerLoad__Output } from '../api/generated/mbdir/v1/ServerLoad.js';
export type { ServerResponse, ServerResponse__Output } from '../api/generated/mbdir/v1/ServerResponse.js';
export type { ServerState, ServerState__Output } from '../api/generated/mbdir/v1/ServerState.js';
export type { SetAclRequest, SetAclRequest__Output } from '../api/generated/mbdir/v1/SetAclRequest.js';
export type { SetUserBusinessRequest, SetUserBusinessRequest__Output } from '../api/generated/mbdir/v1/SetUserBusinessRequest.js';
export type { StatusRequest, StatusRequest__Output } from '../api/generated/mbdir/v1/StatusRequest.js';
export type { StatusResponse, StatusResponse__Output } from '../api/generated/mbdir/v1/StatusResponse.js';
export type { SyncConflict, SyncConflict__Output } from '../api/generated/mbdir/v1/SyncConflict.js';
export type { SyncServerRequest, SyncServerRequest__Output } from '../api/generated/mbdir/v1/SyncServerRequest.js';
export type { SyncServerResponse, SyncServerResponse__Output } from '../api/generated/mbdir/v1/SyncServerResponse.js';
export type { WatchEvent, WatchEvent__Output } from '../api/generated/mbdir/v1/WatchEvent.js';
export type { WatchEventType, WatchEventType__Output } from '../api/generated/mbdir/v1/WatchEventType.js';
export type { WatchRequest, WatchRequest__Output } from '../api/generated/mbdir/v1/WatchRequest.js';
export type { WriteResponse, WriteResponse__Output } from '../api/generated/mbdir/v1/WriteResponse.js';
