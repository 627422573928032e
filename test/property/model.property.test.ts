// Seeded fast-check properties of src/model: sort-key order (total, injective,
// subtrees contiguous), rename round trips, user roots, ACL edit algebra, and LIST
// matching against naive and DP reference matchers, adversarial patterns included.
// Replay a failure with FC_SEED=<seed printed by fast-check> (and its path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AclEntry,
  applyAclEdit,
  callerIdentifiers,
  effectiveRights,
  implicitOwnerRights,
  normalizeAcl,
  normalizeRights,
  rightsOrder,
  unionRights,
} from '../../src/model/acl.js';
import { DirectoryError } from '../../src/model/errors.js';
import { limits } from '../../src/model/limits.js';
import {
  childKeyRange,
  compareNames,
  domainOf,
  isInSubtree,
  isUserRoot,
  nameColumns,
  ownerOf,
  parentName,
  renamedName,
  sortKey,
  userRootName,
  validateName,
  validateUserId,
} from '../../src/model/names.js';
import { compilePattern, matchPattern } from '../../src/model/pattern.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20240611;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns });

const sign = (value: number): number => (value > 0 ? 1 : value < 0 ? -1 : 0);
const isValid = (check: () => unknown): boolean => {
  try {
    check();
    return true;
  } catch (error) {
    // Only InvalidArgument is an acceptable refusal; anything else is a bug.
    if (error instanceof DirectoryError && error.kind === 'InvalidArgument') return false;
    throw error;
  }
};

// ---------------------------------------------------------------- names

// Characters around the separators' byte values (' ' 0x20, '-' 0x2D < '.'),
// multibyte ones whose UTF-8 and UTF-16 orders differ, and domain-like letters.
const segmentCharacter = fc.constantFrom('a', 'b', 'x', 'A', ' ', '-', '_', '0', '~', '\u00e9', '\uff61', '\u{1F600}');
const segment = fc.array(segmentCharacter, { minLength: 1, maxLength: 3 }).map((cs) => cs.join(''));
const localName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((ss) => ss.join('.'));
const domain = fc
  .array(fc.array(fc.constantFrom('a', 'b', 'x'), { minLength: 1, maxLength: 2 }).map((cs) => cs.join('')), {
    minLength: 1,
    maxLength: 2,
  })
  .map((parts) => parts.join('.'));
const mailboxName = fc
  .tuple(fc.option(domain, { nil: null }), localName)
  .map(([d, local]) => (d === null ? local : `${d}!${local}`));

/** A name and one of its string prefixes ending at a `.` or `!`: an ancestor, or a top-level look-alike. */
const nameAndCut = fc.tuple(mailboxName, fc.nat()).map(([name, pick]) => {
  const cuts = [...name.matchAll(/[.!]/g)].map((m) => m.index).concat(name.length);
  const cut = cuts[pick % cuts.length]!;
  return { name, root: name.slice(0, cut) };
});
const nameAndRoot = fc.oneof(
  nameAndCut,
  fc.tuple(mailboxName, mailboxName).map(([name, root]) => ({ name, root })),
);

const inKeySubtree = (name: string, root: string): boolean => {
  const key = sortKey(name);
  const rootKey = sortKey(root);
  if (key.equals(rootKey)) return true;
  const { low, high } = childKeyRange(rootKey);
  return Buffer.compare(key, low) >= 0 && Buffer.compare(key, high) < 0;
};

