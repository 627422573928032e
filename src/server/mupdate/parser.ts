/**
 * The MUPDATE command parser (RFC 3656 as Cyrus 3.x speaks it): a byte-driven
 * state machine with no socket and no timer. `push(bytes)` may be fed any
 * chunking, one byte at a time included, and emits the same events. Arguments
 * are quoted strings or `{n}` / `{n+}` literals; every size is checked as the
 * bytes arrive (line, literal, argument count), so oversized input is refused,
 * never buffered. Every token must be valid UTF-8: a command holding one that
 * is not is read to its end (literals included) and refused as a whole, never
 * decoded lossily, so two different byte names cannot become one. The session
 * owns the socket and answers the events.
 */
import { isUtf8 } from 'node:buffer';

/** What the parser reports, in input order. */
export type ParseEvent =
  /** A whole command; `name` is upper case, `tag` as sent. */
  | { kind: 'command'; tag: string; name: string; args: string[] }
  /** Input that is not a command; `tag` is `*` when none was read. The rest of its line was discarded. */
  | { kind: 'bad'; tag: string; text: string }
  /** A synchronizing `{n}` literal within the limit: the client waits for `+ go ahead`. */
  | { kind: 'goAhead' }
  /** A raw line asked for by `expectRawLine` (a SASL response); null when it was too long. */
  | { kind: 'rawLine'; line: string | null };

export interface ParserLimits {
  lineBytesMax: number;
  literalBytesMax: number;
  argumentsMax: number;
}

type State =
  | 'tag'
  | 'command'
  | 'argStart'
  | 'quoted'
  | 'quotedEscape'
  | 'literalLength'
  | 'literalClose'
  | 'literalCr'
  | 'literalLf'
  | 'literalBody'
  | 'argEnd'
  | 'lineLf'
  | 'skipLine'
  | 'skipLiteral'
  | 'rawLine'
  | 'stopped';

const space = 0x20;
const cr = 0x0d;
const lf = 0x0a;
const quote = 0x22;
const backslash = 0x5c;
const braceOpen = 0x7b;
const braceClose = 0x7d;
const plus = 0x2b;
const digit0 = 0x30;
const digit9 = 0x39;
/** Digits of a literal length read at most (10 digits hold any 32-bit size). */
const literalDigitsMax = 10;
const noBytes = Buffer.alloc(0);
const notUtf8 = 'string is not valid UTF-8';

export class MupdateParser {
  private state: State = 'tag';
  /** Bytes of the current line outside literal bodies (tag, command, quoted strings, literal headers). */
  private lineBytes = 0;
  /** The current token's bytes (tag, command word, quoted string, raw line), at most lineBytesMax. */
  private readonly scratch: Buffer;
  private scratchLength = 0;
  private tag = '';
  private name = '';
  private args: string[] = [];
  private literalLength = 0;
  private literalDigits = 0;
  private literalPlus = false;
  private literal: Buffer = noBytes;
  private literalOffset = 0;
  private skipRemaining = 0;
  /** A token of the current line was not valid UTF-8: the command is refused once read to its end. */
  private notUtf8 = false;

  constructor(
    private readonly limits: ParserLimits,
    private readonly emit: (event: ParseEvent) => void,
  ) {
    this.scratch = Buffer.allocUnsafe(limits.lineBytesMax);
  }

  /** The next line is a raw line (a SASL response), not a command. Call from `emit` or between pushes. */
  expectRawLine(): void {
    this.resetLine();
    this.state = 'rawLine';
  }

  /** Ignores all further input (after LOGOUT, or once the session closes). */
  stop(): void {
    this.state = 'stopped';
  }

  /** Feeds bytes; emits every event they complete, in order. */
  push(bytes: Uint8Array): void {
    let index = 0;
    while (index < bytes.length) {
      if (this.state === 'stopped') return;
      if (this.state === 'literalBody') {
        index = this.copyLiteral(bytes, index);
        continue;
      }
      if (this.state === 'skipLiteral') {
        const taken = Math.min(this.skipRemaining, bytes.length - index);
        this.skipRemaining -= taken;
        index += taken;
        if (this.skipRemaining === 0) this.state = 'skipLine';
        continue;
      }
      this.step(bytes[index] as number);
      index += 1;
    }
  }

