// Original file: proto/mbdir/v1/mbdir.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AcquireLockRequest as _mbdir_v1_AcquireLockRequest, AcquireLockRequest__Output as _mbdir_v1_AcquireLockRequest__Output } from '../../mbdir/v1/AcquireLockRequest.js';
import type { AcquireLockResponse as _mbdir_v1_AcquireLockResponse, AcquireLockResponse__Output as _mbdir_v1_AcquireLockResponse__Output } from '../../mbdir/v1/AcquireLockResponse.js';
import type { Business as _mbdir_v1_Business, Business__Output as _mbdir_v1_Business__Output } from '../../mbdir/v1/Business.js';
import type { BusinessResponse as _mbdir_v1_BusinessResponse, BusinessResponse__Output as _mbdir_v1_BusinessResponse__Output } from '../../mbdir/v1/BusinessResponse.js';
import type { ListServersRequest as _mbdir_v1_ListServersRequest, ListServersRequest__Output as _mbdir_v1_ListServersRequest__Output } from '../../mbdir/v1/ListServersRequest.js';
import type { ListServersResponse as _mbdir_v1_ListServersResponse, ListServersResponse__Output as _mbdir_v1_ListServersResponse__Output } from '../../mbdir/v1/ListServersResponse.js';
import type { MarkUserMovingRequest as _mbdir_v1_MarkUserMovingRequest, MarkUserMovingRequest__Output as _mbdir_v1_MarkUserMovingRequest__Output } from '../../mbdir/v1/MarkUserMovingRequest.js';
import type { MarkUserMovingResponse as _mbdir_v1_MarkUserMovingResponse, MarkUserMovingResponse__Output as _mbdir_v1_MarkUserMovingResponse__Output } from '../../mbdir/v1/MarkUserMovingResponse.js';
import type { MoveUserRequest as _mbdir_v1_MoveUserRequest, MoveUserRequest__Output as _mbdir_v1_MoveUserRequest__Output } from '../../mbdir/v1/MoveUserRequest.js';
import type { MoveUserResponse as _mbdir_v1_MoveUserResponse, MoveUserResponse__Output as _mbdir_v1_MoveUserResponse__Output } from '../../mbdir/v1/MoveUserResponse.js';
import type { PlanRebalanceRequest as _mbdir_v1_PlanRebalanceRequest, PlanRebalanceRequest__Output as _mbdir_v1_PlanRebalanceRequest__Output } from '../../mbdir/v1/PlanRebalanceRequest.js';
import type { PlanRebalanceResponse as _mbdir_v1_PlanRebalanceResponse, PlanRebalanceResponse__Output as _mbdir_v1_PlanRebalanceResponse__Output } from '../../mbdir/v1/PlanRebalanceResponse.js';
import type { ReleaseLockRequest as _mbdir_v1_ReleaseLockRequest, ReleaseLockRequest__Output as _mbdir_v1_ReleaseLockRequest__Output } from '../../mbdir/v1/ReleaseLockRequest.js';
import type { ReleaseLockResponse as _mbdir_v1_ReleaseLockResponse, ReleaseLockResponse__Output as _mbdir_v1_ReleaseLockResponse__Output } from '../../mbdir/v1/ReleaseLockResponse.js';
import type { ResolveUserRequest as _mbdir_v1_ResolveUserRequest, ResolveUserRequest__Output as _mbdir_v1_ResolveUserRequest__Output } from '../../mbdir/v1/ResolveUserRequest.js';
import type { ResolveUserResponse as _mbdir_v1_ResolveUserResponse, ResolveUserResponse__Output as _mbdir_v1_ResolveUserResponse__Output } from '../../mbdir/v1/ResolveUserResponse.js';
import type { Server as _mbdir_v1_Server, Server__Output as _mbdir_v1_Server__Output } from '../../mbdir/v1/Server.js';
import type { ServerResponse as _mbdir_v1_ServerResponse, ServerResponse__Output as _mbdir_v1_ServerResponse__Output } from '../../mbdir/v1/ServerResponse.js';
import type { SetUserBusinessRequest as _mbdir_v1_SetUserBusinessRequest, SetUserBusinessRequest__Output as _mbdir_v1_SetUserBusinessRequest__Output } from '../../mbdir/v1/SetUserBusinessRequest.js';
import type { WriteResponse as _mbdir_v1_WriteResponse, WriteResponse__Output as _mbdir_v1_WriteResponse__Output } from '../../mbdir/v1/WriteResponse.js';

