/**
 * The bench's nginx auth_http load and its floor. Each lookup is what nginx
 * sends (ngx_mail_auth_http_module.c): `GET /auth HTTP/1.0` with the Auth-*
 * headers on a new TCP connection, read until the server closes it. The floor
 * is a bare node:http server (`bench http-echo`, its own process) answering
 * every request with the node's own answer, byte for byte, on the same terms
 * (new connection, `Connection: close`): what HTTP over loopback costs alone.
 */
import { createServer } from 'node:http';
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';

/** An answer larger than nginx's buffer is not auth_http: the load stops reading and fails the call. */
const answerBytesMax = 4096;

/** nginx's request for one IMAP login of `user`. */
export function authHttpRequest(user: string): string {
  return (
    `GET /auth HTTP/1.0\r\nHost: localhost\r\nAuth-Method: plain\r\nAuth-User: ${user}\r\nAuth-Pass: bench%20password\r\n` +
    'Auth-Protocol: imap\r\nAuth-Login-Attempt: 1\r\nClient-IP: 192.0.2.1\r\nClient-Host: [UNAVAILABLE]\r\n\r\n'
  );
}

/** One lookup on a new connection; resolves with the whole answer, rejects unless it says `Auth-Status: OK`. */
export function authHttpOnce(host: string, port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const socket = createConnection({ host, port, noDelay: true }, () => socket.end(request));
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > answerBytesMax) socket.destroy(new Error(`auth_http answer over ${answerBytesMax} bytes`));
      else chunks.push(chunk);
    });
    socket.on('end', () => {
      const answer = Buffer.concat(chunks);
      const head = answer.toString('latin1');
      if (head.includes('\r\nAuth-Status: OK\r\n')) resolve(answer);
      else reject(new Error(`auth_http refused: ${/Auth-Status: [^\r]*/.exec(head)?.[0] ?? head.slice(0, 80)}`));
    });
    socket.on('error', reject);
  });
}

/** The header lines of a raw answer, as [name, value] pairs, for the floor to send back. */
export function headersOfAnswer(answer: Buffer): Array<[string, string]> {
  const head = answer.toString('latin1');
  const end = head.indexOf('\r\n\r\n');
  return head
    .slice(0, end < 0 ? head.length : end)
    .split('\r\n')
    .slice(1)
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()] as [string, string];
    });
}

/** `bench http-echo`: answers every request with the headers in `file` (JSON pairs); prints `serving HTTP on HOST:PORT`. */
export async function runHttpEchoServer(file: string, listen: string): Promise<void> {
  const headers = (JSON.parse(readFileSync(file, 'utf8')) as Array<[string, string]>).flat();
  const server = createServer((_request, response) => {
    response.sendDate = false;
    response.writeHead(200, headers);
    response.end();
  });
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  await new Promise<void>((resolve) => server.listen({ host, port: Number(listen.slice(colon + 1)) }, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`serving HTTP on ${host}:${port}\n`);
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