  private copyLiteral(bytes: Uint8Array, index: number): number {
    const taken = Math.min(this.literalLength - this.literalOffset, bytes.length - index);
    this.literal.set(bytes.subarray(index, index + taken), this.literalOffset);
    this.literalOffset += taken;
    if (this.literalOffset === this.literalLength) {
      this.args.push(this.decode(this.literal));
      this.state = 'argEnd';
    }
    return index + taken;
  }

  private step(byte: number): void {
    if (this.state === 'skipLine') {
      if (byte === lf) this.resetLine();
      return;
    }
    if (this.state !== 'rawLine' && byte !== lf && byte !== cr) {
      this.lineBytes += 1;
      if (this.lineBytes > this.limits.lineBytesMax) {
        this.fail(`line longer than the limit of ${this.limits.lineBytesMax} bytes (literals apart)`);
        return;
      }
    }
    switch (this.state) {
      case 'tag':
        return this.stepTag(byte);
      case 'command':
        return this.stepCommand(byte);
      case 'argStart':
        return this.stepArgStart(byte);
      case 'quoted':
        return this.stepQuoted(byte);
      case 'quotedEscape':
        this.keep(byte);
        this.state = 'quoted';
        return;
      case 'literalLength':
        return this.stepLiteralLength(byte);
      case 'literalClose':
        if (byte === braceClose) this.state = 'literalCr';
        else this.fail('Badly formed arguments');
        return;
      case 'literalCr':
        if (byte === cr) this.state = 'literalLf';
        else this.fail('Badly formed arguments');
        return;
      case 'literalLf':
        return this.stepLiteralLf(byte);
      case 'argEnd':
        return this.stepArgEnd(byte);
      case 'lineLf':
        if (byte === lf) this.finishCommand();
        else this.fail('Badly formed arguments');
        return;
      case 'rawLine':
        return this.stepRawLine(byte);
      default:
        return;
    }
  }

  private stepTag(byte: number): void {
    if (byte === space) {
      this.tag = this.take();
      this.state = 'command';
    } else if (byte === lf) {
      this.resetLine();
      this.emit({ kind: 'bad', tag: '*', text: 'Need command' });
    } else if (byte !== cr) {
      this.keep(byte);
    }
  }

  private stepCommand(byte: number): void {
    if (byte !== space && byte !== cr && byte !== lf) {
      this.keep(byte);
      return;
    }
    this.name = this.take().toUpperCase();
    if (this.name === '' && !this.notUtf8) {
      this.failOn(byte, 'Null command');
      return;
    }
    if (byte === space) this.state = 'argStart';
    else if (byte === cr) this.state = 'lineLf';
    else this.finishCommand();
  }

  private stepArgStart(byte: number): void {
    if (this.args.length >= this.limits.argumentsMax) {
      this.failOn(byte, `more than ${this.limits.argumentsMax} arguments`);
    } else if (byte === quote) {
      this.state = 'quoted';
    } else if (byte === braceOpen) {
      this.literalLength = 0;
      this.literalDigits = 0;
      this.literalPlus = false;
      this.state = 'literalLength';
    } else {
      this.failOn(byte, 'Badly formed arguments');
    }
  }

  private stepQuoted(byte: number): void {
    if (byte === quote) {
      this.args.push(this.take());
      this.state = 'argEnd';
    } else if (byte === backslash) {
      this.state = 'quotedEscape';
    } else if (byte === cr || byte === lf) {
      this.failOn(byte, 'Badly formed arguments');
    } else {
      this.keep(byte);
    }
  }

