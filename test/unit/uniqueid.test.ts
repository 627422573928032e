// Mailbox uniqueids: validation (1..64 of [A-Za-z0-9._-], Cyrus's 24-char ids
// and UUIDs accepted) and generation from an injected, seeded byte source.
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/model/limits.js';
import { generateUniqueid, validateUniqueid } from '../../src/model/uniqueid.js';
import { seededBytes } from '../../tools/bench/stats.js';
import { expectInvalid } from './expect-error.js';


describe('validateUniqueid', () => {
  it('accepts Cyrus ids, UUIDs and anything of 1..64 [A-Za-z0-9._-]', () => {
    for (const good of ['b370sjdf5ghfctk8ucyuoiy8', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'x', 'A.b_C-9', 'u'.repeat(64)]) {
      validateUniqueid(good);
    }
  });

  it(`refuses the empty id and ids over ${limits.uniqueidLengthMax} characters`, () => {
    expectInvalid(() => validateUniqueid(''), /empty/);
    expectInvalid(() => validateUniqueid('u'.repeat(limits.uniqueidLengthMax + 1)), /65 characters/);
  });

  it('refuses characters outside the set, naming the value', () => {
    for (const bad of ['a/b', 'a b', 'a!b', 'a+b', 'caf\u00e9', 'a\n', '{abc}', 'a:b']) {
      expectInvalid(() => validateUniqueid(bad), /outside \[A-Za-z0-9._-\]/);
    }
    expectInvalid(() => validateUniqueid('a/b'), /"a\/b"/);
  });
});

describe('generateUniqueid', () => {
  it('maps bytes to lowercase base 36 and redraws bytes that would bias it', () => {
    const requested: number[] = [];
    const pattern = [0, 9, 10, 35, 36, 255, 251, 252];
    const id = generateUniqueid((count) => {
      requested.push(count);
      return Uint8Array.from({ length: count }, (_, index) => pattern[index % pattern.length]!);
    });
    // 255 and 252 are skipped (>= 252 = 7 x 36); 251 = 6 x 36 + 35 maps to "z".
    expect(id).toBe('09az0z'.repeat(4));
    expect(requested.every((count) => count === 32)).toBe(true);
  });

  it('is a valid 24-character id of Cyrus shape, replayable from the seed', () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const id = generateUniqueid(seededBytes(seed));
      expect(id, `seed ${seed}`).toMatch(/^[0-9a-z]{24}$/);
      validateUniqueid(id);
      expect(generateUniqueid(seededBytes(seed))).toBe(id);
    }
  });

  it('gives distinct ids for distinct draws from one source', () => {
    const source = seededBytes(20240611);
    const ids = new Set(Array.from({ length: 1000 }, () => generateUniqueid(source)));
    expect(ids.size).toBe(1000);
  });
});
