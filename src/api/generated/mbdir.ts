import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AclEntry as _mbdir_v1_AclEntry, AclEntry__Output as _mbdir_v1_AclEntry__Output } from './mbdir/v1/AclEntry.js';
import type { AcquireLockRequest as _mbdir_v1_AcquireLockRequest, AcquireLockRequest__Output as _mbdir_v1_AcquireLockRequest__Output } from './mbdir/v1/AcquireLockRequest.js';
import type { AcquireLockResponse as _mbdir_v1_AcquireLockResponse, AcquireLockResponse__Output as _mbdir_v1_AcquireLockResponse__Output } from './mbdir/v1/AcquireLockResponse.js';
import type { ActivateMailboxRequest as _mbdir_v1_ActivateMailboxRequest, ActivateMailboxRequest__Output as _mbdir_v1_ActivateMailboxRequest__Output } from './mbdir/v1/ActivateMailboxRequest.js';
import type { BackupChunk as _mbdir_v1_BackupChunk, BackupChunk__Output as _mbdir_v1_BackupChunk__Output } from './mbdir/v1/BackupChunk.js';
import type { BackupRequest as _mbdir_v1_BackupRequest, BackupRequest__Output as _mbdir_v1_BackupRequest__Output } from './mbdir/v1/BackupRequest.js';
import type { Business as _mbdir_v1_Business, Business__Output as _mbdir_v1_Business__Output } from './mbdir/v1/Business.js';
import type { BusinessResponse as _mbdir_v1_BusinessResponse, BusinessResponse__Output as _mbdir_v1_BusinessResponse__Output } from './mbdir/v1/BusinessResponse.js';
import type { ClusterClient as _mbdir_v1_ClusterClient, ClusterDefinition as _mbdir_v1_ClusterDefinition } from './mbdir/v1/Cluster.js';
import type { CreateMailboxRequest as _mbdir_v1_CreateMailboxRequest, CreateMailboxRequest__Output as _mbdir_v1_CreateMailboxRequest__Output } from './mbdir/v1/CreateMailboxRequest.js';
import type { CreateMailboxResponse as _mbdir_v1_CreateMailboxResponse, CreateMailboxResponse__Output as _mbdir_v1_CreateMailboxResponse__Output } from './mbdir/v1/CreateMailboxResponse.js';
import type { DeleteMailboxRequest as _mbdir_v1_DeleteMailboxRequest, DeleteMailboxRequest__Output as _mbdir_v1_DeleteMailboxRequest__Output } from './mbdir/v1/DeleteMailboxRequest.js';
import type { DeleteMailboxResponse as _mbdir_v1_DeleteMailboxResponse, DeleteMailboxResponse__Output as _mbdir_v1_DeleteMailboxResponse__Output } from './mbdir/v1/DeleteMailboxResponse.js';
import type { EtcdEndpointStatus as _mbdir_v1_EtcdEndpointStatus, EtcdEndpointStatus__Output as _mbdir_v1_EtcdEndpointStatus__Output } from './mbdir/v1/EtcdEndpointStatus.js';
import type { EtcdMaintenance as _mbdir_v1_EtcdMaintenance, EtcdMaintenance__Output as _mbdir_v1_EtcdMaintenance__Output } from './mbdir/v1/EtcdMaintenance.js';
import type { GetMailboxRequest as _mbdir_v1_GetMailboxRequest, GetMailboxRequest__Output as _mbdir_v1_GetMailboxRequest__Output } from './mbdir/v1/GetMailboxRequest.js';
import type { ListMailboxesRequest as _mbdir_v1_ListMailboxesRequest, ListMailboxesRequest__Output as _mbdir_v1_ListMailboxesRequest__Output } from './mbdir/v1/ListMailboxesRequest.js';
import type { ListMailboxesResponse as _mbdir_v1_ListMailboxesResponse, ListMailboxesResponse__Output as _mbdir_v1_ListMailboxesResponse__Output } from './mbdir/v1/ListMailboxesResponse.js';
import type { ListServersRequest as _mbdir_v1_ListServersRequest, ListServersRequest__Output as _mbdir_v1_ListServersRequest__Output } from './mbdir/v1/ListServersRequest.js';
import type { ListServersResponse as _mbdir_v1_ListServersResponse, ListServersResponse__Output as _mbdir_v1_ListServersResponse__Output } from './mbdir/v1/ListServersResponse.js';
import type { ListedMailbox as _mbdir_v1_ListedMailbox, ListedMailbox__Output as _mbdir_v1_ListedMailbox__Output } from './mbdir/v1/ListedMailbox.js';
import type { Location as _mbdir_v1_Location, Location__Output as _mbdir_v1_Location__Output } from './mbdir/v1/Location.js';
import type { LookupMailboxesRequest as _mbdir_v1_LookupMailboxesRequest, LookupMailboxesRequest__Output as _mbdir_v1_LookupMailboxesRequest__Output } from './mbdir/v1/LookupMailboxesRequest.js';
import type { LookupMailboxesResponse as _mbdir_v1_LookupMailboxesResponse, LookupMailboxesResponse__Output as _mbdir_v1_LookupMailboxesResponse__Output } from './mbdir/v1/LookupMailboxesResponse.js';
import type { LookupResult as _mbdir_v1_LookupResult, LookupResult__Output as _mbdir_v1_LookupResult__Output } from './mbdir/v1/LookupResult.js';
import type { LookupStreamRequest as _mbdir_v1_LookupStreamRequest, LookupStreamRequest__Output as _mbdir_v1_LookupStreamRequest__Output } from './mbdir/v1/LookupStreamRequest.js';
import type { LookupStreamResponse as _mbdir_v1_LookupStreamResponse, LookupStreamResponse__Output as _mbdir_v1_LookupStreamResponse__Output } from './mbdir/v1/LookupStreamResponse.js';
import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from './mbdir/v1/Mailbox.js';
import type { MailboxResponse as _mbdir_v1_MailboxResponse, MailboxResponse__Output as _mbdir_v1_MailboxResponse__Output } from './mbdir/v1/MailboxResponse.js';
import type { MailboxesClient as _mbdir_v1_MailboxesClient, MailboxesDefinition as _mbdir_v1_MailboxesDefinition } from './mbdir/v1/Mailboxes.js';
import type { MarkUserMovingRequest as _mbdir_v1_MarkUserMovingRequest, MarkUserMovingRequest__Output as _mbdir_v1_MarkUserMovingRequest__Output } from './mbdir/v1/MarkUserMovingRequest.js';
import type { MarkUserMovingResponse as _mbdir_v1_MarkUserMovingResponse, MarkUserMovingResponse__Output as _mbdir_v1_MarkUserMovingResponse__Output } from './mbdir/v1/MarkUserMovingResponse.js';
import type { MoveUserRequest as _mbdir_v1_MoveUserRequest, MoveUserRequest__Output as _mbdir_v1_MoveUserRequest__Output } from './mbdir/v1/MoveUserRequest.js';
import type { MoveUserResponse as _mbdir_v1_MoveUserResponse, MoveUserResponse__Output as _mbdir_v1_MoveUserResponse__Output } from './mbdir/v1/MoveUserResponse.js';
import type { PlacementClient as _mbdir_v1_PlacementClient, PlacementDefinition as _mbdir_v1_PlacementDefinition } from './mbdir/v1/Placement.js';
import type { PlanRebalanceRequest as _mbdir_v1_PlanRebalanceRequest, PlanRebalanceRequest__Output as _mbdir_v1_PlanRebalanceRequest__Output } from './mbdir/v1/PlanRebalanceRequest.js';
import type { PlanRebalanceResponse as _mbdir_v1_PlanRebalanceResponse, PlanRebalanceResponse__Output as _mbdir_v1_PlanRebalanceResponse__Output } from './mbdir/v1/PlanRebalanceResponse.js';
import type { PlannedMove as _mbdir_v1_PlannedMove, PlannedMove__Output as _mbdir_v1_PlannedMove__Output } from './mbdir/v1/PlannedMove.js';
import type { ReleaseLockRequest as _mbdir_v1_ReleaseLockRequest, ReleaseLockRequest__Output as _mbdir_v1_ReleaseLockRequest__Output } from './mbdir/v1/ReleaseLockRequest.js';
import type { ReleaseLockResponse as _mbdir_v1_ReleaseLockResponse, ReleaseLockResponse__Output as _mbdir_v1_ReleaseLockResponse__Output } from './mbdir/v1/ReleaseLockResponse.js';
import type { RenameMailboxRequest as _mbdir_v1_RenameMailboxRequest, RenameMailboxRequest__Output as _mbdir_v1_RenameMailboxRequest__Output } from './mbdir/v1/RenameMailboxRequest.js';
import type { RenameMailboxResponse as _mbdir_v1_RenameMailboxResponse, RenameMailboxResponse__Output as _mbdir_v1_RenameMailboxResponse__Output } from './mbdir/v1/RenameMailboxResponse.js';
import type { ResolveUserRequest as _mbdir_v1_ResolveUserRequest, ResolveUserRequest__Output as _mbdir_v1_ResolveUserRequest__Output } from './mbdir/v1/ResolveUserRequest.js';
import type { ResolveUserResponse as _mbdir_v1_ResolveUserResponse, ResolveUserResponse__Output as _mbdir_v1_ResolveUserResponse__Output } from './mbdir/v1/ResolveUserResponse.js';
import type { ScanMailboxesRequest as _mbdir_v1_ScanMailboxesRequest, ScanMailboxesRequest__Output as _mbdir_v1_ScanMailboxesRequest__Output } from './mbdir/v1/ScanMailboxesRequest.js';
import type { Server as _mbdir_v1_Server, Server__Output as _mbdir_v1_Server__Output } from './mbdir/v1/Server.js';
import type { ServerLoad as _mbdir_v1_ServerLoad, ServerLoad__Output as _mbdir_v1_ServerLoad__Output } from './mbdir/v1/ServerLoad.js';
import type { ServerResponse as _mbdir_v1_ServerResponse, ServerResponse__Output as _mbdir_v1_ServerResponse__Output } from './mbdir/v1/ServerResponse.js';
import type { SetAclRequest as _mbdir_v1_SetAclRequest, SetAclRequest__Output as _mbdir_v1_SetAclRequest__Output } from './mbdir/v1/SetAclRequest.js';
import type { SetUserBusinessRequest as _mbdir_v1_SetUserBusinessRequest, SetUserBusinessRequest__Output as _mbdir_v1_SetUserBusinessRequest__Output } from './mbdir/v1/SetUserBusinessRequest.js';
import type { StatusRequest as _mbdir_v1_StatusRequest, StatusRequest__Output as _mbdir_v1_StatusRequest__Output } from './mbdir/v1/StatusRequest.js';
import type { StatusResponse as _mbdir_v1_StatusResponse, StatusResponse__Output as _mbdir_v1_StatusResponse__Output } from './mbdir/v1/StatusResponse.js';
import type { SyncConflict as _mbdir_v1_SyncConflict, SyncConflict__Output as _mbdir_v1_SyncConflict__Output } from './mbdir/v1/SyncConflict.js';
import type { SyncServerRequest as _mbdir_v1_SyncServerRequest, SyncServerRequest__Output as _mbdir_v1_SyncServerRequest__Output } from './mbdir/v1/SyncServerRequest.js';
import type { SyncServerResponse as _mbdir_v1_SyncServerResponse, SyncServerResponse__Output as _mbdir_v1_SyncServerResponse__Output } from './mbdir/v1/SyncServerResponse.js';
import type { WatchEvent as _mbdir_v1_WatchEvent, WatchEvent__Output as _mbdir_v1_WatchEvent__Output } from './mbdir/v1/WatchEvent.js';
import type { WatchRequest as _mbdir_v1_WatchRequest, WatchRequest__Output as _mbdir_v1_WatchRequest__Output } from './mbdir/v1/WatchRequest.js';
import type { WriteResponse as _mbdir_v1_WriteResponse, WriteResponse__Output as _mbdir_v1_WriteResponse__Output } from './mbdir/v1/WriteResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  mbdir: {
    v1: {
      AclEntry: MessageTypeDefinition<_mbdir_v1_AclEntry, _mbdir_v1_AclEntry__Output>
      AcquireLockRequest: MessageTypeDefinition<_mbdir_v1_AcquireLockRequest, _mbdir_v1_AcquireLockRequest__Output>
      AcquireLockResponse: MessageTypeDefinition<_mbdir_v1_AcquireLockResponse, _mbdir_v1_AcquireLockResponse__Output>
      ActivateMailboxRequest: MessageTypeDefinition<_mbdir_v1_ActivateMailboxRequest, _mbdir_v1_ActivateMailboxRequest__Output>
      BackupChunk: MessageTypeDefinition<_mbdir_v1_BackupChunk, _mbdir_v1_BackupChunk__Output>
      BackupRequest: MessageTypeDefinition<_mbdir_v1_BackupRequest, _mbdir_v1_BackupRequest__Output>
      Business: MessageTypeDefinition<_mbdir_v1_Business, _mbdir_v1_Business__Output>
      BusinessResponse: MessageTypeDefinition<_mbdir_v1_BusinessResponse, _mbdir_v1_BusinessResponse__Output>
      Cluster: SubtypeConstructor<typeof grpc.Client, _mbdir_v1_ClusterClient> & { service: _mbdir_v1_ClusterDefinition }
      CreateMailboxRequest: MessageTypeDefinition<_mbdir_v1_CreateMailboxRequest, _mbdir_v1_CreateMailboxRequest__Output>
      CreateMailboxResponse: MessageTypeDefinition<_mbdir_v1_CreateMailboxResponse, _mbdir_v1_CreateMailboxResponse__Output>
      CreateOutcome: EnumTypeDefinition
      DeleteMailboxRequest: MessageTypeDefinition<_mbdir_v1_DeleteMailboxRequest, _mbdir_v1_DeleteMailboxRequest__Output>
      DeleteMailboxResponse: MessageTypeDefinition<_mbdir_v1_DeleteMailboxResponse, _mbdir_v1_DeleteMailboxResponse__Output>
      EtcdEndpointStatus: MessageTypeDefinition<_mbdir_v1_EtcdEndpointStatus, _mbdir_v1_EtcdEndpointStatus__Output>
      EtcdMaintenance: MessageTypeDefinition<_mbdir_v1_EtcdMaintenance, _mbdir_v1_EtcdMaintenance__Output>
      GetMailboxRequest: MessageTypeDefinition<_mbdir_v1_GetMailboxRequest, _mbdir_v1_GetMailboxRequest__Output>
      ListMailboxesRequest: MessageTypeDefinition<_mbdir_v1_ListMailboxesRequest, _mbdir_v1_ListMailboxesRequest__Output>
      ListMailboxesResponse: MessageTypeDefinition<_mbdir_v1_ListMailboxesResponse, _mbdir_v1_ListMailboxesResponse__Output>
      ListServersRequest: MessageTypeDefinition<_mbdir_v1_ListServersRequest, _mbdir_v1_ListServersRequest__Output>
      ListServersResponse: MessageTypeDefinition<_mbdir_v1_ListServersResponse, _mbdir_v1_ListServersResponse__Output>
      ListedMailbox: MessageTypeDefinition<_mbdir_v1_ListedMailbox, _mbdir_v1_ListedMailbox__Output>
      Location: MessageTypeDefinition<_mbdir_v1_Location, _mbdir_v1_Location__Output>
      LookupMailboxesRequest: MessageTypeDefinition<_mbdir_v1_LookupMailboxesRequest, _mbdir_v1_LookupMailboxesRequest__Output>
      LookupMailboxesResponse: MessageTypeDefinition<_mbdir_v1_LookupMailboxesResponse, _mbdir_v1_LookupMailboxesResponse__Output>
      LookupResult: MessageTypeDefinition<_mbdir_v1_LookupResult, _mbdir_v1_LookupResult__Output>
      LookupStreamRequest: MessageTypeDefinition<_mbdir_v1_LookupStreamRequest, _mbdir_v1_LookupStreamRequest__Output>
      LookupStreamResponse: MessageTypeDefinition<_mbdir_v1_LookupStreamResponse, _mbdir_v1_LookupStreamResponse__Output>
      Mailbox: MessageTypeDefinition<_mbdir_v1_Mailbox, _mbdir_v1_Mailbox__Output>
      MailboxResponse: MessageTypeDefinition<_mbdir_v1_MailboxResponse, _mbdir_v1_MailboxResponse__Output>
      MailboxState: EnumTypeDefinition
      Mailboxes: SubtypeConstructor<typeof grpc.Client, _mbdir_v1_MailboxesClient> & { service: _mbdir_v1_MailboxesDefinition }
      MarkUserMovingRequest: MessageTypeDefinition<_mbdir_v1_MarkUserMovingRequest, _mbdir_v1_MarkUserMovingRequest__Output>
      MarkUserMovingResponse: MessageTypeDefinition<_mbdir_v1_MarkUserMovingResponse, _mbdir_v1_MarkUserMovingResponse__Output>
      MoveUserRequest: MessageTypeDefinition<_mbdir_v1_MoveUserRequest, _mbdir_v1_MoveUserRequest__Output>
      MoveUserResponse: MessageTypeDefinition<_mbdir_v1_MoveUserResponse, _mbdir_v1_MoveUserResponse__Output>
      Placement: SubtypeConstructor<typeof grpc.Client, _mbdir_v1_PlacementClient> & { service: _mbdir_v1_PlacementDefinition }
      PlanRebalanceRequest: MessageTypeDefinition<_mbdir_v1_PlanRebalanceRequest, _mbdir_v1_PlanRebalanceRequest__Output>
      PlanRebalanceResponse: MessageTypeDefinition<_mbdir_v1_PlanRebalanceResponse, _mbdir_v1_PlanRebalanceResponse__Output>
      PlannedMove: MessageTypeDefinition<_mbdir_v1_PlannedMove, _mbdir_v1_PlannedMove__Output>
      ReleaseLockRequest: MessageTypeDefinition<_mbdir_v1_ReleaseLockRequest, _mbdir_v1_ReleaseLockRequest__Output>
      ReleaseLockResponse: MessageTypeDefinition<_mbdir_v1_ReleaseLockResponse, _mbdir_v1_ReleaseLockResponse__Output>
      RenameMailboxRequest: MessageTypeDefinition<_mbdir_v1_RenameMailboxRequest, _mbdir_v1_RenameMailboxRequest__Output>
      RenameMailboxResponse: MessageTypeDefinition<_mbdir_v1_RenameMailboxResponse, _mbdir_v1_RenameMailboxResponse__Output>
      ResolveUserRequest: MessageTypeDefinition<_mbdir_v1_ResolveUserRequest, _mbdir_v1_ResolveUserRequest__Output>
      ResolveUserResponse: MessageTypeDefinition<_mbdir_v1_ResolveUserResponse, _mbdir_v1_ResolveUserResponse__Output>
      ScanMailboxesRequest: MessageTypeDefinition<_mbdir_v1_ScanMailboxesRequest, _mbdir_v1_ScanMailboxesRequest__Output>
      Server: MessageTypeDefinition<_mbdir_v1_Server, _mbdir_v1_Server__Output>
      ServerLoad: MessageTypeDefinition<_mbdir_v1_ServerLoad, _mbdir_v1_ServerLoad__Output>
      ServerResponse: MessageTypeDefinition<_mbdir_v1_ServerResponse, _mbdir_v1_ServerResponse__Output>
      ServerState: EnumTypeDefinition
      SetAclRequest: MessageTypeDefinition<_mbdir_v1_SetAclRequest, _mbdir_v1_SetAclRequest__Output>
      SetUserBusinessRequest: MessageTypeDefinition<_mbdir_v1_SetUserBusinessRequest, _mbdir_v1_SetUserBusinessRequest__Output>
      StatusRequest: MessageTypeDefinition<_mbdir_v1_StatusRequest, _mbdir_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_mbdir_v1_StatusResponse, _mbdir_v1_StatusResponse__Output>
      SyncConflict: MessageTypeDefinition<_mbdir_v1_SyncConflict, _mbdir_v1_SyncConflict__Output>
      SyncServerRequest: MessageTypeDefinition<_mbdir_v1_SyncServerRequest, _mbdir_v1_SyncServerRequest__Output>
      SyncServerResponse: MessageTypeDefinition<_mbdir_v1_SyncServerResponse, _mbdir_v1_SyncServerResponse__Output>
      WatchEvent: MessageTypeDefinition<_mbdir_v1_WatchEvent, _mbdir_v1_WatchEvent__Output>
      WatchEventType: EnumTypeDefinition
      WatchRequest: MessageTypeDefinition<_mbdir_v1_WatchRequest, _mbdir_v1_WatchRequest__Output>
      WriteResponse: MessageTypeDefinition<_mbdir_v1_WriteResponse, _mbdir_v1_WriteResponse__Output>
    }
  }
}

