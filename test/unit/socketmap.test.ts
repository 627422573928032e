// The socketmap's pure parts: the netstring parser fed whole and one byte at a
// time, its limits checked while parsing, and the answers (with the one error
// table) over a real in-memory directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { limits } from '../../src/model/limits.js';
import { recipientRulesOf } from '../../src/model/recipients.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { answerRequest, lmtpTransport } from '../../src/server/socketmap/maps.js';
import { encodeNetstring, NetstringError, NetstringParser, netstringLengthDigitsMax } from '../../src/model/netstring.js';
import { Store } from '../../src/store/store.js';

function parseAll(input: Buffer, max = limits.socketmapQueryBytesMax, chunk = input.length): string[] {
  const parser = new NetstringParser(max);
  const out: string[] = [];
  for (let offset = 0; offset < input.length; offset += chunk) {
    parser.push(input.subarray(offset, offset + chunk), (payload) => out.push(payload.toString('utf8')));
  }
  return out;
}

describe('NetstringParser', () => {
  const stream = Buffer.concat([encodeNetstring('transport alice@example.org'), encodeNetstring(''), encodeNetstring('mailbox a b,c:d')]);

  it('parses several netstrings, whole or one byte at a time', () => {
    const expected = ['transport alice@example.org', '', 'mailbox a b,c:d'];
    expect(parseAll(stream)).toEqual(expected);
    expect(parseAll(stream, limits.socketmapQueryBytesMax, 1)).toEqual(expected);
  });

  it('accepts a payload at the limit and refuses one byte more while reading the length', () => {
    expect(parseAll(encodeNetstring('x'.repeat(limits.socketmapQueryBytesMax)))).toHaveLength(1);
    const parser = new NetstringParser(limits.socketmapQueryBytesMax);
    // Only the length arrives: the refusal comes before any payload is buffered.
    expect(() => parser.push(Buffer.from(`${limits.socketmapQueryBytesMax + 1}`), () => undefined)).toThrow(
      `netstring longer than the limit of ${limits.socketmapQueryBytesMax} bytes`,
    );
  });

  it('names each malformed part, and accepts nothing after an error', () => {
    const bad = (input: string) => () => parseAll(Buffer.from(input));
    expect(bad('x:')).toThrow('netstring does not start with a length');
    expect(bad(':')).toThrow('netstring does not start with a length');
    expect(bad('3x')).toThrow('netstring length not followed by ":"');
    expect(bad('3:abc;')).toThrow('netstring of 3 bytes not followed by ","');
    expect(bad('0'.repeat(netstringLengthDigitsMax + 1))).toThrow('more than 10 digits');
    const parser = new NetstringParser(100);
    expect(() => parser.push(Buffer.from('x'), () => undefined)).toThrow(NetstringError);
    expect(() => parser.push(Buffer.from('1:a,'), () => undefined)).toThrow('already failed');
  });

  it('is idle only between netstrings', () => {
    const parser = new NetstringParser(100);
    expect(parser.idle).toBe(true);
    parser.push(Buffer.from('3:ab'), () => undefined);
    expect(parser.idle).toBe(false);
    parser.push(Buffer.from('c,'), () => undefined);
    expect(parser.idle).toBe(true);
  });
});

describe('socketmap answers over a directory', () => {
  const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  const rules = recipientRulesOf('+', true, 'example.org');
  const ask = (request: string) => answerRequest(directory, rules, Buffer.from(request));

  beforeAll(async () => {
    const server = (name: string, lmtpAddress: string) =>
      directory.putServer({ name, imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress, state: 'UP', weight: 1, datacenter: '' });
    await server('b1', '10.0.0.1:24');
    await server('b6', '[fd00::6]:24');
    await server('nolmtp', '');
    await directory.createMailbox({ name: 'user.dan.Sent', server: 'b1' });
    await directory.createMailbox({ name: 'user.erin', server: 'nolmtp' });
    await directory.createMailbox({ name: 'user.alice', server: 'b1' });
    await directory.createMailbox({ name: 'example.com!user.bob', server: 'b6' });
    await directory.createMailbox({ name: 'user.carol', server: 'b1' });
    await directory.markUserMoving({ user: 'carol', fromServer: 'b1', toServer: 'b6', clear: false });
  });
  afterAll(async () => {
    await engine.close();
    store.close();
  });

  it('answers both maps, with Postfix\'s IPv6 form', () => {
    expect(ask('transport Alice+x@Example.org')).toBe('OK lmtp:inet:[10.0.0.1]:24');
    expect(ask('mailbox alice@example.org')).toBe('OK b1');
    expect(ask('transport bob@example.com')).toBe('OK lmtp:inet:[ipv6:fd00::6]:24');
    expect(lmtpTransport('127.0.0.1:2024')).toBe('lmtp:inet:[127.0.0.1]:2024');
    // A hierarchy without its root goes where its mailboxes are.
    expect(ask('transport dan@example.org')).toBe('OK lmtp:inet:[10.0.0.1]:24');
  });

  it('defers (TEMP) mail to a user whose server has no LMTP address (an operator must fix it) or is DOWN', async () => {
    expect(ask('transport erin@example.org')).toBe('TEMP server "nolmtp" has no lmtp address (mbdir server-put nolmtp --lmtp IP:PORT)');
    await directory.putServer({ name: 'b1', imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress: '10.0.0.1:24', state: 'DOWN', weight: 1, datacenter: '' });
    expect(ask('transport alice@example.org')).toBe('TEMP server "b1" of user "alice" is DOWN; try again later');
    await directory.putServer({ name: 'b1', imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress: '10.0.0.1:24', state: 'DRAINING', weight: 1, datacenter: '' });
    expect(ask('transport alice@example.org')).toBe('OK lmtp:inet:[10.0.0.1]:24');
  });

  it('maps errors through the one table: NOTFOUND, TEMP while moving, PERM for a configuration error', () => {
    expect(ask('transport nobody@example.org')).toBe('NOTFOUND ');
    expect(ask('transport *')).toBe('NOTFOUND ');
    expect(ask('transport a b@example.org')).toBe('NOTFOUND ');
    expect(ask('transport ')).toBe('NOTFOUND ');
    expect(ask('transport carol@example.org')).toBe('TEMP user "carol" is being moved from "b1" to "b6"; try again later');
    expect(ask('aliases alice@example.org')).toMatch(/^PERM no socketmap named "aliases"/);
    expect(ask('transport')).toMatch(/^PERM request "transport" is not "name key"/);
  });
});
