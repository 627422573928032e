/**
 * A tiny IMAP client over node:net for the interop tests: one connection, one
 * tagged command at a time, the untagged lines it drew and the tagged status.
 * It reads the server's literals ({n} at a line end) so LIST answers with odd
 * names parse; lines and literals are bounded, and every command times out,
 * so a silent server fails the test instead of hanging it.
 */
import { connect, type Socket } from 'node:net';

/** A response line (or literal) longer than this fails the command. */
const imapLineBytesMax = 1024 * 1024;
/** A command that draws no tagged answer within this fails. */
const imapCommandTimeoutMs = 15_000;

export interface ImapResponse {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line's text after the status. */
  text: string;
  /** Untagged lines (without `* `), literals joined in. */
  untagged: string[];
}

export class ImapClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private closed: Error | null = null;
  private tagCounter = 0;
  /** The greeting line (without `* `). */
  greeting = '';

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', (error) => {
      this.closed = error;
      this.wake();
    });
    socket.on('close', () => {
      this.closed ??= new Error('IMAP connection closed');
      this.wake();
    });
  }

  /** Connects and reads the greeting. */
  static async open(host: string, port: number): Promise<ImapClient> {
    const socket = connect({ host, port });
    const client = new ImapClient(socket);
    client.greeting = (await client.readLine(Date.now() + imapCommandTimeoutMs)).replace(/^\* /, '');
    return client;
  }

  /** Connects, logs in with LOGIN and returns the client. */
  static async login(host: string, port: number, user: string, password: string): Promise<ImapClient> {
    const client = await ImapClient.open(host, port);
    const answer = await client.command(`LOGIN ${quoted(user)} ${quoted(password)}`);
    if (answer.status !== 'OK') throw new Error(`LOGIN ${user} failed: ${answer.status} ${answer.text}`);
    return client;
  }

  /** Sends one command (without tag) and resolves with its tagged answer. */
  async command(text: string): Promise<ImapResponse> {
    const tag = `t${++this.tagCounter}`;
    this.socket.write(`${tag} ${text}\r\n`);
    const deadline = Date.now() + imapCommandTimeoutMs;
    const untagged: string[] = [];
    for (;;) {
      const line = await this.readLine(deadline);
      if (line.startsWith(`${tag} `)) {
        const match = /^\S+ (OK|NO|BAD)\s?(.*)$/.exec(line);
        if (match === null) throw new Error(`unexpected tagged line: ${line}`);
        return { status: match[1] as ImapResponse['status'], text: match[2] ?? '', untagged };
      }
      if (line.startsWith('* ')) untagged.push(line.slice(2));
    }
  }

  /** Mailbox names of a LIST answer (the last argument, unquoted). */
  async list(reference: string, pattern: string): Promise<string[]> {
    const answer = await this.command(`LIST ${quoted(reference)} ${quoted(pattern)}`);
    if (answer.status !== 'OK') throw new Error(`LIST failed: ${answer.status} ${answer.text}`);
    return answer.untagged.filter((line) => line.startsWith('LIST ')).map(listName);
  }

  async close(): Promise<void> {
    if (this.closed === null) {
      try {
        await this.command('LOGOUT');
      } catch {
        // Already gone: nothing to log out of.
      }
    }
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private async waitForData(deadline: number): Promise<void> {
    if (this.closed !== null) throw this.closed;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`IMAP server did not answer within ${imapCommandTimeoutMs} ms`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, remaining);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One logical line: a CRLF line, with any literal it announces read in and joined. */
  private async readLine(deadline: number): Promise<string> {
    let line = '';
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) {
        if (this.buffer.length > imapLineBytesMax) throw new Error(`IMAP line longer than ${imapLineBytesMax} bytes`);
        await this.waitForData(deadline);
        continue;
      }
      const part = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(part);
      if (literal === null) return line + part;
      const size = Number(literal[1]);
      if (size > imapLineBytesMax) throw new Error(`IMAP literal of ${size} bytes is over ${imapLineBytesMax}`);
      while (this.buffer.length < size) await this.waitForData(deadline);
      line += part.slice(0, part.length - literal[0].length) + JSON.stringify(this.buffer.subarray(0, size).toString('utf8'));
      this.buffer = this.buffer.subarray(size);
    }
  }
}

/** An IMAP quoted string. */
export function quoted(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** The mailbox name at the end of `LIST (flags) "sep" name`. */
function listName(line: string): string {
  const match = /^LIST \([^)]*\) (?:"[^"]*"|NIL) (.*)$/.exec(line);
  const name = match?.[1] ?? '';
  return name.startsWith('"') ? (JSON.parse(name) as string) : name;
}
