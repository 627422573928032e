// IMAP LIST patterns: `*` matches anything, `%` anything but `.`; reference is
// concatenated without a separator; runs of wildcards collapse; literalPrefix;
// patternBytesMax and patternWildcardsMax at and past the limit; control chars.
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { compilePattern, matchPattern } from '../../src/model/pattern.js';
import { expectInvalid } from './expect-error.js';

const matches = (pattern: string, name: string, reference = ''): boolean =>
  matchPattern(compilePattern(reference, pattern), name);

describe('matchPattern', () => {
  it('`*` matches anything, including the separator and nothing', () => {
    for (const name of ['INBOX', 'user.alice', 'user.alice.Sent.2024', '', '.', 'a.b!c']) expect(matches('*', name)).toBe(true);
    expect(matches('user.*', 'user.alice.Sent')).toBe(true);
    expect(matches('user.*', 'user.')).toBe(true);
    expect(matches('user.*', 'user')).toBe(false);
    expect(matches('*.Sent', 'user.alice.Sent')).toBe(true);
    expect(matches('*.Sent', 'user.alice.Sent.x')).toBe(false);
  });

  it('`%` matches anything but the separator', () => {
    expect(matches('%', 'INBOX')).toBe(true);
    expect(matches('%', '')).toBe(true);
    expect(matches('%', 'user.alice')).toBe(false);
    expect(matches('user.%', 'user.alice')).toBe(true);
    expect(matches('user.%', 'user.alice.Sent')).toBe(false);
    expect(matches('user.%.Sent', 'user.alice.Sent')).toBe(true);
    expect(matches('user.%.Sent', 'user.alice.x.Sent')).toBe(false);
    expect(matches('user.*.Sent', 'user.alice.x.Sent')).toBe(true);
    expect(matches('%.%', 'a.b')).toBe(true);
    expect(matches('%.%', 'a.b.c')).toBe(false);
    expect(matches('a%c', 'abbbc')).toBe(true);
    expect(matches('a%c', 'ab.bc')).toBe(false);
    expect(matches('%', 'example.com!x')).toBe(false);
    expect(matches('%', 'd!x')).toBe(true); // `!` is not the separator
  });

  it('literals match exactly, case-sensitively, whole name', () => {
    expect(matches('user.alice', 'user.alice')).toBe(true);
    expect(matches('user.alice', 'user.alice.Sent')).toBe(false);
    expect(matches('user.alice', 'user.alic')).toBe(false);
    expect(matches('user.alice', 'user.Alice')).toBe(false);
    expect(matches('', '')).toBe(true);
    expect(matches('', 'a')).toBe(false);
  });

  it('handles non-ASCII by code point', () => {
    expect(matches('user.%', 'user.\u{1F600}')).toBe(true);
    expect(matches('user.\u{1F600}.%', 'user.\u{1F600}.j\u00fcrgen')).toBe(true);
    expect(matches('user.\u00e9', 'user.e')).toBe(false);
  });

  it('backtracks correctly where a greedy matcher would not', () => {
    expect(matches('*a*b', 'aaab')).toBe(true);
    expect(matches('*ab', 'aab')).toBe(true);
    expect(matches('%.%b', 'a.ab')).toBe(true);
    expect(matches('*.*.*', 'a.b')).toBe(false);
    expect(matches('*.*.*', 'a.b.c')).toBe(true);
  });

  it('treats `*` and `%` in the name as ordinary characters', () => {
    expect(matches('user.a%', 'user.a*b')).toBe(true);
    expect(matches('user.*', 'user.%')).toBe(true);
    expect(matches('user.a', 'user.*')).toBe(false);
  });
});

