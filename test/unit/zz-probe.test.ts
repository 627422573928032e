import { it } from 'vitest';
import { isInSubtree, sortKey, userRootName, compareNames, validateName } from '/work/main/src/model/names.js';
it('probe', () => {
  console.log('isInSubtree(example.com!user.x, example)=', isInSubtree('example.com!user.x', 'example'));
  validateName('user.\ud800'); validateName('user.\udc00');
  console.log('surrogates compare', compareNames('user.\ud800', 'user.\udc00'), sortKey('user.\ud800'));
  console.log(userRootName('a^b'), userRootName('a.b'));
});
