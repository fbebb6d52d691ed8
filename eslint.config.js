import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['out/', 'node_modules/', 'test-results/', '.tools/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Layering: only src-main/electron may import electron; the engine stays pure Node.
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src-main/electron/ may import electron.' }] }],
    },
  },
  // src-main/common/ is pure code for both sides: no Node, no DOM, no electron.
  {
    files: ['src-main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'electron', 'sharp', 'onnxruntime-node', 'better-sqlite3'], message: 'src-main/common/ is shared with the renderer.' }] }],
    },
  },
  // The renderer reaches the engine only through the typed API: no Node, no engine code.
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'electron'], message: 'The renderer has no Node access.' },
          { regex: 'src-main/(?!api/contract|common/)', message: 'The renderer shares only src-main/api/contract.ts (types) and src-main/common/ (pure code) with the engine.' },
        ],
      }],
    },
  },
);
