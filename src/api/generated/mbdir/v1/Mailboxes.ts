// Original file: proto/mbdir/v1/mbdir.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ActivateMailboxRequest as _mbdir_v1_ActivateMailboxRequest, ActivateMailboxRequest__Output as _mbdir_v1_ActivateMailboxRequest__Output } from '../../mbdir/v1/ActivateMailboxRequest.js';
import type { CreateMailboxRequest as _mbdir_v1_CreateMailboxRequest, CreateMailboxRequest__Output as _mbdir_v1_CreateMailboxRequest__Output } from '../../mbdir/v1/CreateMailboxRequest.js';
import type { CreateMailboxResponse as _mbdir_v1_CreateMailboxResponse, CreateMailboxResponse__Output as _mbdir_v1_CreateMailboxResponse__Output } from '../../mbdir/v1/CreateMailboxResponse.js';
import type { DeleteMailboxRequest as _mbdir_v1_DeleteMailboxRequest, DeleteMailboxRequest__Output as _mbdir_v1_DeleteMailboxRequest__Output } from '../../mbdir/v1/DeleteMailboxRequest.js';
import type { DeleteMailboxResponse as _mbdir_v1_DeleteMailboxResponse, DeleteMailboxResponse__Output as _mbdir_v1_DeleteMailboxResponse__Output } from '../../mbdir/v1/DeleteMailboxResponse.js';
import type { GetMailboxRequest as _mbdir_v1_GetMailboxRequest, GetMailboxRequest__Output as _mbdir_v1_GetMailboxRequest__Output } from '../../mbdir/v1/GetMailboxRequest.js';
import type { ListMailboxesRequest as _mbdir_v1_ListMailboxesRequest, ListMailboxesRequest__Output as _mbdir_v1_ListMailboxesRequest__Output } from '../../mbdir/v1/ListMailboxesRequest.js';
import type { ListMailboxesResponse as _mbdir_v1_ListMailboxesResponse, ListMailboxesResponse__Output as _mbdir_v1_ListMailboxesResponse__Output } from '../../mbdir/v1/ListMailboxesResponse.js';
import type { LookupMailboxesRequest as _mbdir_v1_LookupMailboxesRequest, LookupMailboxesRequest__Output as _mbdir_v1_LookupMailboxesRequest__Output } from '../../mbdir/v1/LookupMailboxesRequest.js';
import type { LookupMailboxesResponse as _mbdir_v1_LookupMailboxesResponse, LookupMailboxesResponse__Output as _mbdir_v1_LookupMailboxesResponse__Output } from '../../mbdir/v1/LookupMailboxesResponse.js';
import type { LookupStreamRequest as _mbdir_v1_LookupStreamRequest, LookupStreamRequest__Output as _mbdir_v1_LookupStreamRequest__Output } from '../../mbdir/v1/LookupStreamRequest.js';
import type { LookupStreamResponse as _mbdir_v1_LookupStreamResponse, LookupStreamResponse__Output as _mbdir_v1_LookupStreamResponse__Output } from '../../mbdir/v1/LookupStreamResponse.js';
import type { Mailbox as _mbdir_v1_Mailbox, Mailbox__Output as _mbdir_v1_Mailbox__Output } from '../../mbdir/v1/Mailbox.js';
import type { MailboxResponse as _mbdir_v1_MailboxResponse, MailboxResponse__Output as _mbdir_v1_MailboxResponse__Output } from '../../mbdir/v1/MailboxResponse.js';
import type { RenameMailboxRequest as _mbdir_v1_RenameMailboxRequest, RenameMailboxRequest__Output as _mbdir_v1_RenameMailboxRequest__Output } from '../../mbdir/v1/RenameMailboxRequest.js';
import type { RenameMailboxResponse as _mbdir_v1_RenameMailboxResponse, RenameMailboxResponse__Output as _mbdir_v1_RenameMailboxResponse__Output } from '../../mbdir/v1/RenameMailboxResponse.js';
import type { ScanMailboxesRequest as _mbdir_v1_ScanMailboxesRequest, ScanMailboxesRequest__Output as _mbdir_v1_ScanMailboxesRequest__Output } from '../../mbdir/v1/ScanMailboxesRequest.js';
import type { SetAclRequest as _mbdir_v1_SetAclRequest, SetAclRequest__Output as _mbdir_v1_SetAclRequest__Output } from '../../mbdir/v1/SetAclRequest.js';
import type { SyncServerRequest as _mbdir_v1_SyncServerRequest, SyncServerRequest__Output as _mbdir_v1_SyncServerRequest__Output } from '../../mbdir/v1/SyncServerRequest.js';
import type { SyncServerResponse as _mbdir_v1_SyncServerResponse, SyncServerResponse__Output as _mbdir_v1_SyncServerResponse__Output } from '../../mbdir/v1/SyncServerResponse.js';
import type { WatchEvent as _mbdir_v1_WatchEvent, WatchEvent__Output as _mbdir_v1_WatchEvent__Output } from '../../mbdir/v1/WatchEvent.js';
import type { WatchRequest as _mbdir_v1_WatchRequest, WatchRequest__Output as _mbdir_v1_WatchRequest__Output } from '../../mbdir/v1/WatchRequest.js';

