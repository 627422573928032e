/**
 * One MUPDATE connection: owns the socket, the parser, the login state, the
 * idle timeout and back-pressure both ways. Commands run one at a time in
 * arrival order; reads (FIND, LIST) answer in the same turn, so pipelined reads
 * never wait per line. Reading stops while `pipelinedCommandsMax` commands wait
 * or the socket holds `socketBufferBytesMax` unsent bytes. A client that ends
 * its input (half-close) still gets the answers to every command already read,
 * in order, then the connection closes; an UPDATE follower's is closed at once.
 * It never decides a mailbox rule: commands map to Directory calls
 * (commands.ts), errors to answers through the one table (errors.ts).
 */
import type { Socket } from 'node:net';
import type { Directory } from '../../directory/directory.js';
import type { WatchSubscription } from '../../directory/watch.js';
import type { Logger } from '../../logging.js';
import { DirectoryError } from '../../model/errors.js';
import { limits } from '../../model/limits.js';
import type { Principal } from '../auth/roles.js';
import { isKnownCommand, runCommand, type CommandContext } from './commands.js';
import { answerForError } from './errors.js';
import { MupdateParser, type ParseEvent, type ParserLimits } from './parser.js';
import type { RateLimitedLog } from '../rate-limited-log.js';
import { decodePlain } from './sasl-plain.js';
import type { UpdateFollower } from './update-stream.js';
import type { ResponseWriter } from './writer.js';

export interface SessionOptions {
  directory: Directory;
  writer: ResponseWriter;
  logger: Logger;
  /** The principal holding a token (the SASL PLAIN password); throws Unauthenticated. */
  principalOf(password: string): Principal;
  parserLimits: ParserLimits;
  idleMs: number;
  pipelinedCommandsMax: number;
  socketBufferBytesMax: number;
  pendingNamesMax: number;
  updateServersMax: number;
  /** The banner's host name. */
  host: string;
  version: string;
  /** Told each command's outcome once answered: ok, or error (answered NO or BAD from the error table). */
  onCommand?: (command: string, result: 'ok' | 'error') => void;
  /** Rate-limited warnings about refused clients (one per kind per interval). */
  refusals: RateLimitedLog;
}

export class MupdateSession {
  private readonly parser: MupdateParser;
  private readonly queue: ParseEvent[] = [];
  private running = false;
  private closed = false;
  private readingPaused = false;
  /** The client ended its input: the session closes once the queued commands are answered. */
  private inputEnded = false;
  /** Set as soon as an AUTHENTICATE is parsed, so the parser knows the next line may be a SASL response. */
  private authenticating = false;
  /** The AUTHENTICATE waiting for its SASL response line. */
  private saslTag: string | null = null;
  principal: Principal | null = null;
  follower: UpdateFollower | null = null;
  subscription: WatchSubscription | null = null;
  private drainWaiters: Array<() => void> = [];
  private outgoing = '';
  private flushScheduled = false;

  constructor(
    readonly socket: Socket,
    readonly options: SessionOptions,
    private readonly onClose: (session: MupdateSession) => void,
  ) {
    this.parser = new MupdateParser(options.parserLimits, (event) => this.onEvent(event));
  }