  private stepLiteralLength(byte: number): void {
    if (byte >= digit0 && byte <= digit9 && this.literalDigits < literalDigitsMax) {
      this.literalLength = this.literalLength * 10 + (byte - digit0);
      this.literalDigits += 1;
    } else if (byte === plus && this.literalDigits > 0) {
      this.literalPlus = true;
      this.state = 'literalClose';
    } else if (byte === braceClose && this.literalDigits > 0) {
      this.state = 'literalCr';
    } else {
      this.failOn(byte, 'Badly formed arguments');
    }
  }

  private stepLiteralLf(byte: number): void {
    if (byte !== lf) {
      this.fail('Badly formed arguments');
      return;
    }
    const length = this.literalLength;
    if (length > this.limits.literalBytesMax) {
      const text = `literal of ${length} bytes is larger than the limit of ${this.limits.literalBytesMax}`;
      const tag = this.tag;
      if (this.literalPlus) {
        // The client sends the bytes anyway: skip them (never buffered), then the rest of the line.
        this.skipRemaining = length;
        this.state = length > 0 ? 'skipLiteral' : 'skipLine';
      } else {
        // A synchronizing literal refused: the client sends nothing more of this command.
        this.resetLine();
      }
      this.emit({ kind: 'bad', tag, text });
      return;
    }
    if (!this.literalPlus) this.emit({ kind: 'goAhead' });
    this.literal = Buffer.allocUnsafe(length);
    this.literalOffset = 0;
    if (length === 0) {
      this.args.push('');
      this.state = 'argEnd';
    } else {
      this.state = 'literalBody';
    }
  }

  private stepArgEnd(byte: number): void {
    if (byte === space) this.state = 'argStart';
    else if (byte === cr) this.state = 'lineLf';
    else if (byte === lf) this.finishCommand();
    else this.fail('Badly formed arguments');
  }

  private stepRawLine(byte: number): void {
    if (byte === lf) {
      // Not decoded strictly: a SASL response is base64, and what is not is refused as such.
      const line = this.scratch.toString('utf8', 0, this.scratchLength);
      this.resetLine();
      this.emit({ kind: 'rawLine', line: line.endsWith('\r') ? line.slice(0, -1) : line });
      return;
    }
    if (this.scratchLength >= this.limits.lineBytesMax) {
      this.state = 'skipLine';
      this.scratchLength = 0;
      this.emit({ kind: 'rawLine', line: null });
      return;
    }
    this.keep(byte);
  }

  private finishCommand(): void {
    const event: ParseEvent = this.notUtf8
      ? { kind: 'bad', tag: this.tag === '' ? '*' : this.tag, text: notUtf8 }
      : { kind: 'command', tag: this.tag, name: this.name, args: this.args };
    this.resetLine();
    this.emit(event);
  }

  /** Reports bad input and discards the rest of its line. */
  private fail(text: string): void {
    const tag = this.tag === '' ? '*' : this.tag;
    this.resetLine();
    this.state = 'skipLine';
    this.emit({ kind: 'bad', tag, text });
  }

  /** `fail`, where the offending byte may itself end the line. */
  private failOn(byte: number, text: string): void {
    const tag = this.tag === '' ? '*' : this.tag;
    this.resetLine();
    if (byte !== lf) this.state = 'skipLine';
    this.emit({ kind: 'bad', tag, text });
  }

  private keep(byte: number): void {
    // lineBytes (checked in step) bounds the scratch for commands; stepRawLine checks its own.
    this.scratch[this.scratchLength] = byte;
    this.scratchLength += 1;
  }

  private take(): string {
    const text = this.decode(this.scratch.subarray(0, this.scratchLength));
    this.scratchLength = 0;
    return text;
  }

  /** The bytes as text; '' (and the line marked) when they are not valid UTF-8. */
  private decode(bytes: Buffer): string {
    if (bytes.length === 0) return '';
    if (isUtf8(bytes)) return bytes.toString('utf8');
    this.notUtf8 = true;
    return '';
  }

  private resetLine(): void {
    this.state = 'tag';
    this.lineBytes = 0;
    this.scratchLength = 0;
    this.tag = '';
    this.name = '';
    this.args = [];
    this.literal = noBytes;
    this.notUtf8 = false;
  }
}
