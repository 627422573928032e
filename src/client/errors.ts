/**
 * How a failed call reaches the caller of the client: one ClientError with the
 * gRPC code, its name and the server's text. A failed connection is said in
 * words naming the address tried (`no mbdir node answered at ADDR (connection
 * refused)`) instead of grpc-js's "No connection established ..." paragraph.
 * This is the client's one error table; it never retries or hides a failure.
 */
import * as grpc from '@grpc/grpc-js';

/** A gRPC error as the client sees it: code name and the server's text. */
export class ClientError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly codeName: string,
    readonly details: string,
  ) {
    super(`${codeName}: ${details}`);
  }
}

/** Socket errors grpc-js reports when it could not connect, in words. */
const connectFailures: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/**
 * What a failed connection means to the caller: grpc-js says "No connection
 * established. Last error: ... Resolution note: ..."; this says which address
 * was tried and that no node answered there, or, when something answered but
 * the connection failed (TLS), grpc-js's last error. Other details pass unchanged.
 */
function connectionDetails(details: string, endpoint: string): string {
  if (/^Name resolution failed/.test(details)) return `cannot resolve the host of ${endpoint}: no mbdir node answered there`;
  if (!/^No connection established/.test(details)) return details;
  const lastError = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(details)?.[1]?.trim() ?? '';
  const code = /^connect (E[A-Z]+) /.exec(lastError)?.[1];
  if (code !== undefined) return `no mbdir node answered at ${endpoint} (${connectFailures[code] ?? code})`;
  if (lastError === '' || lastError === 'null') return `no mbdir node answered at ${endpoint}`;
  return `could not connect to ${endpoint}: ${lastError.replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, '').replace(/\s+/g, ' ').trim()}`;
}

/** `error` as a ClientError when grpc-js reported a status, else as it is. */
export function toClientError(error: unknown, endpoint: string): Error {
  const service = error as Partial<grpc.ServiceError>;
  if (typeof service.code === 'number') {
    const details = service.code === grpc.status.UNAVAILABLE ? connectionDetails(service.details ?? '', endpoint) : service.details ?? '';
    return new ClientError(service.code, grpc.status[service.code] ?? String(service.code), details);
  }
  return error instanceof Error ? error : new Error(String(error));
}
