/**
 * A raw MUPDATE client for tests: a TCP socket to a node's MUPDATE port, what
 * it received kept as text, and waits for a tagged answer or any pattern. It
 * sends bytes exactly as given, so tests speak Cyrus's own forms (`{n+}`
 * literals, quoted strings) and hostile ones. `close()` always ends the socket.
 */
import { connect, type Socket } from 'node:net';
import type { ServerProcess } from './server-process.js';

/** The MUPDATE port a node printed (`serving MUPDATE on HOST:PORT`). */
export function mupdatePort(node: ServerProcess): number {
  const match = /serving MUPDATE on \S+:(\d+)/.exec(node.stdout());
  if (match?.[1] === undefined) throw new Error(`the node printed no MUPDATE line: ${node.stdout()}`);
  return Number(match[1]);
}

/** `{n+}` literal of a string, as Cyrus clients send them. */
export const literal = (text: string): string => `{${Buffer.byteLength(text)}+}\r\n${text}`;

/** SASL PLAIN initial response for `password` (what mupdate_password carries). */
export const plain = (password: string, user = 'admin'): string => Buffer.from(`${user}\0${user}\0${password}`).toString('base64');

export class MupdateClient {
  received = '';
  closed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('utf8');
      for (const listener of this.listeners) listener();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const listener of this.listeners) listener();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<MupdateClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new MupdateClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects, waits for the banner, and logs in with `password` (a token; anything without --tokens). */
  static async login(port: number, password = 'pw'): Promise<MupdateClient> {
    const client = await MupdateClient.connect(port);
    await client.waitFor(/\* OK MUPDATE .*\r\n/);
    await client.command('A01', `AUTHENTICATE "PLAIN" ${literal(plain(password))}`);
    return client;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Resolves with everything received once `pattern` matches it; rejects after `timeoutMs` naming what came. */
  waitFor(pattern: RegExp | ((text: string) => boolean), timeoutMs = 5000): Promise<string> {
    const matches = (): boolean => (typeof pattern === 'function' ? pattern(this.received) : pattern.test(this.received));
    if (matches()) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (matches()) {
          done();
          resolve(this.received);
        } else if (this.closed) {
          done();
          reject(new Error(`connection closed before ${String(pattern)}; received:\n${this.received.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${String(pattern)}; received:\n${this.received.slice(-2000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Sends `TAG TEXT\r\n` and resolves with the lines received from then until the tagged OK/NO/BAD. */
  async command(tag: string, text: string, timeoutMs = 5000): Promise<string> {
    const start = this.received.length;
    this.send(`${tag} ${text}\r\n`);
    const answer = new RegExp(`(^|\\n)${tag} (OK|NO|BAD)( .*)?\\r\\n`);
    await this.waitFor((received) => answer.test(received.slice(start)), timeoutMs);
    return this.received.slice(start);
  }

  close(): void {
    this.socket.destroy();
  }
}