describe(`names (seed ${seed})`, () => {
  it('generated names are valid', () => {
    fc.assert(fc.property(mailboxName, (name) => validateName(name)), runs(200));
  });

  it('compareNames agrees with sort-key bytes, is antisymmetric, and is 0 only for equal names', () => {
    const pair = fc.oneof(
      fc.tuple(mailboxName, mailboxName),
      nameAndCut.map(({ name, root }) => [name, root] as [string, string]),
    );
    fc.assert(
      fc.property(pair, ([left, right]) => {
        const byName = compareNames(left, right);
        expect(sign(byName)).toBe(sign(Buffer.compare(sortKey(left), sortKey(right))));
        expect(sign(compareNames(right, left))).toBe(0 - sign(byName));
        expect(byName === 0).toBe(left === right);
      }),
      runs(1000),
    );
  });

  it('distinct valid names never share a sort key, even with odd UTF-16', () => {
    const odd = fc
      .array(fc.constantFrom('a', '.', '\ud800', '\udbff', '\udc00', '\ud83d\ude00', '\ufffd'), { minLength: 1, maxLength: 5 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(odd, odd, (left, right) => {
        if (!isValid(() => validateName(left)) || !isValid(() => validateName(right))) return;
        expect(sortKey(left).equals(sortKey(right))).toBe(left === right);
      }),
      runs(2000),
    );
  });

  // Not "contiguous right after the root": in Cyrus's dbname order the domain
  // `b` (`b!a` = b 0x1D a) sorts between the top-level `b` and its child `b.a`
  // (b 0x1F a). The strict descendants are contiguous, and the root precedes them.
  it('sorting by compareNames is a total order in which every subtree below a root is contiguous', () => {
    const names = fc.uniqueArray(
      fc.oneof(mailboxName, nameAndCut.map(({ root }) => root)),
      { minLength: 1, maxLength: 25 },
    );
    fc.assert(
      fc.property(names, (list) => {
        const sorted = [...list].sort(compareNames);
        for (let i = 0; i < sorted.length; i += 1) {
          for (let j = i + 1; j < sorted.length; j += 1) expect(compareNames(sorted[i]!, sorted[j]!)).toBeLessThan(0);
        }
        for (const [index, root] of sorted.entries()) {
          const below = sorted.flatMap((name, at) => (name !== root && isInSubtree(name, root) ? [at] : []));
          if (below.length === 0) continue;
          expect(below[0]).toBeGreaterThan(index);
          expect(below.at(-1)! - below[0]! + 1).toBe(below.length);
        }
      }),
      runs(300),
    );
  });

  it('nameColumns gives what sortKey, ownerOf and isUserRoot give, from one parse', () => {
    const userName = fc
      .tuple(fc.option(domain, { nil: null }), fc.constantFrom('a', 'b^c', 'x^'), fc.option(localName, { nil: null }))
      .map(([d, user, below]) => `${d === null ? '' : `${d}!`}user.${user}${below === null ? '' : `.${below}`}`);
    fc.assert(
      fc.property(fc.oneof(mailboxName, userName), (name) => {
        expect(nameColumns(name)).toEqual({ sortkey: sortKey(name), owner: ownerOf(name), isRoot: isUserRoot(name) });
      }),
      runs(1000),
    );
  });

  it('isInSubtree agrees with childKeyRange on sort keys', () => {
    fc.assert(
      fc.property(nameAndRoot, ({ name, root }) => {
        expect(isInSubtree(name, root)).toBe(inKeySubtree(name, root));
      }),
      runs(2000),
    );
  });

  it('renamedName round-trips, lands under the new root and keeps parents in step', () => {
    const suffix = fc.array(segment, { maxLength: 3 });
    fc.assert(
      fc.property(mailboxName, suffix, mailboxName, (from, tail, to) => {
        const name = [from, ...tail].join('.');
        const renamed = renamedName(name, from, to);
        validateName(renamed);
        expect(renamedName(renamed, to, from)).toBe(name);
        expect(isInSubtree(renamed, to)).toBe(true);
        expect(domainOf(renamed)).toBe(domainOf(to));
        expect(inKeySubtree(renamed, to)).toBe(true);
        if (tail.length > 0) expect(parentName(renamed)).toBe(renamedName(parentName(name)!, from, to));
      }),
      runs(1000),
    );
  });

  it('renamedName refuses exactly the names outside the subtree', () => {
    fc.assert(
      fc.property(nameAndRoot, mailboxName, ({ name, root }, to) => {
        if (inKeySubtree(name, root)) expect(renamedName(name, root, to)).toBe(to + name.slice(root.length));
        else expect(() => renamedName(name, root, to)).toThrow(/not under/);
      }),
      runs(1000),
    );
  });

  it('user roots: ownerOf inverts userRootName and distinct users get distinct roots', () => {
    const localPartArb = fc.array(fc.constantFrom('a', 'b', '.', '-', '_', '^', '\u00e9'), { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
    const user = fc
      .tuple(localPartArb, fc.option(domain, { nil: null }))
      .map(([local, d]) => (d === null ? local : `${local}@${d}`));
    fc.assert(
      fc.property(user, user, (left, right) => {
        if (!isValid(() => validateUserId(left)) || !isValid(() => validateUserId(right))) return;
        const leftRoot = userRootName(left);
        expect(ownerOf(leftRoot)).toBe(left);
        expect(ownerOf(`${leftRoot}.Sent`)).toBe(left);
        expect(leftRoot === userRootName(right)).toBe(left === right);
      }),
      runs(2000),
    );
  });

  it(`a name is accepted exactly when it is at most ${limits.nameBytesMax} UTF-8 bytes`, () => {
    const longName = fc
      .array(fc.constantFrom('a', '\u00e9', '\uff61', '\u{1F600}'), { minLength: 115, maxLength: 490 })
      .map((cs) => `user.${cs.join('')}`);
    fc.assert(
      fc.property(longName, (name) => {
        expect(isValid(() => validateName(name))).toBe(Buffer.byteLength(name) <= limits.nameBytesMax);
      }),
      runs(500),
    );
  });
});

// ---------------------------------------------------------------- ACL

const rightsLetters = fc.array(fc.constantFrom(...rightsOrder), { maxLength: limits.rightsLengthMax }).map((cs) => cs.join(''));
const identifier = fc.constantFrom('alice', 'bob', '-alice', '-bob', 'anyone', '-anyone', 'group:staff', '-group:staff', 'group:ops');
const acl = fc
  .array(fc.record({ identifier, rights: rightsLetters }), { maxLength: 12 })
  .map((entries) => normalizeAcl(entries));
const asMap = (entries: readonly AclEntry[]): Map<string, string> => new Map(entries.map((e) => [e.identifier, e.rights]));
const rightsOf = (entries: readonly AclEntry[], id: string): string => asMap(entries).get(id) ?? '';
const letterSet = (rights: string): string[] => [...new Set(rights)].sort();

const checkWellFormed = (entries: readonly AclEntry[]): void => {
  expect(new Set(entries.map((e) => e.identifier)).size).toBe(entries.length);
  for (const entry of entries) {
    expect(entry.rights).not.toBe('');
    expect(normalizeRights(entry.rights)).toBe(entry.rights);
  }
};

describe(`ACL algebra (seed ${seed})`, () => {
  it('normalizeRights is idempotent, order-insensitive and keeps the letter set', () => {
    fc.assert(
      fc.property(rightsLetters, fc.nat(), (rights, rotation) => {
        const once = normalizeRights(rights);
        expect(normalizeRights(once)).toBe(once);
        const shift = rights.length === 0 ? 0 : rotation % rights.length;
        const reordered = [...rights.slice(shift) + rights.slice(0, shift)].reverse().join('');
        expect(normalizeRights(reordered)).toBe(once);
        expect(letterSet(once)).toEqual(letterSet(rights));
      }),
      runs(1000),
    );
  });

  it('add then remove equals remove; remove then add equals add; others untouched', () => {
    fc.assert(
      fc.property(acl, identifier, rightsLetters, (entries, id, rights) => {
        const removed = applyAclEdit(entries, id, `-${rights}`);
        expect(asMap(applyAclEdit(applyAclEdit(entries, id, `+${rights}`), id, `-${rights}`))).toEqual(asMap(removed));
        const added = applyAclEdit(entries, id, `+${rights}`);
        const removedThenAdded = applyAclEdit(removed, id, `+${rights}`);
        checkWellFormed(removedThenAdded);
        expect(rightsOf(removedThenAdded, id)).toBe(rightsOf(added, id));
        for (const edited of [removed, added, applyAclEdit(entries, id, rights)]) {
          checkWellFormed(edited);
          const others = (list: readonly AclEntry[]): Map<string, string> => {
            const map = asMap(list);
            map.delete(id);
            return map;
          };
          expect(others(edited)).toEqual(others(entries));
        }
        expect(rightsOf(applyAclEdit(entries, id, rights), id)).toBe(normalizeRights(rights));
        expect(rightsOf(added, id)).toBe(unionRights(rightsOf(entries, id), rights));
      }),
      runs(1000),
    );
  });

  it('effectiveRights is the reference union minus negatives, never holding a negated letter', () => {
    const caller = fc.record({
      user: fc.constantFrom('alice', 'bob', 'carol'),
      groups: fc.subarray(['group:staff', 'group:ops']),
      isOwner: fc.boolean(),
    });
    fc.assert(
      fc.property(acl, caller, (entries, { user, groups, isOwner }) => {
        const ids = callerIdentifiers(user, groups);
        const rights = effectiveRights(entries, ids, isOwner);
        const negated = entries
          .filter((e) => e.identifier.startsWith('-') && ids.includes(e.identifier.slice(1)))
          .map((e) => e.rights)
          .join('');
        const granted =
          (isOwner ? implicitOwnerRights : '') +
          entries
            .filter((e) => !e.identifier.startsWith('-') && ids.includes(e.identifier))
            .map((e) => e.rights)
            .join('');
        for (const letter of negated) expect(rights).not.toContain(letter);
        const expected = [...rightsOrder].filter((l) => granted.includes(l) && !negated.includes(l)).join('');
        expect(rights).toBe(expected);
      }),
      runs(1000),
    );
  });
});

// ---------------------------------------------------------------- LIST patterns

/** The obvious recursive matcher: exponential, so only for short inputs. */
function naiveMatch(pattern: readonly string[], name: readonly string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [head, ...rest] = pattern;
  if (head === '*' || head === '%') {
    for (let taken = 0; taken <= name.length; taken += 1) {
      if (taken > 0 && head === '%' && name[taken - 1] === '.') return false;
      if (naiveMatch(rest, name.slice(taken))) return true;
    }
    return false;
  }
  return name.length > 0 && name[0] === head && naiveMatch(rest, name.slice(1));
}

/** Backward dynamic programming over the uncollapsed pattern: O(pattern x name). */
function dpMatch(patternText: string, nameText: string): boolean {
  const pattern = [...patternText];
  const name = [...nameText];
  let below = new Uint8Array(name.length + 1);
  below[name.length] = 1;
  for (let i = pattern.length - 1; i >= 0; i -= 1) {
    const row = new Uint8Array(name.length + 1);
    const token = pattern[i];
    row[name.length] = token === '*' || token === '%' ? below[name.length]! : 0;
    for (let j = name.length - 1; j >= 0; j -= 1) {
      if (token === '*') row[j] = below[j]! | row[j + 1]!;
      else if (token === '%') row[j] = below[j]! | (name[j] !== '.' ? row[j + 1]! : 0);
      else row[j] = name[j] === token ? below[j + 1]! : 0;
    }
    below = row;
  }
  return below[0] === 1;
}

const shortName = fc.array(fc.constantFrom('a', 'b', '.'), { maxLength: 8 }).map((cs) => cs.join(''));
const shortPattern = fc.array(fc.constantFrom('a', 'b', '.', '*', '%'), { maxLength: 8 }).map((cs) => cs.join(''));

/** Patterns of up to 32 wildcard runs, each run possibly several characters, with literals between. */
const wildcardRun = fc.constantFrom('*', '%', '*%', '%*%*', '%%', '%%%*');
const literal = fc.array(fc.constantFrom('a', 'b', '.'), { maxLength: 3 }).map((cs) => cs.join(''));
const adversarialPattern = fc
  .array(fc.tuple(literal, wildcardRun), { minLength: 1, maxLength: limits.patternWildcardsMax })
  .chain((chunks) => literal.map((last) => chunks.map(([lit, run]) => lit + run).join('') + last));
const nameOf490 = fc
  .array(fc.constantFrom('a', 'a', 'a', 'b', '.'), { minLength: limits.nameBytesMax, maxLength: limits.nameBytesMax })
  .map((cs) => cs.join(''));

describe(`LIST patterns (seed ${seed})`, () => {
  it('the two reference matchers agree on short inputs', () => {
    fc.assert(
      fc.property(shortPattern, shortName, (pattern, name) => {
        expect(dpMatch(pattern, name)).toBe(naiveMatch([...pattern], [...name]));
      }),
      runs(3000),
    );
  });

  it('matchPattern agrees with the naive matcher, however reference and pattern are split', () => {
    fc.assert(
      fc.property(shortPattern, shortName, fc.nat(), (full, name, at) => {
        const cut = full.length === 0 ? 0 : at % (full.length + 1);
        const compiled = compilePattern(full.slice(0, cut), full.slice(cut));
        const matched = matchPattern(compiled, name);
        expect(matched).toBe(naiveMatch([...full], [...name]));
        if (matched) expect(name.startsWith(compiled.literalPrefix)).toBe(true);
      }),
      runs(5000),
    );
  });

  it('adversarial patterns at the wildcard limit against 490-byte names give the right answer', () => {
    fc.assert(
      fc.property(adversarialPattern, nameOf490, (pattern, name) => {
        const compiled = compilePattern('', pattern);
        expect(matchPattern(compiled, name)).toBe(dpMatch(pattern, name));
      }),
      runs(200),
    );
  });

  it('a name built by filling in the wildcards of a pattern matches it', () => {
    const filler = fc.array(fc.constantFrom('a', 'b', '.'), { maxLength: 14 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(adversarialPattern, fc.infiniteStream(filler), (pattern, fillers) => {
        const iterator = fillers[Symbol.iterator]();
        // Each wildcard run is replaced by text it can match: `%` runs get no `.`.
        const name = pattern.replace(/[*%]+/g, (run) => {
          const text = iterator.next().value as string;
          return run.includes('*') ? text : text.replace(/\./g, 'a');
        });
        expect(matchPattern(compilePattern('', pattern), name)).toBe(true);
        expect(dpMatch(pattern, name)).toBe(true);
      }),
      runs(200),
    );
  });

  it('hand-made worst cases answer correctly', () => {
    const a490 = 'a'.repeat(490);
    const a489b = 'a'.repeat(489) + 'b';
    const dots = 'a.'.repeat(245);
    const cases: Array<[string, string, boolean]> = [
      ['*%'.repeat(200) + 'a', 'user.' + 'b'.repeat(485), false],
      ['*%'.repeat(200) + 'a', 'user.' + 'b'.repeat(484) + 'a', true],
      ['*a'.repeat(32) + 'b', a490, false],
      ['*a'.repeat(31) + '*b', a489b, true],
      ['%a'.repeat(32) + 'b', a490, false],
      ['%a'.repeat(32) + 'b', a489b, true],
      ['%.'.repeat(32), dots, false],
      ['*.'.repeat(32), dots, true],
      ['%.'.repeat(31) + '*', dots, true],
      ['%%*%a'.repeat(32), a490, true],
      ['%%*%a'.repeat(32) + '.', a490, false],
    ];
    for (const [pattern, name, expected] of cases) {
      const compiled = compilePattern('', pattern);
      expect(dpMatch(pattern, name), pattern).toBe(expected);
      expect(matchPattern(compiled, name), pattern).toBe(expected);
    }
  });

  it(`reference + pattern is accepted exactly when at most ${limits.patternBytesMax} bytes`, () => {
    // Cut between code points: a cut inside a surrogate pair is not a real input.
    const characters = fc.array(fc.constantFrom('a', '.', '\u00e9', '\u{1F600}'), { minLength: 120, maxLength: 520 });
    fc.assert(
      fc.property(characters, fc.nat(), (cs, at) => {
        const cut = at % (cs.length + 1);
        const accepted = isValid(() => compilePattern(cs.slice(0, cut).join(''), cs.slice(cut).join('')));
        expect(accepted).toBe(Buffer.byteLength(cs.join('')) <= limits.patternBytesMax);
      }),
      runs(500),
    );
  });
});
