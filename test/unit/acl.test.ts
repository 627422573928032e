// ACL algebra: canonical rights (bad letters named in the error), SETACL edits
// (replace, +add, -remove, empty removes, aclEntriesMax at and past the limit),
// effective rights (user + groups + anyone, negative entries, implicit owner rights),
// and a user rename's identifier rename (the entry and its negative; the new name's entry gives way).
import { describe, expect, it } from 'vitest';
import {
  type AclEntry,
  applyAclEdit,
  callerIdentifiers,
  effectiveRights,
  implicitOwnerRights,
  indexedIdentifier,
  normalizeAcl,
  normalizeRights,
  renameAclIdentifier,
  rightsOrder,
  subtractRights,
  unionRights,
  validateIdentifier,
} from '../../src/model/acl.js';
import { limits } from '../../src/model/limits.js';
import { expectInvalid } from './expect-error.js';

const asMap = (acl: readonly AclEntry[]): Record<string, string> =>
  Object.fromEntries(acl.map((entry) => [entry.identifier, entry.rights]));

const aclOf = (count: number): AclEntry[] =>
  Array.from({ length: count }, (_, index) => ({ identifier: `user${index}`, rights: 'lr' }));

describe('normalizeRights', () => {
  it('puts letters in canonical order and drops duplicates', () => {
    expect(normalizeRights('srl')).toBe('lrs');
    expect(normalizeRights('nadcetxkpiwsrl')).toBe('lrswipkxtecdan');
    expect(normalizeRights('llrrl')).toBe('lr');
    expect(normalizeRights('9a0')).toBe('a09');
    expect(normalizeRights('')).toBe('');
    expect(normalizeRights(rightsOrder)).toBe(rightsOrder);
  });

  it('rejects an unknown letter, naming it', () => {
    expectInvalid(() => normalizeRights('lrz'), /contain "z"/);
    expectInvalid(() => normalizeRights('lrS'), /contain "S"/); // rights are case-sensitive
    expectInvalid(() => normalizeRights('l r'), /contain " "/);
    expectInvalid(() => normalizeRights('+l'), /contain "\+"/);
    expectInvalid(() => normalizeRights('l\u00e9'), /contain "\u00e9"/);
    expectInvalid(() => normalizeRights('l\n'), /contain "\\x0a"/);
  });

  it('enforces rightsLengthMax', () => {
    expect(normalizeRights('l'.repeat(limits.rightsLengthMax))).toBe('l');
    expectInvalid(() => normalizeRights('l'.repeat(limits.rightsLengthMax + 1)), /longer than 32/);
  });
});

describe('unionRights / subtractRights', () => {
  it('are canonical set operations', () => {
    expect(unionRights('sr', 'wl')).toBe('lrsw');
    expect(subtractRights('lrswi', 'sx')).toBe('lrwi');
    expect(subtractRights('lr', 'lr')).toBe('');
  });
});