export interface MailboxesClient extends grpc.Client {
  ActivateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  ActivateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  ActivateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  ActivateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  activateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  activateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  activateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  activateMailbox(argument: _mbdir_v1_ActivateMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  
  CreateMailbox(argument: _mbdir_v1_CreateMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  CreateMailbox(argument: _mbdir_v1_CreateMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  CreateMailbox(argument: _mbdir_v1_CreateMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  CreateMailbox(argument: _mbdir_v1_CreateMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  createMailbox(argument: _mbdir_v1_CreateMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  createMailbox(argument: _mbdir_v1_CreateMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  createMailbox(argument: _mbdir_v1_CreateMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  createMailbox(argument: _mbdir_v1_CreateMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_CreateMailboxResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  DeleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  DeleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  DeleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  deleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  deleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  deleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  deleteMailbox(argument: _mbdir_v1_DeleteMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_DeleteMailboxResponse__Output>): grpc.ClientUnaryCall;
  
  GetMailbox(argument: _mbdir_v1_GetMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  GetMailbox(argument: _mbdir_v1_GetMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  GetMailbox(argument: _mbdir_v1_GetMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  GetMailbox(argument: _mbdir_v1_GetMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  getMailbox(argument: _mbdir_v1_GetMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  getMailbox(argument: _mbdir_v1_GetMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  getMailbox(argument: _mbdir_v1_GetMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  getMailbox(argument: _mbdir_v1_GetMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  
  ListMailboxes(argument: _mbdir_v1_ListMailboxesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  ListMailboxes(argument: _mbdir_v1_ListMailboxesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  ListMailboxes(argument: _mbdir_v1_ListMailboxesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  ListMailboxes(argument: _mbdir_v1_ListMailboxesRequest, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  listMailboxes(argument: _mbdir_v1_ListMailboxesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  listMailboxes(argument: _mbdir_v1_ListMailboxesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  listMailboxes(argument: _mbdir_v1_ListMailboxesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  listMailboxes(argument: _mbdir_v1_ListMailboxesRequest, callback: grpc.requestCallback<_mbdir_v1_ListMailboxesResponse__Output>): grpc.ClientUnaryCall;
  
  LookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  LookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  LookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  LookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  lookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  lookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  lookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  lookupMailboxes(argument: _mbdir_v1_LookupMailboxesRequest, callback: grpc.requestCallback<_mbdir_v1_LookupMailboxesResponse__Output>): grpc.ClientUnaryCall;
  
  LookupStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_mbdir_v1_LookupStreamRequest, _mbdir_v1_LookupStreamResponse__Output>;
  LookupStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_mbdir_v1_LookupStreamRequest, _mbdir_v1_LookupStreamResponse__Output>;
  lookupStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_mbdir_v1_LookupStreamRequest, _mbdir_v1_LookupStreamResponse__Output>;
  lookupStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_mbdir_v1_LookupStreamRequest, _mbdir_v1_LookupStreamResponse__Output>;
  
  RenameMailbox(argument: _mbdir_v1_RenameMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  RenameMailbox(argument: _mbdir_v1_RenameMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  RenameMailbox(argument: _mbdir_v1_RenameMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  RenameMailbox(argument: _mbdir_v1_RenameMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  renameMailbox(argument: _mbdir_v1_RenameMailboxRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  renameMailbox(argument: _mbdir_v1_RenameMailboxRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  renameMailbox(argument: _mbdir_v1_RenameMailboxRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  renameMailbox(argument: _mbdir_v1_RenameMailboxRequest, callback: grpc.requestCallback<_mbdir_v1_RenameMailboxResponse__Output>): grpc.ClientUnaryCall;
  
  ScanMailboxes(argument: _mbdir_v1_ScanMailboxesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_Mailbox__Output>;
  ScanMailboxes(argument: _mbdir_v1_ScanMailboxesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_Mailbox__Output>;
  scanMailboxes(argument: _mbdir_v1_ScanMailboxesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_Mailbox__Output>;
  scanMailboxes(argument: _mbdir_v1_ScanMailboxesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_Mailbox__Output>;
  
  SetAcl(argument: _mbdir_v1_SetAclRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  SetAcl(argument: _mbdir_v1_SetAclRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  SetAcl(argument: _mbdir_v1_SetAclRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  SetAcl(argument: _mbdir_v1_SetAclRequest, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  setAcl(argument: _mbdir_v1_SetAclRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  setAcl(argument: _mbdir_v1_SetAclRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  setAcl(argument: _mbdir_v1_SetAclRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  setAcl(argument: _mbdir_v1_SetAclRequest, callback: grpc.requestCallback<_mbdir_v1_MailboxResponse__Output>): grpc.ClientUnaryCall;
  
  SyncServer(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  SyncServer(metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  SyncServer(options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  SyncServer(callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  syncServer(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  syncServer(metadata: grpc.Metadata, callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  syncServer(options: grpc.CallOptions, callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  syncServer(callback: grpc.requestCallback<_mbdir_v1_SyncServerResponse__Output>): grpc.ClientWritableStream<_mbdir_v1_SyncServerRequest>;
  
  Watch(argument: _mbdir_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_WatchEvent__Output>;
  Watch(argument: _mbdir_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_WatchEvent__Output>;
  watch(argument: _mbdir_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_WatchEvent__Output>;
  watch(argument: _mbdir_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_mbdir_v1_WatchEvent__Output>;
  
}

export interface MailboxesHandlers extends grpc.UntypedServiceImplementation {
  ActivateMailbox: grpc.handleUnaryCall<_mbdir_v1_ActivateMailboxRequest__Output, _mbdir_v1_MailboxResponse>;
  
  CreateMailbox: grpc.handleUnaryCall<_mbdir_v1_CreateMailboxRequest__Output, _mbdir_v1_CreateMailboxResponse>;
  
  DeleteMailbox: grpc.handleUnaryCall<_mbdir_v1_DeleteMailboxRequest__Output, _mbdir_v1_DeleteMailboxResponse>;
  
  GetMailbox: grpc.handleUnaryCall<_mbdir_v1_GetMailboxRequest__Output, _mbdir_v1_MailboxResponse>;
  
  ListMailboxes: grpc.handleUnaryCall<_mbdir_v1_ListMailboxesRequest__Output, _mbdir_v1_ListMailboxesResponse>;
  
  LookupMailboxes: grpc.handleUnaryCall<_mbdir_v1_LookupMailboxesRequest__Output, _mbdir_v1_LookupMailboxesResponse>;
  
  LookupStream: grpc.handleBidiStreamingCall<_mbdir_v1_LookupStreamRequest__Output, _mbdir_v1_LookupStreamResponse>;
  
  RenameMailbox: grpc.handleUnaryCall<_mbdir_v1_RenameMailboxRequest__Output, _mbdir_v1_RenameMailboxResponse>;
  
  ScanMailboxes: grpc.handleServerStreamingCall<_mbdir_v1_ScanMailboxesRequest__Output, _mbdir_v1_Mailbox>;
  
  SetAcl: grpc.handleUnaryCall<_mbdir_v1_SetAclRequest__Output, _mbdir_v1_MailboxResponse>;
  
  SyncServer: grpc.handleClientStreamingCall<_mbdir_v1_SyncServerRequest__Output, _mbdir_v1_SyncServerResponse>;
  
  Watch: grpc.handleServerStreamingCall<_mbdir_v1_WatchRequest__Output, _mbdir_v1_WatchEvent>;
  
}

export interface MailboxesDefinition extends grpc.ServiceDefinition {
  ActivateMailbox: MethodDefinition<_mbdir_v1_ActivateMailboxRequest, _mbdir_v1_MailboxResponse, _mbdir_v1_ActivateMailboxRequest__Output, _mbdir_v1_MailboxResponse__Output>
  CreateMailbox: MethodDefinition<_mbdir_v1_CreateMailboxRequest, _mbdir_v1_CreateMailboxResponse, _mbdir_v1_CreateMailboxRequest__Output, _mbdir_v1_CreateMailboxResponse__Output>
  DeleteMailbox: MethodDefinition<_mbdir_v1_DeleteMailboxRequest, _mbdir_v1_DeleteMailboxResponse, _mbdir_v1_DeleteMailboxRequest__Output, _mbdir_v1_DeleteMailboxResponse__Output>
  GetMailbox: MethodDefinition<_mbdir_v1_GetMailboxRequest, _mbdir_v1_MailboxResponse, _mbdir_v1_GetMailboxRequest__Output, _mbdir_v1_MailboxResponse__Output>
  ListMailboxes: MethodDefinition<_mbdir_v1_ListMailboxesRequest, _mbdir_v1_ListMailboxesResponse, _mbdir_v1_ListMailboxesRequest__Output, _mbdir_v1_ListMailboxesResponse__Output>
  LookupMailboxes: MethodDefinition<_mbdir_v1_LookupMailboxesRequest, _mbdir_v1_LookupMailboxesResponse, _mbdir_v1_LookupMailboxesRequest__Output, _mbdir_v1_LookupMailboxesResponse__Output>
  LookupStream: MethodDefinition<_mbdir_v1_LookupStreamRequest, _mbdir_v1_LookupStreamResponse, _mbdir_v1_LookupStreamRequest__Output, _mbdir_v1_LookupStreamResponse__Output>
  RenameMailbox: MethodDefinition<_mbdir_v1_RenameMailboxRequest, _mbdir_v1_RenameMailboxResponse, _mbdir_v1_RenameMailboxRequest__Output, _mbdir_v1_RenameMailboxResponse__Output>
  ScanMailboxes: MethodDefinition<_mbdir_v1_ScanMailboxesRequest, _mbdir_v1_Mailbox, _mbdir_v1_ScanMailboxesRequest__Output, _mbdir_v1_Mailbox__Output>
  SetAcl: MethodDefinition<_mbdir_v1_SetAclRequest, _mbdir_v1_MailboxResponse, _mbdir_v1_SetAclRequest__Output, _mbdir_v1_MailboxResponse__Output>
  SyncServer: MethodDefinition<_mbdir_v1_SyncServerRequest, _mbdir_v1_SyncServerResponse, _mbdir_v1_SyncServerRequest__Output, _mbdir_v1_SyncServerResponse__Output>
  Watch: MethodDefinition<_mbdir_v1_WatchRequest, _mbdir_v1_WatchEvent, _mbdir_v1_WatchRequest__Output, _mbdir_v1_WatchEvent__Output>
}
