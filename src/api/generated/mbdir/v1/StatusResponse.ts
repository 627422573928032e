// Original file: proto/mbdir/v1/mbdir.proto

import type { EtcdEndpointStatus as _mbdir_v1_EtcdEndpointStatus, EtcdEndpointStatus__Output as _mbdir_v1_EtcdEndpointStatus__Output } from '../../mbdir/v1/EtcdEndpointStatus.js';
import type { EtcdMaintenance as _mbdir_v1_EtcdMaintenance, EtcdMaintenance__Output as _mbdir_v1_EtcdMaintenance__Output } from '../../mbdir/v1/EtcdMaintenance.js';
import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'node_id'?: (string);
  'engine'?: (string);
  'applied_revision'?: (number | string | Long);
  'mailboxes'?: (number | string | Long);
  'oldest_retained_revision'?: (number | string | Long);
  'etcd_endpoints'?: (_mbdir_v1_EtcdEndpointStatus)[];
  'etcd_revision'?: (number | string | Long);
  'lag_revisions'?: (number | string | Long);
  'version'?: (string);
  'uptime_ms'?: (number | string | Long);
  'last_maintenance'?: (_mbdir_v1_EtcdMaintenance | null);
}

export interface StatusResponse__Output {
  'node_id': (string);
  'engine': (string);
  'applied_revision': (number);
  'mailboxes': (number);
  'oldest_retained_revision': (number);
  'etcd_endpoints': (_mbdir_v1_EtcdEndpointStatus__Output)[];
  'etcd_revision': (number);
  'lag_revisions': (number);
  'version': (string);
  'uptime_ms': (number);
  'last_maintenance': (_mbdir_v1_EtcdMaintenance__Output | null);
}
