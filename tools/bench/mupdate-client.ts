/**
 * A MUPDATE client over TCP for the bench and the interop tests: logs in with
 * SASL PLAIN (initial response), then sends tagged commands, any number in
 * flight on one connection (the server answers them in order), and follows
 * an UPDATE stream. It speaks to mbdir's adapter and to Cyrus's own mupdate
 * master alike. Bounds: the parser's (mupdate-wire.ts), and commands in flight
 * up to `mupdateInFlightMax`; a dead or silent server rejects every waiter.
 */
import { connect, type Socket } from 'node:net';
import { encodeCommand, parseResponse, plainResponse, type MupdateResponse } from './mupdate-wire.js';

/** Commands sent and not yet answered on one connection, at most. */
export const mupdateInFlightMax = 100_000;
/** close() waits this long for LOGOUT's answer. */
const mupdateLogoutWaitMs = 2_000;
/** The banner and the login must come within this. */
const mupdateLoginTimeoutMs = 60_000;

export interface MupdateEntry {
  kind: 'MAILBOX' | 'RESERVE' | 'DELETE';
  name: string;
  location?: string;
  acl?: string;
}

interface Pending {
  tag: string;
  data: MupdateResponse[];
  resolve: (result: { data: MupdateResponse[]; final: MupdateResponse }) => void;
  reject: (error: Error) => void;
  /** Streaming (UPDATE): data lines go here as they come, also after the OK. */
  onData?: (response: MupdateResponse) => void;
}

export class MupdateClient {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  private readonly pending: Pending[] = [];
  private readonly streams = new Map<string, (response: MupdateResponse) => void>();
  private tagCounter = 0;
  private failure: Error | null = null;
  private bannerWaiter: ((banner: string[]) => void) | null = null;
  private readonly bannerLines: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('MUPDATE connection closed')));
  }

  /** Connects to `HOST:PORT`, reads the banner and authenticates with PLAIN. */
  static async open(address: string, authname: string, password: string): Promise<MupdateClient> {
    const colon = address.lastIndexOf(':');
    const socket = connect({ host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) });
    const client = new MupdateClient(socket);
    const timer = setTimeout(() => client.fail(new Error(`no MUPDATE banner and login from ${address} in ${mupdateLoginTimeoutMs} ms`)), mupdateLoginTimeoutMs);
    try {
      await client.banner();
      const answer = await client.raw('AUTHENTICATE', ['PLAIN', plainResponse(authname, password)], true);
      if (answer.final.keyword !== 'OK') throw new Error(`MUPDATE login as ${authname} refused: ${answer.final.args.join(' ')}`);
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Sends a command; resolves with its data lines and its tagged OK/NO/BAD. */
  send(command: string, args: readonly string[]): Promise<{ data: MupdateResponse[]; final: MupdateResponse }> {
    return this.raw(command, args, false);
  }

  /** FIND: the entries the server holds under exactly that name (none, or one). */
  async find(name: string): Promise<MupdateEntry[]> {
    const answer = await this.expectOk('FIND', [name]);
    return answer.map(entryOf);
  }

  /** LIST, optionally of one `server!` prefix. */
  async list(prefix?: string): Promise<MupdateEntry[]> {
    return (await this.expectOk('LIST', prefix === undefined ? [] : [prefix])).map(entryOf);
  }

  /** A write (ACTIVATE, RESERVE, DELETE, DEACTIVATE); resolves with the final response (OK or NO). */
  async write(command: string, args: readonly string[]): Promise<MupdateResponse> {
    return (await this.send(command, args)).final;
  }

  /** Starts UPDATE: `onEntry` gets the dump, then every change; resolves when streaming starts. */
  async update(onEntry: (entry: MupdateEntry) => void, servers: readonly string[] = []): Promise<void> {
    const tag = `U${++this.tagCounter}`;
    this.streams.set(tag, (response) => onEntry(entryOf(response)));
    const answer = await this.raw('UPDATE', servers, false, tag);
    if (answer.final.keyword !== 'OK') throw new Error(`UPDATE refused: ${answer.final.args.join(' ')}`);
  }

  async noop(): Promise<void> {
    await this.expectOk('NOOP', []);
  }

  /** LOGOUT (waiting at most `mupdateLogoutWaitMs` for its answer), then the socket is destroyed. */
  async close(): Promise<void> {
    if (this.failure === null) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, mupdateLogoutWaitMs)));
      try {
        await Promise.race([this.send('LOGOUT', []).then(() => undefined), late]);
      } catch {
        // Gone already.
      } finally {
        clearTimeout(timer);
      }
    }
    this.socket.destroy();
  }

  private async expectOk(command: string, args: readonly string[]): Promise<MupdateResponse[]> {
    const answer = await this.send(command, args);
    if (answer.final.keyword !== 'OK') throw new Error(`${command} ${args.join(' ')}: ${answer.final.keyword} ${answer.final.args.join(' ')}`);
    return answer.data;
  }

  private raw(command: string, args: readonly string[], quoted: boolean, tagGiven?: string): Promise<{ data: MupdateResponse[]; final: MupdateResponse }> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.pending.length >= mupdateInFlightMax) return Promise.reject(new Error(`more than ${mupdateInFlightMax} MUPDATE commands in flight`));
    const tag = tagGiven ?? `X${++this.tagCounter}`;
    return new Promise((resolve, reject) => {
      this.pending.push({ tag, data: [], resolve, reject });
      const bytes = quoted ? Buffer.from(`${tag} ${command} ${args.map((arg) => `"${arg}"`).join(' ')}\r\n`) : encodeCommand(tag, command, args);
      this.socket.write(bytes);
    });
  }

  private banner(): Promise<string[]> {
    if (this.bannerLines.some((line) => line.startsWith('OK'))) return Promise.resolve(this.bannerLines);
    return new Promise((resolve, reject) => {
      this.bannerWaiter = resolve;
      this.pending.push({ tag: '*banner*', data: [], resolve: () => undefined, reject });
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.offset === this.buffer.length ? chunk : Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    this.offset = 0;
    try {
      for (;;) {
        const parsed = parseResponse(this.buffer, this.offset);
        if (parsed === null) break;
        this.offset = parsed.next;
        this.dispatch(parsed.response);
      }
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
    }
  }

  private dispatch(response: MupdateResponse): void {
    if (response.tag === '*') {
      this.bannerLines.push([response.keyword, ...response.args].join(' '));
      if (response.keyword === 'OK' && this.bannerWaiter !== null) {
        this.pending.shift();
        this.bannerWaiter(this.bannerLines);
        this.bannerWaiter = null;
      }
      return;
    }
    const head = this.pending[0];
    const isFinal = response.keyword === 'OK' || response.keyword === 'NO' || response.keyword === 'BAD';
    if (head !== undefined && head.tag === response.tag) {
      if (!isFinal) {
        head.data.push(response);
        this.streams.get(response.tag)?.(response);
        return;
      }
      this.pending.shift();
      head.resolve({ data: head.data, final: response });
      return;
    }
    // A stream's line after its OK (UPDATE), or a line for no waiter.
    this.streams.get(response.tag)?.(response);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.splice(0)) waiter.reject(this.failure);
  }
}

function entryOf(response: MupdateResponse): MupdateEntry {
  const [name = '', location, acl] = response.args;
  const kind = response.keyword as MupdateEntry['kind'];
  if (kind === 'MAILBOX') return { kind, name, location: location ?? '', acl: acl ?? '' };
  if (kind === 'RESERVE') return { kind, name, location: location ?? '' };
  return { kind, name };
}
