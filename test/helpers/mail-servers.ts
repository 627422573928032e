/**
 * Minimal mail servers for interop tests, standing in for backends: an LMTP
 * server that records what it receives, an IMAP server that accepts LOGIN and
 * says who it is, an SMTP client that sends one message step by step and
 * returns every reply, and a free loopback port. Bounded, loopback only; each
 * stops what it starts.
 */
import * as net from 'node:net';

export interface Delivery {
  from: string;
  recipients: string[];
  data: string;
}

export interface MailServer {
  port: number;
  close(): Promise<void>;
}

/** Reads CRLF lines from a socket, one at a time, with a bound on a line. */
function onLines(socket: net.Socket, handle: (line: string) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > 1_000_000) socket.destroy();
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      handle(line);
    }
  });
  socket.on('error', () => socket.destroy());
}

async function listen(server: net.Server): Promise<MailServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An LMTP server (RFC 2033) accepting every recipient; `deliveries` fills as messages arrive. */
export async function startLmtpServer(name: string): Promise<MailServer & { deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = net.createServer((socket) => {
    let current: Delivery = { from: '', recipients: [], data: '' };
    let inData = false;
    socket.write(`220 ${name} LMTP ready\r\n`);
    onLines(socket, (line) => {
      if (inData) {
        if (line !== '.') {
          current.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          return;
        }
        inData = false;
        deliveries.push(current);
        socket.write(current.recipients.map(() => '250 2.0.0 delivered\r\n').join(''));
        current = { from: '', recipients: [], data: '' };
        return;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'LHLO') socket.write(`250-${name}\r\n250 PIPELINING\r\n`);
      else if (verb === 'MAIL') {
        current.from = line.slice(10);
        socket.write('250 2.1.0 ok\r\n');
      } else if (verb === 'RCPT') {
        current.recipients.push(/<([^>]*)>/.exec(line)?.[1] ?? line);
        socket.write('250 2.1.5 ok\r\n');
      } else if (verb === 'DATA') {
        inData = true;
        socket.write('354 go ahead\r\n');
      } else if (verb === 'QUIT') socket.end('221 2.0.0 bye\r\n');
      else if (verb === 'RSET' || verb === 'NOOP') socket.write('250 2.0.0 ok\r\n');
      else socket.write('502 5.5.2 not here\r\n');
    });
  });
  return { ...(await listen(server)), deliveries };
}

/** An IMAP server that accepts any LOGIN, says `logged in to NAME as USER`, and records the logins. */
export async function startImapServer(name: string): Promise<MailServer & { logins: Array<{ user: string; password: string }> }> {
  const logins: Array<{ user: string; password: string }> = [];
  const server = net.createServer((socket) => {
    socket.write(`* OK [CAPABILITY IMAP4rev1] ${name} ready\r\n`);
    onLines(socket, (line) => {
      const [tag = '*', command = '', ...rest] = line.split(' ');
      const verb = command.toUpperCase();
      if (verb === 'CAPABILITY') socket.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`);
      else if (verb === 'LOGIN') {
        const [user = '', password = ''] = rest.map((word) => word.replace(/^"|"$/g, ''));
        logins.push({ user, password });
        socket.write(`${tag} OK [CAPABILITY IMAP4rev1] logged in to ${name} as ${user}\r\n`);
      } else if (verb === 'ID') socket.write(`* ID NIL\r\n${tag} OK done\r\n`);
      else if (verb === 'NOOP') socket.write(`${tag} OK noop on ${name}\r\n`);
      else if (verb === 'LOGOUT') socket.end(`* BYE\r\n${tag} OK bye\r\n`);
      else socket.write(`${tag} BAD unknown command\r\n`);
    });
  });
  return { ...(await listen(server)), logins };
}

/** A free loopback port (for programs that need a port in their configuration). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A line-based client conversation: sends each command and collects the reply
 * lines up to the one `done` accepts. Resolves with every reply; times out after `timeoutMs`.
 */
export async function converse(
  port: number,
  commands: string[],
  done: (line: string) => boolean,
  timeoutMs = 20_000,
): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const replies: string[] = [];
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  let failure = '';
  socket.on('error', (error) => (failure = ` (${String(error)})`));
  onLines(socket, (line) => {
    lines.push(line);
    wake?.();
  });
  const nextReply = async (): Promise<string> => {
    const collected: string[] = [];
    for (;;) {
      const line = lines.shift();
      if (line === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      collected.push(line);
      if (done(line)) return collected.join('\n');
    }
  };
  const timer = setTimeout(() => socket.destroy(new Error(`conversation timed out: ${replies.join(' | ')}`)), timeoutMs);
  try {
    const closed = new Promise<never>((_resolve, reject) => socket.once('close', () => reject(new Error(`connection closed${failure}: ${replies.join(' | ')}`))));
    replies.push(await Promise.race([nextReply(), closed]));
    for (const command of commands) {
      socket.write(`${command}\r\n`);
      replies.push(await Promise.race([nextReply(), closed]));
    }
    closed.catch(() => undefined);
    return replies;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** SMTP's last line of a reply: three digits and a space. */
export const smtpReplyDone = (line: string): boolean => /^\d{3} /.test(line);