  start(): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleMs);
    socket.on('timeout', () => {
      this.options.logger.info({ remote: socket.remoteAddress, idleMs: this.options.idleMs }, 'mupdate connection idle; closing');
      this.close();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => this.onEnd());
    this.write(this.options.writer.banner(this.options.host, this.options.version));
  }

  /**
   * Queues text for the socket; false once socketBufferBytesMax bytes wait unsent.
   * What one turn writes (the answers to a chunk of pipelined reads) leaves in one
   * socket write, not one per line.
   */
  write(text: string): boolean {
    if (this.closed) return false;
    this.outgoing += text;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flushOutgoing());
    }
    return this.unsentBytes() < this.options.socketBufferBytesMax;
  }

  private flushOutgoing(): void {
    this.flushScheduled = false;
    if (this.outgoing === '' || this.socket.destroyed) return;
    const text = this.outgoing;
    this.outgoing = '';
    this.socket.write(text);
  }

  /** Bytes written and not yet sent (the queued text counted in UTF-16 units: close enough for a bound). */
  private unsentBytes(): number {
    return this.socket.writableLength + this.outgoing.length;
  }

  /** Resolves once the socket has room again (at once if it has). */
  waitForRoom(): Promise<void> {
    if (this.flushScheduled && this.unsentBytes() >= this.options.socketBufferBytesMax) this.flushOutgoing();
    // Checked after the flush: a socket that took the whole text at once has no 'drain' to wait for.
    if (this.closed || this.unsentBytes() < this.options.socketBufferBytesMax) return Promise.resolve();
    // A command waiting here (LIST) holds the pump: input must not pile up behind it meanwhile.
    this.pauseReading();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Ends the connection after what was written; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.stop();
    this.subscription?.close();
    this.subscription = null;
    this.queue.length = 0;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.flushOutgoing();
    if (!this.socket.destroyed) this.socket.end();
    // A peer that never reads cannot hold the socket open: destroy after a grace period.
    setTimeout(() => this.socket.destroy(), limits.mupdateCloseGraceMs).unref();
    this.onClose(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  /** The client's half-close (the listener allows it): the socket stays writable for the answers still due. */
  private onEnd(): void {
    if (this.follower !== null) {
      this.close();
      return;
    }
    this.inputEnded = true;
    this.parser.stop();
    this.closeIfAnswered();
  }

  /** Closes a session whose client ended its input once nothing is queued or running. */
  private closeIfAnswered(): void {
    if (this.inputEnded && !this.running && this.queue.length === 0) this.close();
  }

  private onDrain(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    if (this.follower !== null) {
      this.subscription?.drained();
      this.follower.resume();
    }
    this.resumeReading();
  }

  private onEvent(event: ParseEvent): void {
    if (event.kind === 'command') this.prepareFor(event);
    this.queue.push(event);
    if (this.queue.length >= this.options.pipelinedCommandsMax) this.pauseReading();
    void this.pump();
  }

  /** Decisions the parser needs before the next byte: a SASL response line follows, or nothing does. */
  private prepareFor(event: Extract<ParseEvent, { kind: 'command' }>): void {
    if (event.name === 'LOGOUT') {
      this.parser.stop();
      return;
    }
    if (event.name !== 'AUTHENTICATE' || this.authenticating || this.principal !== null) return;
    this.authenticating = true;
    const mechanism = event.args[0]?.toUpperCase();
    if (event.args.length === 1 && mechanism === 'PLAIN') this.parser.expectRawLine();
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readingPaused || this.closed) return;
    if (this.queue.length >= this.options.pipelinedCommandsMax / 2) return;
    if (this.unsentBytes() >= this.options.socketBufferBytesMax) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  /** Runs queued events in order; awaits only writes and a full socket. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        if (this.unsentBytes() >= this.options.socketBufferBytesMax) {
          this.pauseReading();
          await this.waitForRoom();
          continue;
        }
        const event = this.queue.shift() as ParseEvent;
        const pending = this.handle(event);
        if (pending !== undefined) await pending;
        this.resumeReading();
      }
    } catch (error) {
      this.options.logger.error({ err: error }, 'mupdate session failed');
      this.close();
    } finally {
      this.running = false;
      this.closeIfAnswered();
    }
  }

  private handle(event: ParseEvent): Promise<void> | undefined {
    switch (event.kind) {
      case 'bad':
        this.write(this.options.writer.bad(event.tag, event.text));
        return undefined;
      case 'rawLine':
        return this.finishSasl(event.line);
      case 'goAhead':
        // In turn, after the answers to earlier commands: the client waits for it before sending the literal.
        this.write('+ go ahead\r\n');
        return undefined;
      case 'command':
        return this.command(event.tag, event.name, event.args);
      default:
        return undefined;
    }
  }

  private command(tag: string, name: string, args: string[]): Promise<void> | undefined {
    const writer = this.options.writer;
    if (name === 'LOGOUT') {
      // The parser stopped reading at LOGOUT: a malformed one also ends the connection.
      this.write(args.length > 0 ? writer.bad(tag, 'Extra arguments') : writer.ok(tag, 'bye-bye'));
      this.close();
      return undefined;
    }
    if (name === 'AUTHENTICATE') return this.authenticate(tag, args);
    if (this.principal === null) return this.answer(writer.bad(tag, 'Please login first'));
    const context: CommandContext = { session: this, directory: this.options.directory, principal: this.principal, tag };
    const observe = this.options.onCommand;
    const label = isKnownCommand(name) ? name : 'UNKNOWN';
    try {
      const result = runCommand(context, name, args);
      if (result === undefined) {
        observe?.(label, 'ok');
        return undefined;
      }
      return result.then(
        () => observe?.(label, 'ok'),
        (error: unknown) => {
          observe?.(label, 'error');
          this.fail(tag, name, error);
        },
      );
    } catch (error) {
      observe?.(label, 'error');
      this.fail(tag, name, error);
      return undefined;
    }
  }

  /** Answers a failed command through the error table. */
  fail(tag: string, command: string, error: unknown): void {
    this.write(answerForError(error, tag, command, this.options.writer, this.options.logger));
  }

  private answer(text: string): undefined {
    this.write(text);
    return undefined;
  }

  private authenticate(tag: string, args: string[]): Promise<void> | undefined {
    const writer = this.options.writer;
    if (this.principal !== null) return this.answer(writer.bad(tag, 'already authenticated'));
    if (args.length === 0) {
      this.authenticating = false;
      return this.answer(writer.bad(tag, 'Missing arguments'));
    }
    if (args.length > 2) {
      this.authenticating = false;
      return this.answer(writer.bad(tag, 'Extra arguments'));
    }
    if (args[0]?.toUpperCase() !== 'PLAIN') {
      this.authenticating = false;
      return this.answer(writer.no(tag, `mechanism ${String(args[0]).slice(0, 32)} is not supported; use PLAIN`));
    }
    const initial = args[1];
    if (initial === undefined) {
      this.saslTag = tag;
      this.write('\r\n'); // Cyrus's empty challenge: a bare CRLF
      return undefined;
    }
    this.login(tag, initial);
    return undefined;
  }

  private finishSasl(line: string | null): undefined {
    const tag = this.saslTag ?? '*';
    this.saslTag = null;
    this.authenticating = false;
    if (line === null) return this.answer(this.options.writer.bad(tag, 'SASL response too long'));
    if (line.trim() === '*') {
      return this.answer(`${tag} NO Client canceled authentication\r\n`); // unquoted, as Cyrus writes it
    }
    this.login(tag, line);
    return undefined;
  }

  private login(tag: string, response: string): void {
    this.authenticating = false;
    try {
      const credentials = decodePlain(response);
      this.principal = this.options.principalOf(credentials.password);
      this.options.logger.info(
        { remote: this.socket.remoteAddress, authcid: credentials.authcid.slice(0, 64), principal: this.principal.name },
        'mupdate login',
      );
      this.write(this.options.writer.ok(tag, 'Authenticated'));
    } catch (error) {
      if (!(error instanceof DirectoryError)) throw error;
      this.options.refusals.warn('mupdate login refused', { remote: this.socket.remoteAddress, reason: error.message });
      this.write(this.options.writer.no(tag, error.kind === 'Unauthenticated' ? 'authentication failure' : error.message));
    }
  }
}
