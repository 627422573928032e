/**
 * The MUPDATE response writer: Cyrus's exact bytes in the `plus` style (the
 * fixture's MAILBOX lines), `{n}` literals in the `sync` style that Cyrus
 * 3.4.8/3.6.5/3.8.3 clients need, literal lengths in bytes, quoted texts that
 * a Cyrus client reads (escapes, no line breaks), and the banner; and the
 * rate-limited log of refused clients.
 */
import { describe, expect, it } from 'vitest';
import { parseAclText } from '../../src/model/acl.js';
import { MupdateParser, type ParseEvent } from '../../src/server/mupdate/parser.js';
import type { Logger } from '../../src/logging.js';
import { RateLimitedLog } from '../../src/server/rate-limited-log.js';
import { quotedText, ResponseWriter } from '../../src/server/mupdate/writer.js';

const erin = { name: 'user.erin.Archive', server: 'backend1', partition: 'default', acl: parseAclText('erin\tlrswipkxtecdan\t-frank\tr\t'), state: 'ACTIVE' as const };

describe('MUPDATE writer', () => {
  it("writes the fixture's MAILBOX line byte for byte in the plus style", () => {
    expect(new ResponseWriter('plus').mailbox('X0', erin)).toBe(
      'X0 MAILBOX {17+}\r\nuser.erin.Archive {16+}\r\nbackend1!default {29+}\r\nerin\tlrswipkxtecdan\t-frank\tr\t\r\n',
    );
  });

  it('writes {n} literals in the sync style, RESERVE without an ACL, DELETE with the name', () => {
    const writer = new ResponseWriter('sync');
    expect(writer.mailbox('U01', { ...erin, state: 'RESERVED' })).toBe('U01 RESERVE {17}\r\nuser.erin.Archive {16}\r\nbackend1!default\r\n');
    expect(writer.deleted('U01', 'user.é')).toBe('U01 DELETE {7}\r\nuser.é\r\n');
  });

  it('parses back through a parser: what the writer sends is what a reader gets', () => {
    for (const style of ['plus', 'sync'] as const) {
      const events: ParseEvent[] = [];
      new MupdateParser({ lineBytesMax: 1024, literalBytesMax: 1024, argumentsMax: 8 }, (event) => events.push(event)).push(
        Buffer.from(new ResponseWriter(style).mailbox('T', { ...erin, name: 'user.é.x' })),
      );
      expect(events.filter((event) => event.kind === 'command')).toEqual([
        { kind: 'command', tag: 'T', name: 'MAILBOX', args: ['user.é.x', 'backend1!default', 'erin\tlrswipkxtecdan\t-frank\tr\t'] },
      ]);
    }
  });

  it('quotes answer texts as a Cyrus client reads them', () => {
    expect(quotedText('mailbox doesn\'t exist')).toBe('"mailbox doesn\'t exist"');
    expect(quotedText('a "b" \\ c\r\nd')).toBe('"a \\"b\\" \\\\ c  d"');
    expect(new ResponseWriter('plus').no('X1', 'mailbox already exists')).toBe('X1 NO "mailbox already exists"\r\n');
  });

  it("writes the banner a Cyrus client parses", () => {
    expect(new ResponseWriter('plus').banner('mupdate.local', '0.1.0')).toBe(
      '* AUTH "PLAIN"\r\n* PARTIAL-UPDATE\r\n* OK MUPDATE "mupdate.local" "mbdir" "0.1.0" "(master)"\r\n',
    );
  });
});

describe('MUPDATE refusal log', () => {
  it('logs one line per kind per interval and counts the ones it held back', () => {
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger = { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) } as unknown as Logger;
    let nowMs = 0;
    const log = new RateLimitedLog(logger, 1000, 'warn', () => nowMs);
    for (let index = 0; index < 5; index += 1) log.warn('login refused', { index });
    log.warn('connection refused', {});
    nowMs = 1500;
    log.warn('login refused', { index: 5 });
    expect(lines.map((line) => [line.message, line.fields['suppressedSinceLast']])).toEqual([
      ['login refused', undefined],
      ['connection refused', undefined],
      ['login refused', 4],
    ]);
  });
});
