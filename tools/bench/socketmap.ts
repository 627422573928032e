/**
 * The socketmap side of `mbdir bench run`: a client connection as Postfix
 * holds one (persistent, one request at a time), and the transport's floor, a
 * bare netstring echo server (`mbdir bench socketmap-echo`) that answers every
 * request with one canned reply taken from the node in the same run, through
 * the same parser and encoder as the node. What the echo costs is what the
 * socket and the framing cost; the node's figure is reported against it.
 */
import * as net from 'node:net';
import { limits } from '../../src/model/limits.js';
import { encodeNetstring, NetstringParser } from '../../src/model/netstring.js';
import { userId } from './generate.js';
import type { RequestPicker } from './load.js';

/** The local domain the bench's node is told about: requests are `uNNN+bench@bench.example`. */
export const benchLocalDomain = 'bench.example';

/** A transport request for a user of the generated directory, with an extension to strip. */
export function socketmapRequest(picker: RequestPicker): string {
  return `transport ${userId(picker.userIndex())}+bench@${benchLocalDomain}`;
}

function hostPortOf(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/** One persistent socketmap connection; one request at a time, as Postfix sends them. */
export class SocketmapConnection {
  private readonly waiting: Array<{ resolve: (reply: string) => void; reject: (error: Error) => void }> = [];
  private readonly parser = new NetstringParser(limits.socketmapReplyBytesMax);

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk, (payload) => this.waiting.shift()?.resolve(payload.toString('utf8')));
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('close', () => this.fail(new Error('socketmap connection closed')));
    socket.on('error', (error) => this.fail(error));
  }

  static open(address: string): Promise<SocketmapConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ ...hostPortOf(address), noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new SocketmapConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  request(payload: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encodeNetstring(payload));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/** The bare netstring echo: every request answered with `reply`. Prints `serving socketmap-echo on HOST:PORT`. */
export async function runSocketmapEcho(reply: string, listen: string): Promise<void> {
  const framed = encodeNetstring(reply);
  const server = net.createServer({ noDelay: true }, (socket) => {
    const parser = new NetstringParser(limits.socketmapQueryBytesMax);
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk, () => socket.write(framed));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(hostPortOf(listen), resolve));
  const { address, port } = server.address() as net.AddressInfo;
  process.stdout.write(`mbdir bench serving socketmap-echo on ${address}:${port}\n`);
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
