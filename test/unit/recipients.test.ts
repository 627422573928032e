// The recipient -> user rule (src/model/recipients.ts): extensions, case, local
// domains, and addresses that name no user.
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { recipientRulesOf, recipientUser, withoutExtension } from '../../src/model/recipients.js';
import { userRootName } from '../../src/model/names.js';
import { expectInvalid } from './expect-error.js';

const rules = recipientRulesOf('+', true, 'example.org, Mail.Example.NET.');

describe('recipientUser', () => {
  it('strips the extension, folds case, and un-domains local domains', () => {
    expect(recipientUser('alice@example.org', rules)).toBe('alice');
    expect(recipientUser('Alice+News@EXAMPLE.org', rules)).toBe('alice');
    expect(recipientUser('alice@mail.example.net', rules)).toBe('alice');
    expect(recipientUser('bob+x@Example.COM', rules)).toBe('bob@example.com');
    expect(recipientUser('bob@example.com.', rules)).toBe('bob@example.com');
    expect(recipientUser('carol', rules)).toBe('carol');
    expect(recipientUser('john.doe@example.com', rules)).toBe('john.doe@example.com');
  });

  it('gives the user whose root the names rule derives (example.com!user.bob, user.john^doe)', () => {
    expect(userRootName(recipientUser('Bob+ext@example.com', rules))).toBe('example.com!user.bob');
    expect(userRootName(recipientUser('john.doe@example.org', rules))).toBe('user.john^doe');
  });

  it('keeps case when folding is off, but always folds the domain', () => {
    const keep = recipientRulesOf('+', false, 'example.org');
    expect(recipientUser('Alice+X@EXAMPLE.ORG', keep)).toBe('Alice');
    expect(recipientUser('Bob@EXAMPLE.COM', keep)).toBe('Bob@example.com');
  });

  it('takes several delimiters, cuts at the first, and none with an empty delimiter', () => {
    const several = recipientRulesOf('+-', true, '');
    expect(recipientUser('alice-list+x@example.com', several)).toBe('alice@example.com');
    expect(recipientUser('alice+x-y@example.com', recipientRulesOf('', true, ''))).toBe('alice+x-y@example.com');
  });

  it('never cuts a local part to nothing, and keeps owner-/-request list names with "-"', () => {
    expect(withoutExtension('+list', '+')).toBe('+list');
    expect(withoutExtension('-x+y', '+-')).toBe('-x+y');
    expect(withoutExtension('owner-list', '-')).toBe('owner-list');
    expect(withoutExtension('list-request', '-')).toBe('list-request');
    expect(withoutExtension('list-other', '-')).toBe('list');
  });

  it('refuses addresses that cannot name a user, naming the problem', () => {
    expectInvalid(() => recipientUser('', rules), /empty local part/);
    expectInvalid(() => recipientUser('@example.com', rules), /quoted or routed/);
    expectInvalid(() => recipientUser('"a b"@example.com', rules), /quoted/);
    expectInvalid(() => recipientUser('alice@', rules), /not a domain name/);
    expectInvalid(() => recipientUser('alice@bad_domain', rules), /not a domain name/);
    expectInvalid(() => recipientUser('a b@example.com', rules), /space/);
    expectInvalid(() => recipientUser('a!b@example.com', rules), /"!"/);
  });

  it('bounds the recipient at recipientBytesMax', () => {
    // A long extension: the user id stays short, the address is at the limit.
    const domain = '@example.com';
    const atLimit = `alice+${'x'.repeat(limits.recipientBytesMax - 'alice+'.length - domain.length)}${domain}`;
    expect(Buffer.byteLength(atLimit)).toBe(limits.recipientBytesMax);
    expect(recipientUser(atLimit, rules)).toBe('alice@example.com');
    expectInvalid(() => recipientUser(`${atLimit}x`, rules), `recipient is ${limits.recipientBytesMax + 1} bytes`);
  });
});

describe('recipientRulesOf', () => {
  it('refuses delimiters that are address syntax and malformed domains', () => {
    expectInvalid(() => recipientRulesOf('@', true, ''), /recipient delimiter/);
    expectInvalid(() => recipientRulesOf('.', true, ''), /recipient delimiter/);
    expectInvalid(() => recipientRulesOf('+', true, 'example.org,bad domain'), /not a domain name/);
    expectInvalid(() => recipientRulesOf('+', true, Array.from({ length: limits.localDomainsMax + 1 }, (_, i) => `d${i}.test`).join(',')), /more than the limit/);
  });
});