describe('applyAclEdit', () => {
  const base: AclEntry[] = [
    { identifier: 'alice', rights: 'lrs' },
    { identifier: 'group:staff', rights: 'lr' },
  ];

  it('replaces an entry with bare rights', () => {
    expect(asMap(applyAclEdit(base, 'alice', 'wl'))).toEqual({ alice: 'lw', 'group:staff': 'lr' });
  });

  it('adds with +rights', () => {
    expect(asMap(applyAclEdit(base, 'alice', '+wi'))).toEqual({ alice: 'lrswi', 'group:staff': 'lr' });
    expect(asMap(applyAclEdit(base, 'bob', '+r'))).toEqual({ alice: 'lrs', 'group:staff': 'lr', bob: 'r' });
  });

  it('removes with -rights, and removing everything removes the entry', () => {
    expect(asMap(applyAclEdit(base, 'alice', '-s'))).toEqual({ alice: 'lr', 'group:staff': 'lr' });
    expect(asMap(applyAclEdit(base, 'alice', '-lrsw'))).toEqual({ 'group:staff': 'lr' });
  });

  it('empty rights remove the entry; edits that leave nothing add no entry', () => {
    expect(asMap(applyAclEdit(base, 'alice', ''))).toEqual({ 'group:staff': 'lr' });
    expect(asMap(applyAclEdit(base, 'bob', '-r'))).toEqual(asMap(base));
    expect(asMap(applyAclEdit(base, 'bob', '+'))).toEqual(asMap(base));
    expect(asMap(applyAclEdit(base, 'bob', ''))).toEqual(asMap(base));
    for (const entry of applyAclEdit(base, 'alice', '-lrs')) expect(entry.rights).not.toBe('');
  });

  it('keeps negative identifiers as their own entries', () => {
    expect(asMap(applyAclEdit(base, '-alice', 'r'))).toEqual({ alice: 'lrs', 'group:staff': 'lr', '-alice': 'r' });
  });

  it('does not modify its input', () => {
    const copy = structuredClone(base);
    applyAclEdit(base, 'alice', '');
    applyAclEdit(base, 'bob', 'lrs');
    expect(base).toEqual(copy);
  });

  it('rejects bad letters and bad identifiers', () => {
    expectInvalid(() => applyAclEdit(base, 'alice', '+lz'), /"z"/);
    expectInvalid(() => applyAclEdit(base, 'alice', '-Q'), /"Q"/);
    expectInvalid(() => applyAclEdit(base, '', 'lr'), /empty/);
    expectInvalid(() => applyAclEdit(base, '-', 'lr'), /empty/);
    expectInvalid(() => applyAclEdit(base, 'a b', 'lr'), /space/);
  });

  it(`allows ${limits.aclEntriesMax} entries and refuses one more`, () => {
    const full = applyAclEdit(aclOf(limits.aclEntriesMax - 1), 'newcomer', 'lr');
    expect(full).toHaveLength(limits.aclEntriesMax);
    expectInvalid(() => applyAclEdit(full, 'onemore', 'lr'), /129 entries/);
    // A full ACL can still be changed and shrunk.
    expect(applyAclEdit(full, 'user0', '+w')).toHaveLength(limits.aclEntriesMax);
    expect(applyAclEdit(full, 'user0', '')).toHaveLength(limits.aclEntriesMax - 1);
    expect(applyAclEdit(full, 'onemore', '-r')).toHaveLength(limits.aclEntriesMax);
  });
});

describe('effectiveRights', () => {
  const alice = callerIdentifiers('alice', ['group:staff', 'group:ops']);

  it('callerIdentifiers is the user, the groups and anyone', () => {
    expect(alice).toEqual(['alice', 'group:staff', 'group:ops', 'anyone']);
  });

  it('unions the user, group and anyone entries, ignoring others', () => {
    const acl: AclEntry[] = [
      { identifier: 'alice', rights: 'l' },
      { identifier: 'group:staff', rights: 'r' },
      { identifier: 'group:ops', rights: 'w' },
      { identifier: 'anyone', rights: 's' },
      { identifier: 'bob', rights: 'x' },
      { identifier: 'group:other', rights: 'i' },
      { identifier: 'anonymous', rights: 'p' },
    ];
    expect(effectiveRights(acl, alice, false)).toBe('lrsw');
    expect(effectiveRights(acl, callerIdentifiers('carol', []), false)).toBe('s');
  });

  it('subtracts negative entries of any matching identifier, whichever entry granted the letter', () => {
    const acl: AclEntry[] = [
      { identifier: 'alice', rights: 'lrsw' },
      { identifier: 'anyone', rights: 'lri' },
      { identifier: '-group:staff', rights: 'r' },
      { identifier: '-alice', rights: 'w' },
      { identifier: '-bob', rights: 'l' },
    ];
    expect(effectiveRights(acl, alice, false)).toBe('lsi');
    expect(effectiveRights(acl, callerIdentifiers('bob', []), false)).toBe('ri');
  });

  it('-anyone takes rights from everybody', () => {
    const acl: AclEntry[] = [
      { identifier: 'alice', rights: 'lr' },
      { identifier: '-anyone', rights: 'l' },
    ];
    expect(effectiveRights(acl, alice, false)).toBe('r');
  });

  it('gives the owner the implicit rights, subject to negative entries', () => {
    expect(implicitOwnerRights).toBe('lkxan');
    expect(effectiveRights([], alice, true)).toBe('lkxan');
    expect(effectiveRights([], alice, false)).toBe('');
    expect(effectiveRights([{ identifier: 'alice', rights: 'rs' }], alice, true)).toBe('lrskxan');
    expect(effectiveRights([{ identifier: '-alice', rights: 'a' }], alice, true)).toBe('lkxn');
  });

  it('is canonical', () => {
    const acl: AclEntry[] = [
      { identifier: 'anyone', rights: 'n' },
      { identifier: 'alice', rights: 'l' },
      { identifier: 'group:ops', rights: 'a' },
    ];
    expect(effectiveRights(acl, alice, false)).toBe('lan');
  });
});

