/**
 * A minimal IMAP and POP3 backend for proxy tests, and a line client. The
 * backend greets, takes a LOGIN (with the synchronizing literals nginx sends:
 * `a1 LOGIN {5}`, `+`, `alice {6}`, `+`, `secret`) or USER/PASS, and says in
 * its OK which backend it is and what login and password it received, so a
 * test sees where a proxy sent the client. It accepts every password.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface MailBackend {
  name: string;
  imapAddress: string;
  pop3Address: string;
  close(): Promise<void>;
}

/** Longest line either side of these helpers buffers. */
const lineBytesMax = 8192;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts a backend named `name` on two loopback ports (IMAP, POP3). */
export async function startMailBackend(name: string): Promise<MailBackend> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const imap = createServer((socket) => {
    track(socket);
    serveImap(socket, name);
  });
  const pop3 = createServer((socket) => {
    track(socket);
    servePop3(socket, name);
  });
  const imapAddress = await listen(imap);
  const pop3Address = await listen(pop3);
  return {
    name,
    imapAddress,
    pop3Address,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([imap, pop3].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}

function serveImap(socket: Socket, name: string): void {
  socket.write(`* OK [CAPABILITY IMAP4rev1] ${name} ready\r\n`);
  let buffer = Buffer.alloc(0);
  let literalBytes = -1;
  let parts: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (buffer.length > lineBytesMax) socket.destroy();
    for (;;) {
      if (literalBytes >= 0) {
        if (buffer.length < literalBytes) return;
        parts.push(`"${buffer.subarray(0, literalBytes).toString('utf8')}"`);
        buffer = buffer.subarray(literalBytes);
        literalBytes = -1;
        continue;
      }
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.subarray(0, end).toString('utf8');
      buffer = buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal?.[1] !== undefined) {
        parts.push(line.slice(0, literal.index));
        literalBytes = Number(literal[1]);
        socket.write('+ go ahead\r\n');
        continue;
      }
      parts.push(line);
      answerImap(socket, name, parts.join(''));
      parts = [];
    }
  });
}

/** Splits `tag COMMAND arg arg` where args are atoms or "quoted" (no escapes: test input only). */
function imapWords(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}

function answerImap(socket: Socket, name: string, command: string): void {
  const [tag = '*', verb = '', user = '', password = ''] = imapWords(command);
  switch (verb.toUpperCase()) {
    case 'LOGIN':
      socket.write(`${tag} OK [${name}] logged in user=${user} pass=${password}\r\n`);
      return;
    case 'LOGOUT':
      socket.end(`* BYE ${name}\r\n${tag} OK LOGOUT completed\r\n`);
      return;
    default:
      socket.write(`${tag} BAD ${name} knows LOGIN and LOGOUT only\r\n`);
  }
}

function servePop3(socket: Socket, name: string): void {
  socket.write(`+OK ${name} POP3 ready\r\n`);
  let user = '';
  readLines(socket, (line) => {
    const [verb = '', ...rest] = line.split(' ');
    const argument = rest.join(' ');
    if (verb.toUpperCase() === 'USER') {
      user = argument;
      socket.write('+OK\r\n');
    } else if (verb.toUpperCase() === 'PASS') {
      socket.write(`+OK [${name}] logged in user=${user} pass=${argument}\r\n`);
    } else if (verb.toUpperCase() === 'QUIT') {
      socket.end(`+OK ${name} bye\r\n`);
    } else {
      socket.write(`-ERR ${name} knows USER, PASS and QUIT only\r\n`);
    }
  });
}

function readLines(socket: Socket, onLine: (line: string) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > lineBytesMax) socket.destroy();
    let end = buffer.indexOf('\r\n');
    while (end >= 0) {
      onLine(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\r\n');
    }
  });
}

/** A client that sends lines and waits for the next line received, with a deadline. */
export class LineClient {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    readLines(socket, (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => socket.destroy());
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new LineClient(socket));
      });
      socket.once('error', reject);
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** The next line, or an error naming what was awaited when none comes within `timeoutMs` (or the peer closed). */
  async next(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed before a line arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.lines.shift() as string;
  }

  /** Resolves when the peer has closed the connection, or rejects after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection still open after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
