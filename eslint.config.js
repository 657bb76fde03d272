// ESLint: correctness rules (typescript-eslint, type-aware where it pays: floating and misused
// promises in a server built on async hooks). Style is Prettier's job (`prettier --check .`).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const PUBLIC_ENTRIES = "'pxekit', 'pxekit/kit', 'pxekit/testing' or 'pxekit/plugins/<name>' (docs/plugins.md)";
const INTERNALS = {
  regex: '^(\\.\\.?/)+(.*/)?(core|plugins|dist)(/|$)',
  message: `pxekit's internals are not an API: import ${PUBLIC_ENTRIES}`,
};
const SIBLING_PLUGIN = {
  regex: '^\\.\\./(?!\\.\\./)',
  message: `another plugin's files are not an API: import ${PUBLIC_ENTRIES}`,
};

export default defineConfig(
  { ignores: ['node_modules/**', 'dist/**', 'core/native/build/**', 'eslint.config.js'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner tracks itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Plugins and examples are what outside authors copy: they reach pxekit only through its public
    // entries, never its internals by relative path (issue 14).
    files: ['plugins/**', 'examples/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [INTERNALS] }],
    },
  },
  {
    // …nor another plugin's files (a plugin is used through its public entry, pxekit/plugins/<name>).
    files: ['plugins/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [INTERNALS, SIBLING_PLUGIN] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
  {
    // CommonJS tool configs (.dependency-cruiser.cjs).
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
  },
);
