// Original file: proto/mbdir/v1/mbdir.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
