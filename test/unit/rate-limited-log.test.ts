// Refusals logged once per kind and interval, with the count of lines skipped;
// a user name or a number in the message does not make a new kind.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RateLimitedLog, refusalKind } from '../../src/server/rate-limited-log.js';

function capture(): { lines: Array<Record<string, unknown>>; log: (nowMs: () => number) => RateLimitedLog } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, log: (nowMs) => new RateLimitedLog(logger, 10_000, 'info', nowMs) };
}

describe('RateLimitedLog', () => {
  it('logs a kind once per interval, then says how many it skipped', () => {
    let now = 0;
    const { lines, log } = capture();
    const refusals = log(() => now);
    for (let index = 0; index < 5; index += 1) refusals.note('NOT_FOUND', { index }, 'refused');
    refusals.note('UNAVAILABLE', {}, 'refused');
    expect(lines.map((line) => [line['index'], line['suppressedSinceLast']])).toEqual([[0, undefined], [undefined, undefined]]);
    now = 10_000;
    refusals.note('NOT_FOUND', { index: 9 }, 'refused');
    expect(lines.at(-1)).toMatchObject({ index: 9, suppressedSinceLast: 4 });
  });

  it('takes quoted values and numbers out of a kind', () => {
    expect(refusalKind('NOT_FOUND', 'user "alice" has no mailbox')).toBe(refusalKind('NOT_FOUND', 'user "b\\"ob" has no mailbox'));
    expect(refusalKind('INVALID_ARGUMENT', 'user id is 300 bytes')).toBe(refusalKind('INVALID_ARGUMENT', 'user id is 999 bytes'));
    expect(refusalKind('NOT_FOUND', 'x')).not.toBe(refusalKind('UNAVAILABLE', 'x'));
  });
});
