// Original file: proto/mbdir/v1/mbdir.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BackupChunk as _mbdir_v1_BackupChunk, BackupChunk__Output as _mbdir_v1_BackupChunk__Output } from '../../mbdir/v1/BackupChunk.js';
import type { BackupRequest as _mbdir_v1_BackupRequest, BackupRequest__Output as _mbdir_v1_BackupRequest__Output } from '../../mbdir/v1/BackupRequest.js';
import type { StatusRequest as _mbdir_v1_StatusRequest, StatusRequest__Output as _mbdir_v1_StatusRequest__Output } from '../../mbdir/v1/StatusRequest.js';
import type { StatusResponse as _mbdir_v1_StatusResponse, StatusResponse__Output as _mbdir_v1_StatusResponse__Output } from '../../mbdir/v1/StatusResponse.js';

export interface ClusterClient extends grpc.Client {
  Backup(argument: _mbdir_v1_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_BackupChunk__Output>;
  Backup(argument: _mbdir_v1_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_BackupChunk__Output>;
  backup(argument: _mbdir_v1_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_BackupChunk__Output>;
  backup(argument: _mbdir_v1_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_BackupChunk__Output>;
  
  Status(argument: _mbdir_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _mbdir_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _mbdir_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _mbdir_v1_StatusRequest, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _mbdir_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _mbdir_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _mbdir_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _mbdir_v1_StatusRequest, callback: grpc.requestCallback<_mbdir_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ClusterHandlers extends grpc.UntypedServiceImplementation {
  Backup: grpc.handleServerStreamingCall<_mbdir_v1_BackupRequest__Output, _mbdir_v1_BackupChunk>;
  
  Status: grpc.handleUnaryCall<_mbdir_v1_StatusRequest__Output, _mbdir_v1_StatusResponse>;
  
}

export interface ClusterDefinition extends grpc.ServiceDefinition {
  Backup: MethodDefinition<_mbdir_v1_BackupRequest, _mbdir_v1_BackupChunk, _mbdir_v1_BackupRequest__Output, _mbdir_v1_BackupChunk__Output>
  Status: MethodDefinition<_mbdir_v1_StatusRequest, _mbdir_v1_StatusResponse, _mbdir_v1_StatusRequest__Output, _mbdir_v1_StatusResponse__Output>
}
