// Cyrus internal names: validation (490-byte limit in UTF-8 bytes, control
// characters, empty segments, `!`), the sort key (Cyrus dbname) and its order
// checked against real Cyrus 3.6 dumps, and the user/hierarchy/rename helpers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import {
  childKeyRange,
  compareNames,
  domainOf,
  hierarchyOf,
  isInSubtree,
  isUserRoot,
  localPart,
  ownerOf,
  parentName,
  parseName,
  renamedName,
  sortKey,
  userRootName,
  validateName,
  validateUserId,
} from '../../src/model/names.js';
import { expectInvalid } from './expect-error.js';

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const key = (text: string): string => sortKey(text).toString('latin1');

describe('parseName / validateName', () => {
  it('splits domain and segments', () => {
    expect(parseName('user.alice.Sent')).toEqual({ domain: null, segments: ['user', 'alice', 'Sent'] });
    expect(parseName('example.com!user.bob')).toEqual({ domain: 'example.com', segments: ['user', 'bob'] });
    expect(parseName('shared')).toEqual({ domain: null, segments: ['shared'] });
  });

  it('rejects the empty name', () => {
    expectInvalid(() => validateName(''), /empty/);
  });

  it('accepts exactly nameBytesMax bytes and rejects one more, counting UTF-8 bytes', () => {
    expect(limits.nameBytesMax).toBe(490);
    const ascii490 = 'user.' + 'a'.repeat(485);
    expect(bytes(ascii490)).toBe(490);
    validateName(ascii490);
    expectInvalid(() => validateName(ascii490 + 'b'), /491 bytes/);

    // 2-byte characters: 248 UTF-16 units but 491 bytes; a check on .length would pass it.
    const twoByte490 = 'user.' + '\u00e9'.repeat(242) + 'a';
    expect(bytes(twoByte490)).toBe(490);
    validateName(twoByte490);
    const twoByte491 = 'user.' + '\u00e9'.repeat(243);
    expect(bytes(twoByte491)).toBe(491);
    expect(twoByte491.length).toBeLessThan(490);
    expectInvalid(() => validateName(twoByte491), /491 bytes/);

    // 4-byte characters (surrogate pairs in JS).
    const fourByte490 = 'user.' + '\u{1F600}'.repeat(121) + 'a';
    expect(bytes(fourByte490)).toBe(490);
    validateName(fourByte490);
    expectInvalid(() => validateName('user.' + '\u{1F600}'.repeat(121) + 'ab'), /491 bytes/);

    // The domain counts too.
    const withDomain = 'example.com!user.' + 'a'.repeat(490 - bytes('example.com!user.'));
    validateName(withDomain);
    expectInvalid(() => validateName(withDomain + 'a'), /491 bytes/);
  });

  it('rejects every C0 control character and DEL, anywhere', () => {
    for (let code = 0; code < 0x20; code += 1) {
      const c = String.fromCharCode(code);
      expectInvalid(() => validateName(`user.a${c}b`), /control character/);
      expectInvalid(() => validateName(`${c}user.a`), /control character/);
    }
    expectInvalid(() => validateName('user.a\x7f'), /control character/);
    expectInvalid(() => validateName('exa\tmple.com!user.a'), /control character/);
  });

  it('the error message shows the control character escaped, not raw', () => {
    const error = expectInvalid(() => validateName('user.a\nb'));
    expect(error.message).toContain('\\x0a');
    expect(error.message).not.toContain('\n');
  });

  it('rejects empty segments', () => {
    for (const bad of ['user..a', '.a', 'a.', '.', '..', 'user.a.', 'example.com!.a', 'example.com!a..b', 'd!a.']) {
      expectInvalid(() => validateName(bad), /empty hierarchy segment/);
    }
  });

  it('applies the `!` rules', () => {
    expectInvalid(() => validateName('!user.a'), /empty domain/);
    expectInvalid(() => validateName('example.com!'), /nothing after/);
    expectInvalid(() => validateName('a!b!c'), /more than one "!"/);
    expectInvalid(() => validateName('!'), /empty domain/);
    // Dots inside the domain are not hierarchy separators.
    expect(parseName('mail.example.com!shared').segments).toEqual(['shared']);
  });

  it('rejects lone surrogates: they would share a sort key (U+FFFD) with other names', () => {
    expectInvalid(() => validateName('user.\ud800'), /Unicode/);
    expectInvalid(() => validateName('user.a\udc00b'), /Unicode/);
    validateName('user.\ud83d\ude00'); // a proper pair is fine
  });

  it('names the offending value and the caller-supplied noun', () => {
    expectInvalid(() => validateName('user..x', 'new mailbox name'), /^new mailbox name "user\.\.x"/);
  });

  it('accepts spaces, punctuation and non-ASCII in segments', () => {
    for (const good of ['user.alice.My Folder', 'shared.a-b_c', 'user.j\u00fcrgen.\u00c9t\u00e9', 'user.a^b', 'a b!c d']) {
      validateName(good);
    }
  });
});

