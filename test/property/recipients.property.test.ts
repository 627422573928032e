// Properties of the recipient -> user rule: extensions, case and local domains
// never change whose mail it is. Replay a failure with FC_SEED=<seed>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recipientRulesOf, recipientUser } from '../../src/model/recipients.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261206;
const runs = { seed, numRuns: 500 };
const localPart = fc.stringMatching(/^[a-z0-9][a-z0-9._]{0,20}$/);
const extension = fc.stringMatching(/^[A-Za-z0-9+._-]{0,15}$/);
const domain = fc.stringMatching(/^[a-z][a-z0-9]{0,10}\.(com|org|net)$/);
const caseMask = fc.array(fc.boolean(), { minLength: 64, maxLength: 64 });

function recase(text: string, mask: boolean[]): string {
  return [...text].map((c, index) => (mask[index % mask.length] === true ? c.toUpperCase() : c)).join('');
}

describe(`recipientUser (seed ${seed})`, () => {
  it('user+ext@domain in any case is the user of user@domain', () => {
    fc.assert(
      fc.property(localPart, extension, domain, caseMask, fc.boolean(), (local, ext, dom, mask, isLocal) => {
        const rules = recipientRulesOf('+', true, isLocal ? dom : '');
        const expected = isLocal ? local : `${local}@${dom}`;
        expect(recipientUser(recase(`${local}+${ext}@${dom}`, mask), rules)).toBe(expected);
        expect(recipientUser(`${local}@${dom}`, rules)).toBe(expected);
      }),
      runs,
    );
  });

  it('is idempotent: the user of a user id is itself', () => {
    fc.assert(
      fc.property(localPart, extension, domain, fc.boolean(), (local, ext, dom, isLocal) => {
        const rules = recipientRulesOf('+', true, isLocal ? dom : '');
        const user = recipientUser(`${local}+${ext}@${dom}`, rules);
        expect(recipientUser(user, rules)).toBe(user);
      }),
      runs,
    );
  });

  it('never returns a user for another domain, nor throws anything but InvalidArgument', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), domain, (text, dom) => {
        const rules = recipientRulesOf('+', true, dom);
        try {
          const user = recipientUser(text, rules);
          const at = text.lastIndexOf('@');
          if (at >= 0) {
            const given = text.slice(at + 1).toLowerCase().replace(/\.$/, '');
            expect(given === dom ? !user.includes('@') : user.endsWith(`@${given}`)).toBe(true);
          }
        } catch (error) {
          expect((error as { kind?: string }).kind).toBe('InvalidArgument');
        }
      }),
      runs,
    );
  });
});