describe('normalizeAcl', () => {
  it('merges duplicate identifiers, canonicalises rights and drops empty entries', () => {
    const acl = normalizeAcl([
      { identifier: 'alice', rights: 'sr' },
      { identifier: 'bob', rights: '' },
      { identifier: 'alice', rights: 'wl' },
      { identifier: '-carol', rights: 'r' },
    ]);
    expect(acl).toEqual([
      { identifier: 'alice', rights: 'lrsw' },
      { identifier: '-carol', rights: 'r' },
    ]);
  });

  it(`accepts ${limits.aclEntriesMax} entries and rejects one more`, () => {
    expect(normalizeAcl(aclOf(limits.aclEntriesMax))).toHaveLength(limits.aclEntriesMax);
    expectInvalid(() => normalizeAcl(aclOf(limits.aclEntriesMax + 1)), /129 entries/);
  });

  it('validates identifiers and rights', () => {
    expectInvalid(() => normalizeAcl([{ identifier: '', rights: 'l' }]), /empty/);
    expectInvalid(() => normalizeAcl([{ identifier: 'a\x00', rights: 'l' }]), /control/);
    expectInvalid(() => normalizeAcl([{ identifier: 'alice', rights: 'lZ' }]), /"Z"/);
  });

  it(`enforces identifierBytesMax (${limits.identifierBytesMax}) in bytes`, () => {
    validateIdentifier('a'.repeat(limits.identifierBytesMax));
    validateIdentifier('-' + 'a'.repeat(limits.identifierBytesMax - 1));
    expectInvalid(() => validateIdentifier('a'.repeat(limits.identifierBytesMax + 1)), /256 bytes/);
    expectInvalid(() => validateIdentifier('\u00e9'.repeat(128)), /256 bytes/);
  });
});

describe('indexedIdentifier', () => {
  it('indexes negative entries under the plain identifier', () => {
    expect(indexedIdentifier('-bob')).toBe('bob');
    expect(indexedIdentifier('bob')).toBe('bob');
    expect(indexedIdentifier('-group:staff')).toBe('group:staff');
  });
});

describe('renameAclIdentifier', () => {
  it('renames the entry and its negative entry, leaving others and keeping the order', () => {
    const acl: AclEntry[] = [{ identifier: 'bob', rights: 'lr' }, { identifier: 'alice', rights: 'lrs' }, { identifier: '-alice', rights: 'd' }];
    expect(renameAclIdentifier(acl, 'alice', 'alicia')).toEqual([
      { identifier: 'bob', rights: 'lr' },
      { identifier: 'alicia', rights: 'lrs' },
      { identifier: '-alicia', rights: 'd' },
    ]);
  });

  it('replaces an entry the new name already had, as Cyrus\'s SETACL does', () => {
    const acl: AclEntry[] = [{ identifier: 'alicia', rights: 'l' }, { identifier: 'alice', rights: 'lrs' }];
    expect(renameAclIdentifier(acl, 'alice', 'alicia')).toEqual([{ identifier: 'alicia', rights: 'lrs' }]);
  });

  it('returns the same ACL when the old name has no entry, and matches whole identifiers only', () => {
    const acl: AclEntry[] = [{ identifier: 'alice@example.com', rights: 'lrs' }, { identifier: 'alicex', rights: 'l' }];
    expect(renameAclIdentifier(acl, 'alice', 'alicia')).toBe(acl);
  });

  it('refuses a new negative identifier past identifierBytesMax', () => {
    const long = 'a'.repeat(limits.identifierBytesMax);
    expectInvalid(() => renameAclIdentifier([{ identifier: '-alice', rights: 'd' }], 'alice', long), /longer than the limit/);
  });
});
