// The Dovecot dict adapter's pure parts: line parsing and escaping fed whole and
// one byte at a time, the line bound, and the passdb answers (one error table)
// over a real in-memory directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../../src/directory/directory.js';
import { limits } from '../../src/model/limits.js';
import { recipientRulesOf } from '../../src/model/recipients.js';
import { StandaloneEngine } from '../../src/replication/standalone.js';
import { answerLookup } from '../../src/server/dovecot-dict/passdb.js';
import { DictLineParser, escapeField, parseDictLine, unescapeField, type DictCommand } from '../../src/server/dovecot-dict/protocol.js';
import { Store } from '../../src/store/store.js';

function parseAll(input: string, chunk: number): DictCommand[] {
  const parser = new DictLineParser(limits.dovecotDictLineBytesMax);
  const bytes = Buffer.from(input);
  const out: DictCommand[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunk) parser.push(bytes.subarray(offset, offset + chunk), (c) => out.push(c));
  return out;
}

describe('dict protocol', () => {
  const session = 'H3\t2\t0\t\tpassdb\nLshared/passdb/alice\t\nLshared/passdb/a\x01tb\tuser\nBx\nI0\tshared/\n';

  it('parses a hello, lookups (un-escaped), silent and unsupported commands, whole or byte by byte', () => {
    const expected: DictCommand[] = [
      { kind: 'hello', major: 3, minor: 2, valueType: '0', user: '', uri: 'passdb' },
      { kind: 'lookup', key: 'shared/passdb/alice', user: '' },
      { kind: 'lookup', key: 'shared/passdb/a\tb', user: 'user' },
      { kind: 'silent', command: 'B' },
      { kind: 'unsupported', command: 'I' },
    ];
    expect(parseAll(session, session.length)).toEqual(expected);
    expect(parseAll(session, 1)).toEqual(expected);
  });

  it('escapes and un-escapes as Dovecot does', () => {
    const raw = 'a\tb\nc\rd\x01e\x00';
    expect(escapeField(raw)).not.toMatch(/[\t\n\r\x00]/);
    expect(unescapeField(escapeField(raw))).toBe(raw);
    expect(() => unescapeField('a\x01z')).toThrow('bad escape');
  });

  it('refuses an unknown protocol version and a malformed hello', () => {
    expect(() => parseDictLine('H9\t0\t0\t\tx')).toThrow('dict protocol version 9 is not served');
    expect(() => parseDictLine('H3\t2')).toThrow('hello is not');
  });

  it('bounds a line at dovecotDictLineBytesMax, refusing before the line ends', () => {
    const atLimit = `L${'k'.repeat(limits.dovecotDictLineBytesMax - 1)}\n`;
    expect(parseAll(atLimit, 4096)).toHaveLength(1);
    const parser = new DictLineParser(limits.dovecotDictLineBytesMax);
    expect(() => parser.push(Buffer.from(`L${'k'.repeat(limits.dovecotDictLineBytesMax)}`), () => undefined)).toThrow(
      `dict line longer than the limit of ${limits.dovecotDictLineBytesMax} bytes`,
    );
  });
});

describe('passdb answers over a directory', () => {
  const store = new Store({ dataDir: ':memory:', synchronous: 'OFF' });
  const engine = new StandaloneEngine(store);
  const directory = new Directory(store, engine);
  const rules = recipientRulesOf('', true, 'example.org');
  const ask = (key: string) => answerLookup(directory, rules, key);

  beforeAll(async () => {
    await directory.putServer({ name: 'b1', imapAddress: '10.0.0.1:143', pop3Address: '', lmtpAddress: '10.0.0.1:24', state: 'UP', weight: 1, datacenter: '' });
    await directory.putServer({ name: 'b2', imapAddress: '10.0.0.2:143', pop3Address: '', lmtpAddress: '', state: 'UP', weight: 1, datacenter: '' });
    await directory.createMailbox({ name: 'user.alice', server: 'b1' });
    await directory.createMailbox({ name: 'user.carol', server: 'b1' });
    await directory.markUserMoving({ user: 'carol', fromServer: 'b1', toServer: 'b2', clear: false });
  });
  afterAll(async () => {
    await engine.close();
    store.close();
  });

  it('answers proxy=y host port nopassword=y for a user (any case, local domain or not)', () => {
    const fields = { proxy: 'y', host: '10.0.0.1', port: '143', nopassword: 'y' };
    expect(JSON.parse(ask('shared/passdb/alice').slice(1))).toEqual(fields);
    expect(ask('shared/passdb/Alice@Example.org')).toBe(`O${JSON.stringify(fields)}`);
  });

  it('N for an unknown or impossible user, F (temporary failure) while moving and for another key', () => {
    expect(ask('shared/passdb/nobody')).toBe('N');
    expect(ask('shared/passdb/')).toBe('N');
    expect(ask('shared/passdb/a b')).toBe('N');
    expect(ask('shared/passdb/carol')).toBe('Fuser "carol" is being moved from "b1" to "b2"; try again later');
    expect(ask('shared/userdb/alice')).toMatch(/^Fmbdir answers only shared\/passdb\/<user>/);
  });
});