describe('compilePattern', () => {
  it('concatenates reference and pattern with no separator added', () => {
    expect(compilePattern('user.alice.', '%').source).toBe('user.alice.%');
    expect(matches('%', 'user.alice.Sent', 'user.alice.')).toBe(true);
    expect(matches('%', 'user.alice.Sent.x', 'user.alice.')).toBe(false);
    // Without a trailing dot the wildcard continues the last segment.
    expect(matches('%', 'user.alicex', 'user.alice')).toBe(true);
    expect(matches('%', 'user.alice', 'user.alice')).toBe(true);
    expect(matches('%', 'user.alice.Sent', 'user.alice')).toBe(false);
    // Wildcards in the reference are wildcards too.
    expect(matches('.Sent', 'user.bob.Sent', 'user.%')).toBe(true);
  });

  it('collapses runs of wildcards: any `*` makes the run `*`', () => {
    expect(compilePattern('', '**').tokens).toBe('*');
    expect(compilePattern('', '%%%').tokens).toBe('%');
    expect(compilePattern('', '%*').tokens).toBe('*');
    expect(compilePattern('', '*%').tokens).toBe('*');
    expect(compilePattern('a*', '%b%%c').tokens).toBe('a*b%c');
    expect(matches('%*%', 'a.b.c')).toBe(true);
    expect(matches('%%', 'a.b')).toBe(false);
  });

  it('literalPrefix is everything before the first wildcard', () => {
    expect(compilePattern('', 'user.alice.*').literalPrefix).toBe('user.alice.');
    expect(compilePattern('user.', '%.Sent').literalPrefix).toBe('user.');
    expect(compilePattern('', '%').literalPrefix).toBe('');
    expect(compilePattern('', 'user.alice').literalPrefix).toBe('user.alice');
    expect(compilePattern('', '').literalPrefix).toBe('');
  });

  it(`accepts ${limits.patternBytesMax} bytes of reference + pattern and refuses one more`, () => {
    expect(limits.patternBytesMax).toBe(512);
    compilePattern('', 'a'.repeat(512));
    expectInvalid(() => compilePattern('', 'a'.repeat(513)), /513 bytes/);
    compilePattern('a'.repeat(256), 'a'.repeat(256));
    expectInvalid(() => compilePattern('a'.repeat(256), 'a'.repeat(257)), /513 bytes/);
    // Bytes, not UTF-16 units: 257 characters, 513 bytes.
    compilePattern('', '\u00e9'.repeat(256));
    expectInvalid(() => compilePattern('', '\u00e9'.repeat(256) + 'a'), /513 bytes/);
    expectInvalid(() => compilePattern('\u{1F600}'.repeat(128), 'a'), /513 bytes/);
  });

  it(`accepts ${limits.patternWildcardsMax} wildcards after collapsing and refuses one more`, () => {
    expect(limits.patternWildcardsMax).toBe(32);
    const atLimit = compilePattern('', 'a*'.repeat(32));
    expect(matches('a*'.repeat(32), 'a'.repeat(40))).toBe(true);
    expect(atLimit.tokens).toBe('a*'.repeat(32));
    expectInvalid(() => compilePattern('', 'a*'.repeat(33)), /33 wildcards/);
    expectInvalid(() => compilePattern('', 'a%'.repeat(16) + 'a*'.repeat(17)), /33 wildcards/);
    // Reference and pattern count together.
    expectInvalid(() => compilePattern('a%'.repeat(20), 'a*'.repeat(13)), /33 wildcards/);
    // Runs collapse before counting.
    expect(compilePattern('', '*'.repeat(500)).tokens).toBe('*');
    expect(compilePattern('', '*%'.repeat(256)).tokens).toBe('*');
    compilePattern('', 'a**%'.repeat(32));
    expectInvalid(() => compilePattern('', 'a**%'.repeat(33)), /33 wildcards/);
  });

  it('rejects control characters in reference or pattern', () => {
    for (const c of ['\x00', '\t', '\n', '\r', '\x1d', '\x1f', '\x7f']) {
      expectInvalid(() => compilePattern('', `user.${c}%`), /control character/);
      expectInvalid(() => compilePattern(`user${c}`, '%'), /control character/);
    }
  });
});