describe('sortKey and compareNames', () => {
  it('is the Cyrus dbname: domain + 0x1D, segments joined by 0x1F', () => {
    expect(key('shared')).toBe('shared');
    expect(key('user.alice.Sent')).toBe('user\x1falice\x1fSent');
    expect(key('example.com!user.alice.Sent')).toBe('example.com\x1duser\x1falice\x1fSent');
    expect(sortKey('user.j\u00fcrgen')).toEqual(Buffer.from('user\x1fj\u00fcrgen', 'utf8'));
  });

  it('rejects invalid names', () => {
    expectInvalid(() => sortKey('user..a'));
    expectInvalid(() => compareNames('user.a', ''));
  });

  it('orders a subtree right after its root, unlike plain string order', () => {
    // ' ' (0x20) and '-' (0x2D) sort before '.' (0x2E) as characters but after 0x1F.
    const names = ['user.a-c', 'user.a.z', 'user.a b', 'user.a', 'user.a.b', 'user.a.b.c', 'user.ab'];
    expect([...names].sort(compareNames)).toEqual([
      'user.a',
      'user.a.b',
      'user.a.b.c',
      'user.a.z',
      'user.a b',
      'user.a-c',
      'user.ab',
    ]);
    expect([...names].sort()).not.toEqual([...names].sort(compareNames));
  });

  it('orders domains by 0x1D, before any printable character', () => {
    expect(compareNames('a!x', 'a b')).toBeLessThan(0); // 0x1D < 0x20; as strings '!' > ' '
    expect(compareNames('a!zzz', 'a.a')).toBeLessThan(0);
    expect(compareNames('b!a', 'a!z')).toBeGreaterThan(0);
  });

  it('puts a domain named like a top-level mailbox between that mailbox and its children', () => {
    // b < b 0x1D a < b 0x1F a: a scan for a subtree must use childKeyRange, not "from the root on".
    expect(['b.a', 'b!a', 'b', 'b!b.c'].sort(compareNames)).toEqual(['b', 'b!a', 'b!b.c', 'b.a']);
    const { low } = childKeyRange(sortKey('b'));
    expect(Buffer.compare(sortKey('b!a'), sortKey('b'))).toBe(1);
    expect(Buffer.compare(sortKey('b!a'), low)).toBe(-1);
  });

  it('compares UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF61 is EF BD A1 in UTF-8; U+1F600 is F0 9F 98 80, but D83D DE00 in UTF-16.
    expect(compareNames('user.\uff61', 'user.\u{1F600}')).toBeLessThan(0);
    expect('user.\uff61' < 'user.\u{1F600}').toBe(false);
  });

  it('is zero only for the same name', () => {
    expect(compareNames('example.com!user.a', 'example.com!user.a')).toBe(0);
    expect(compareNames('user.a', 'user.b')).toBeLessThan(0);
    expect(compareNames('user.b', 'user.a')).toBeGreaterThan(0);
  });
});

describe('sort order of real Cyrus 3.6 ctl_mboxlist -d dumps', () => {
  // `ctl_mboxlist -d` walks mailboxes.db, so a dump lists names in dbname order.
  // Verified on these files: both are in sort-key order. They are ASCII and hold
  // no character below '.', so plain string order happens to agree with them too;
  // the hand-made cases above are what tell the two orders apart.
  const dumpNames = (file: string): string[] => {
    const text = readFileSync(new URL(`../fixtures/cyrus-3.6/${file}`, import.meta.url), 'utf8');
    const lines = text.split('\n').filter((line) => line.length > 0);
    expect(lines[0]).toBe('{');
    expect(lines.at(-1)).toBe('}');
    return lines.slice(1, -1).map((line) => {
      const member = JSON.parse(`{${line.replace(/,$/, '')}}`) as Record<string, { name: string }>;
      const [name, ...rest] = Object.keys(member);
      expect(rest).toEqual([]);
      expect(member[name!]!.name).toBe(name);
      return name!;
    });
  };

  for (const file of ['ctl_mboxlist-d-backend.json', 'ctl_mboxlist-d-mupdate-master.json']) {
    it(`${file}: every name is valid and the file is in sort-key order`, () => {
      const names = dumpNames(file);
      expect(names.length).toBeGreaterThan(100);
      for (const name of names) validateName(name);
      expect(new Set(names).size).toBe(names.length);
      expect([...names].sort(compareNames)).toEqual(names);
      for (let index = 1; index < names.length; index += 1) {
        expect(Buffer.compare(sortKey(names[index - 1]!), sortKey(names[index]!))).toBe(-1);
      }
    });
  }

  it('childKeyRange over the backend dump selects exactly each subtree', () => {
    const names = dumpNames('ctl_mboxlist-d-backend.json');
    for (const root of ['user.erin', 'user.erin.Archive', 'shared', 'shared.support', 'user.peggy.Trash']) {
      const { low, high } = childKeyRange(sortKey(root));
      const byRange = names.filter((name) => {
        const k = sortKey(name);
        return Buffer.compare(k, low) >= 0 && Buffer.compare(k, high) < 0;
      });
      const byName = names.filter((name) => name.startsWith(root + '.'));
      expect(byRange).toEqual(byName);
    }
    expect(names.filter((name) => name.startsWith('user.erin.')).length).toBe(9);
  });
});

