// One linter across the tree, tests included (STYLE.md): typescript-eslint's recommended
// type-aware rules, with no-floating-promises on — an unhandled promise on a
// socket is a real outage.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js', 'src/api/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // The store's narrow door: SQL and the raw connection stay in src/store (tests of the store may look inside).
    files: ['src/**/*.ts', 'tools/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['better-sqlite3'], message: 'SQL runs in src/store only: add a Store method named for what it does.' },
          { group: ['**/store/connection.js'], message: 'The raw connection is for src/store only: import the Store (store.js) instead.' },
        ],
      }],
    },
  },
);
