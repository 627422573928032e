// Original file: proto/mbdir/v1/mbdir.proto


export interface BackupRequest {
}

export interface BackupRequest__Output {
}