describe('childKeyRange', () => {
  it('covers descendants only, not the root, siblings or prefix-sharing names', () => {
    const { low, high } = childKeyRange(sortKey('user.a'));
    expect(low.toString('latin1')).toBe('user\x1fa\x1f');
    expect(high.toString('latin1')).toBe('user\x1fa\x20');
    const inside = (name: string): boolean => {
      const k = sortKey(name);
      return Buffer.compare(k, low) >= 0 && Buffer.compare(k, high) < 0;
    };
    for (const child of ['user.a.b', 'user.a.b.c', 'user.a.\u{1F600}', 'user.a. ']) expect(inside(child)).toBe(true);
    for (const other of ['user.a', 'user.ab', 'user.a b', 'user.a-b', 'user', 'user.b', 'd!user.a.b']) {
      expect(inside(other)).toBe(false);
    }
  });

  it('works under a domain', () => {
    const { low, high } = childKeyRange(sortKey('example.com!user.a'));
    const k = sortKey('example.com!user.a.Sent');
    expect(Buffer.compare(k, low) >= 0 && Buffer.compare(k, high) < 0).toBe(true);
    const undomained = sortKey('user.a.Sent');
    expect(Buffer.compare(undomained, low) >= 0 && Buffer.compare(undomained, high) < 0).toBe(false);
  });
});

describe('users: userRootName, ownerOf, isUserRoot, validateUserId', () => {
  it('maps user ids to their root', () => {
    expect(userRootName('alice')).toBe('user.alice');
    expect(userRootName('alice@example.com')).toBe('example.com!user.alice');
    expect(userRootName('john.doe')).toBe('user.john^doe');
    expect(userRootName('a.b.c@x.org')).toBe('x.org!user.a^b^c');
    expect(userRootName('.a')).toBe('user.^a');
  });

  it('ownerOf inverts userRootName, for the root and everything under it', () => {
    for (const user of ['alice', 'alice@example.com', 'john.doe', 'a.b.c@x.org', 'j\u00fcrgen@m\u00fcller.de']) {
      const root = userRootName(user);
      expect(ownerOf(root)).toBe(user);
      expect(ownerOf(`${root}.Sent`)).toBe(user);
      expect(ownerOf(`${root}.Archive.2024`)).toBe(user);
    }
  });

  it('ownerOf is null for shared and top-level names', () => {
    for (const name of ['user', 'shared', 'shared.user.alice', 'DELETED.user.yann.Office.6B037ED6', 'users.alice', 'd!user']) {
      expect(ownerOf(name)).toBeNull();
    }
  });

  it('rejects malformed user ids', () => {
    expectInvalid(() => userRootName(''), /empty/);
    for (const bad of ['@x', 'a@', 'a@b@c', '@']) expectInvalid(() => userRootName(bad), /local@domain/);
    expectInvalid(() => userRootName('a!b'), /"!"/);
    expectInvalid(() => userRootName('a b'), /space/);
    expectInvalid(() => userRootName('a\tb'), /control/);
    expectInvalid(() => userRootName('a\x00'), /control/);
  });

  it('rejects `^` in user ids: `a^b` would own the hierarchy of `a.b`', () => {
    expect(userRootName('a.b')).toBe('user.a^b');
    expectInvalid(() => validateUserId('a^b'), /\^/);
    expectInvalid(() => userRootName('a^b@x.org'), /\^/);
  });

  it('enforces userIdBytesMax in bytes, and the resulting name limit', () => {
    validateUserId('a'.repeat(limits.userIdBytesMax));
    expectInvalid(() => validateUserId('a'.repeat(limits.userIdBytesMax + 1)), /256 bytes/);
    expectInvalid(() => validateUserId('\u00e9'.repeat(128)), /256 bytes/);
    // A user id at its limit still gives a root within the name limit.
    const longUser = 'a'.repeat(250) + '@' + 'd'.repeat(4);
    validateUserId(longUser);
    expect(userRootName(longUser)).toBe('dddd!user.' + 'a'.repeat(250));
  });

  it('isUserRoot is true only for user.<id> exactly', () => {
    expect(isUserRoot('user.alice')).toBe(true);
    expect(isUserRoot('example.com!user.alice')).toBe(true);
    expect(isUserRoot('user.alice.Sent')).toBe(false);
    expect(isUserRoot('user')).toBe(false);
    expect(isUserRoot('shared.alice')).toBe(false);
    expect(isUserRoot('example.com!shared.alice')).toBe(false);
  });
});

