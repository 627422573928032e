// Small validated strings: numeric IPv4/IPv6 addresses with a port (nginx takes
// nothing else; hostnames are refused), labels, partitions, mbtypes and request
// ids, each at and one past its limit.
import { describe, expect, it } from 'vitest';
import {
  normalizeMbtype,
  normalizePartition,
  splitAddress,
  validateAddress,
  validateLabel,
  validateRequestId,
} from '../../src/model/labels.js';
import { limits } from '../../src/model/limits.js';
import { expectInvalid } from './expect-error.js';

describe('validateAddress', () => {
  it('accepts numeric IPv4 and bracketed IPv6 with a port, and empty', () => {
    for (const good of [
      '10.0.0.5:143',
      '127.0.0.1:1',
      '255.255.255.255:65535',
      '[::1]:24',
      '[2001:db8::1]:2003',
      '[::ffff:10.0.0.5]:143',
      '',
    ]) {
      validateAddress(good, 'imap address');
    }
  });

  it('rejects host names', () => {
    for (const bad of ['localhost:143', 'imap.example.com:143', 'backend1:24', '[localhost]:24']) {
      expectInvalid(() => validateAddress(bad, 'imap address'), /numeric IP and port/);
    }
  });

  it('rejects missing, zero, oversized or malformed ports', () => {
    for (const bad of ['10.0.0.5', '10.0.0.5:', '10.0.0.5:0', '10.0.0.5:65536', '10.0.0.5:99999', '10.0.0.5:143456', '[::1]', '[::1]:', '10.0.0.5:-1', '10.0.0.5:1e3', '10.0.0.5:0x10']) {
      expectInvalid(() => validateAddress(bad, 'lmtp address'), /lmtp address/);
    }
  });

  it('rejects malformed IPs, unbracketed IPv6, zones and stray characters', () => {
    for (const bad of ['256.0.0.1:143', '1.2.3:143', '1.2.3.4.5:143', '::1:24', '[fe80::1%eth0]:24', '[:::1]:24', ' 10.0.0.5:143', '10.0.0.5:143 ', '10.0.0.5:143\n', ':143', '[]:143']) {
      expectInvalid(() => validateAddress(bad, 'imap address'), /imap address/);
    }
  });

  it('names the field and the value', () => {
    expectInvalid(() => validateAddress('localhost:143', 'imap address'), /^imap address "localhost:143" must be/);
  });
});

describe('splitAddress', () => {
  it('splits validated addresses', () => {
    expect(splitAddress('10.0.0.5:143')).toEqual({ host: '10.0.0.5', port: 143 });
    expect(splitAddress('[::1]:24')).toEqual({ host: '::1', port: 24 });
    expect(splitAddress('[2001:db8::1]:2003')).toEqual({ host: '2001:db8::1', port: 2003 });
  });
});

describe('validateLabel', () => {
  it(`accepts 1..${limits.labelBytesMax} of [A-Za-z0-9._:@-]`, () => {
    for (const good of ['backend1', 'dc-1', 'a.b_c:d@e', 'x', 'a'.repeat(limits.labelBytesMax)]) validateLabel(good, 'server name');
    expectInvalid(() => validateLabel('', 'server name'), /server name is empty/);
    expectInvalid(() => validateLabel('a'.repeat(limits.labelBytesMax + 1), 'server name'), /limit of 255/);
    for (const bad of ['back end', 'a/b', 'a!b', 'caf\u00e9', 'a\n']) expectInvalid(() => validateLabel(bad, 'server name'), /outside/);
  });
});

describe('normalizePartition', () => {
  it('defaults to "default" and bounds the rest', () => {
    expect(normalizePartition('')).toBe('default');
    expect(normalizePartition('p1')).toBe('p1');
    expect(normalizePartition('a'.repeat(limits.partitionBytesMax))).toHaveLength(255);
    expectInvalid(() => normalizePartition('a'.repeat(limits.partitionBytesMax + 1)), /partition/);
    for (const bad of ['a b', 'a:b', 'a/b', 'a\x00']) expectInvalid(() => normalizePartition(bad), /partition/);
  });
});

describe('normalizeMbtype', () => {
  it('defaults to "e" and accepts 1..8 lowercase letters', () => {
    expect(normalizeMbtype('')).toBe('e');
    expect(normalizeMbtype('ed')).toBe('ed');
    expect(normalizeMbtype('a'.repeat(limits.mbtypeLengthMax))).toBe('aaaaaaaa');
    expectInvalid(() => normalizeMbtype('a'.repeat(limits.mbtypeLengthMax + 1)), /mbtype/);
    for (const bad of ['E', 'e1', 'e ', '\u00e9']) expectInvalid(() => normalizeMbtype(bad), /mbtype/);
  });
});

describe('validateRequestId', () => {
  it(`accepts up to ${limits.requestIdBytesMax} printable characters, possibly none`, () => {
    validateRequestId('');
    validateRequestId('r'.repeat(limits.requestIdBytesMax));
    validateRequestId('req-1/2:3');
    expectInvalid(() => validateRequestId('r'.repeat(limits.requestIdBytesMax + 1)), /request_id/);
    for (const bad of ['a b', 'a\tb', 'a\x7f']) expectInvalid(() => validateRequestId(bad), /request_id/);
  });
});