export interface PlacementClient extends grpc.Client {
  AcquireLock(argument: _mbdir_v1_AcquireLockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  AcquireLock(argument: _mbdir_v1_AcquireLockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  AcquireLock(argument: _mbdir_v1_AcquireLockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  AcquireLock(argument: _mbdir_v1_AcquireLockRequest, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  acquireLock(argument: _mbdir_v1_AcquireLockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  acquireLock(argument: _mbdir_v1_AcquireLockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  acquireLock(argument: _mbdir_v1_AcquireLockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  acquireLock(argument: _mbdir_v1_AcquireLockRequest, callback: grpc.requestCallback<_mbdir_v1_AcquireLockResponse__Output>): grpc.ClientUnaryCall;
  
  ListServers(argument: _mbdir_v1_ListServersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  ListServers(argument: _mbdir_v1_ListServersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  ListServers(argument: _mbdir_v1_ListServersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  ListServers(argument: _mbdir_v1_ListServersRequest, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _mbdir_v1_ListServersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _mbdir_v1_ListServersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _mbdir_v1_ListServersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  listServers(argument: _mbdir_v1_ListServersRequest, callback: grpc.requestCallback<_mbdir_v1_ListServersResponse__Output>): grpc.ClientUnaryCall;
  
  MarkUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  MarkUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  MarkUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  MarkUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  markUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  markUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  markUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  markUserMoving(argument: _mbdir_v1_MarkUserMovingRequest, callback: grpc.requestCallback<_mbdir_v1_MarkUserMovingResponse__Output>): grpc.ClientUnaryCall;
  
  MoveUser(argument: _mbdir_v1_MoveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  MoveUser(argument: _mbdir_v1_MoveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  MoveUser(argument: _mbdir_v1_MoveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  MoveUser(argument: _mbdir_v1_MoveUserRequest, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  moveUser(argument: _mbdir_v1_MoveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  moveUser(argument: _mbdir_v1_MoveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  moveUser(argument: _mbdir_v1_MoveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  moveUser(argument: _mbdir_v1_MoveUserRequest, callback: grpc.requestCallback<_mbdir_v1_MoveUserResponse__Output>): grpc.ClientUnaryCall;
  
  PlanRebalance(argument: _mbdir_v1_PlanRebalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  PlanRebalance(argument: _mbdir_v1_PlanRebalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  PlanRebalance(argument: _mbdir_v1_PlanRebalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  PlanRebalance(argument: _mbdir_v1_PlanRebalanceRequest, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  planRebalance(argument: _mbdir_v1_PlanRebalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  planRebalance(argument: _mbdir_v1_PlanRebalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  planRebalance(argument: _mbdir_v1_PlanRebalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  planRebalance(argument: _mbdir_v1_PlanRebalanceRequest, callback: grpc.requestCallback<_mbdir_v1_PlanRebalanceResponse__Output>): grpc.ClientUnaryCall;
  
  PutBusiness(argument: _mbdir_v1_Business, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  PutBusiness(argument: _mbdir_v1_Business, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  PutBusiness(argument: _mbdir_v1_Business, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  PutBusiness(argument: _mbdir_v1_Business, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  putBusiness(argument: _mbdir_v1_Business, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  putBusiness(argument: _mbdir_v1_Business, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  putBusiness(argument: _mbdir_v1_Business, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  putBusiness(argument: _mbdir_v1_Business, callback: grpc.requestCallback<_mbdir_v1_BusinessResponse__Output>): grpc.ClientUnaryCall;
  
  PutServer(argument: _mbdir_v1_Server, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  PutServer(argument: _mbdir_v1_Server, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  PutServer(argument: _mbdir_v1_Server, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  PutServer(argument: _mbdir_v1_Server, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  putServer(argument: _mbdir_v1_Server, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  putServer(argument: _mbdir_v1_Server, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  putServer(argument: _mbdir_v1_Server, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  putServer(argument: _mbdir_v1_Server, callback: grpc.requestCallback<_mbdir_v1_ServerResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseLock(argument: _mbdir_v1_ReleaseLockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  ReleaseLock(argument: _mbdir_v1_ReleaseLockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  ReleaseLock(argument: _mbdir_v1_ReleaseLockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  ReleaseLock(argument: _mbdir_v1_ReleaseLockRequest, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  releaseLock(argument: _mbdir_v1_ReleaseLockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  releaseLock(argument: _mbdir_v1_ReleaseLockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  releaseLock(argument: _mbdir_v1_ReleaseLockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  releaseLock(argument: _mbdir_v1_ReleaseLockRequest, callback: grpc.requestCallback<_mbdir_v1_ReleaseLockResponse__Output>): grpc.ClientUnaryCall;
  
  ResolveUser(argument: _mbdir_v1_ResolveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _mbdir_v1_ResolveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _mbdir_v1_ResolveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _mbdir_v1_ResolveUserRequest, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _mbdir_v1_ResolveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _mbdir_v1_ResolveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _mbdir_v1_ResolveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _mbdir_v1_ResolveUserRequest, callback: grpc.requestCallback<_mbdir_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  
  SetUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  SetUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  SetUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  SetUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  setUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  setUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  setUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  setUserBusiness(argument: _mbdir_v1_SetUserBusinessRequest, callback: grpc.requestCallback<_mbdir_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface PlacementHandlers extends grpc.UntypedServiceImplementation {
  AcquireLock: grpc.handleUnaryCall<_mbdir_v1_AcquireLockRequest__Output, _mbdir_v1_AcquireLockResponse>;
  
  ListServers: grpc.handleUnaryCall<_mbdir_v1_ListServersRequest__Output, _mbdir_v1_ListServersResponse>;
  
  MarkUserMoving: grpc.handleUnaryCall<_mbdir_v1_MarkUserMovingRequest__Output, _mbdir_v1_MarkUserMovingResponse>;
  
  MoveUser: grpc.handleUnaryCall<_mbdir_v1_MoveUserRequest__Output, _mbdir_v1_MoveUserResponse>;
  
  PlanRebalance: grpc.handleUnaryCall<_mbdir_v1_PlanRebalanceRequest__Output, _mbdir_v1_PlanRebalanceResponse>;
  
  PutBusiness: grpc.handleUnaryCall<_mbdir_v1_Business__Output, _mbdir_v1_BusinessResponse>;
  
  PutServer: grpc.handleUnaryCall<_mbdir_v1_Server__Output, _mbdir_v1_ServerResponse>;
  
  ReleaseLock: grpc.handleUnaryCall<_mbdir_v1_ReleaseLockRequest__Output, _mbdir_v1_ReleaseLockResponse>;
  
  ResolveUser: grpc.handleUnaryCall<_mbdir_v1_ResolveUserRequest__Output, _mbdir_v1_ResolveUserResponse>;
  
  SetUserBusiness: grpc.handleUnaryCall<_mbdir_v1_SetUserBusinessRequest__Output, _mbdir_v1_WriteResponse>;
  
}

export interface PlacementDefinition extends grpc.ServiceDefinition {
  AcquireLock: MethodDefinition<_mbdir_v1_AcquireLockRequest, _mbdir_v1_AcquireLockResponse, _mbdir_v1_AcquireLockRequest__Output, _mbdir_v1_AcquireLockResponse__Output>
  ListServers: MethodDefinition<_mbdir_v1_ListServersRequest, _mbdir_v1_ListServersResponse, _mbdir_v1_ListServersRequest__Output, _mbdir_v1_ListServersResponse__Output>
  MarkUserMoving: MethodDefinition<_mbdir_v1_MarkUserMovingRequest, _mbdir_v1_MarkUserMovingResponse, _mbdir_v1_MarkUserMovingRequest__Output, _mbdir_v1_MarkUserMovingResponse__Output>
  MoveUser: MethodDefinition<_mbdir_v1_MoveUserRequest, _mbdir_v1_MoveUserResponse, _mbdir_v1_MoveUserRequest__Output, _mbdir_v1_MoveUserResponse__Output>
  PlanRebalance: MethodDefinition<_mbdir_v1_PlanRebalanceRequest, _mbdir_v1_PlanRebalanceResponse, _mbdir_v1_PlanRebalanceRequest__Output, _mbdir_v1_PlanRebalanceResponse__Output>
  PutBusiness: MethodDefinition<_mbdir_v1_Business, _mbdir_v1_BusinessResponse, _mbdir_v1_Business__Output, _mbdir_v1_BusinessResponse__Output>
  PutServer: MethodDefinition<_mbdir_v1_Server, _mbdir_v1_ServerResponse, _mbdir_v1_Server__Output, _mbdir_v1_ServerResponse__Output>
  ReleaseLock: MethodDefinition<_mbdir_v1_ReleaseLockRequest, _mbdir_v1_ReleaseLockResponse, _mbdir_v1_ReleaseLockRequest__Output, _mbdir_v1_ReleaseLockResponse__Output>
  ResolveUser: MethodDefinition<_mbdir_v1_ResolveUserRequest, _mbdir_v1_ResolveUserResponse, _mbdir_v1_ResolveUserRequest__Output, _mbdir_v1_ResolveUserResponse__Output>
  SetUserBusiness: MethodDefinition<_mbdir_v1_SetUserBusinessRequest, _mbdir_v1_WriteResponse, _mbdir_v1_SetUserBusinessRequest__Output, _mbdir_v1_WriteResponse__Output>
}