describe('hierarchyOf, parentName, domainOf, localPart', () => {
  it('hierarchyOf is the first two segments, with the domain', () => {
    expect(hierarchyOf('user.alice.Sent.2024')).toBe('user.alice');
    expect(hierarchyOf('user.alice')).toBe('user.alice');
    expect(hierarchyOf('example.com!user.bob.Sent')).toBe('example.com!user.bob');
    expect(hierarchyOf('shared.support.Tickets')).toBe('shared.support');
    expect(hierarchyOf('shared')).toBe('shared');
    expect(hierarchyOf('example.com!shared')).toBe('example.com!shared');
  });

  it('parentName drops the last segment and keeps the domain', () => {
    expect(parentName('user.alice.Sent')).toBe('user.alice');
    expect(parentName('user.alice')).toBe('user');
    expect(parentName('user')).toBeNull();
    expect(parentName('example.com!user.a.b')).toBe('example.com!user.a');
    expect(parentName('example.com!user')).toBeNull();
    expectInvalid(() => parentName('user..a'));
  });

  it('domainOf and localPart', () => {
    expect(domainOf('example.com!user.a')).toBe('example.com');
    expect(domainOf('user.a')).toBe('');
    expect(localPart('example.com!user.a')).toBe('user.a');
    expect(localPart('user.a')).toBe('user.a');
  });
});

describe('isInSubtree and renamedName', () => {
  it('isInSubtree follows segments, not string prefixes', () => {
    expect(isInSubtree('user.a', 'user.a')).toBe(true);
    expect(isInSubtree('user.a.b', 'user.a')).toBe(true);
    expect(isInSubtree('user.ab', 'user.a')).toBe(false);
    expect(isInSubtree('user', 'user.a')).toBe(false);
    expect(isInSubtree('d!user.a.b', 'd!user.a')).toBe(true);
    expect(isInSubtree('d!user.a.b', 'user.a')).toBe(false);
    expect(isInSubtree('user.a.b', 'd!user.a')).toBe(false);
  });

  it('isInSubtree does not reach into a domain whose name starts with the root', () => {
    // `example.com!user.x` lives in domain example.com, not under top-level `example`.
    expect(isInSubtree('example.com!user.x', 'example')).toBe(false);
    expect(isInSubtree('a.b!c', 'a')).toBe(false);
    expect(isInSubtree('a.b!c', 'a.b')).toBe(false);
  });

  it('renamedName replaces the root of names in the subtree', () => {
    expect(renamedName('user.a', 'user.a', 'user.b')).toBe('user.b');
    expect(renamedName('user.a.Sent', 'user.a', 'user.b')).toBe('user.b.Sent');
    expect(renamedName('user.a.x.y', 'user.a.x', 'shared.z')).toBe('shared.z.y');
    expect(renamedName('user.a.x', 'user.a', 'd!user.a')).toBe('d!user.a.x');
    expect(renamedName('d!user.a.x', 'd!user.a', 'user.q')).toBe('user.q.x');
  });

  it('renamedName refuses names outside the subtree', () => {
    expect(() => renamedName('user.ab', 'user.a', 'user.b')).toThrow(/not under/);
    expect(() => renamedName('user.b.x', 'user.a', 'user.c')).toThrow(/not under/);
    expect(() => renamedName('example.com!user.x', 'example', 'other')).toThrow(/not under/);
  });
});

describe('C1 control characters', () => {
  it('refuses U+0080..U+009F in names like the C0 ones', () => {
    expect(() => parseName('user.a\u0085b')).toThrow(/control character/);
    expect(() => parseName('user.a\u00a0b')).not.toThrow();
  });
});
