import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

/**
 * The engine's layers, bottom to top (a layer imports only from layers below it):
 *   contract/ → common/ → platform/ images/ model/ runtime/ jobs/ training/ → datasets/ store/
 *   → analysis/ → modes/ → inspection/ optimize/ → app/ → station/ (line protocols)
 *   → electron/ web/ cli/ (adapters)
 * analysis/ and modes/ never touch storage: a mode gets samples, a blob reader and model files
 * and returns what it trained or measured; inspection/, optimize/ and app/ read and store.
 * Each rule below names what a folder may not import; a planted violation is checked in
 * src-main/app/layers.test.ts. Tests may reach across layers (integration tests drive the service).
 */
const up = (...folders) => ({ regex: `^(\\.\\./)+(${folders.join('|')})/`, message: `This layer may not import ${folders.join('/, ')}/ (see the layer list in eslint.config.js).` });
const layer = (files, ...patterns) => ({ files, ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { paths: ELECTRON, patterns }] } });
const ELECTRON = [{ name: 'electron', message: 'Only src-main/electron/ may import electron.' }];
const NODE_ONLY = { group: ['node:*', 'electron', 'sharp', 'onnxruntime-node', 'better-sqlite3'], message: 'This folder is shared with the renderer: no Node modules.' };

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
  // No import cycles anywhere in the engine, its benchmarks and test support (type-only imports included).
  {
    files: ['src-main/**/*.ts', 'bench/**/*.ts', 'test-support/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'] })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // Only src-main/electron may import electron; everything else stays plain Node.
  { files: ['src-main/**/*.ts'], ignores: ['src-main/electron/**'], rules: { 'no-restricted-imports': ['error', { paths: ELECTRON }] } },
  layer(['src-main/contract/**/*.ts'], { regex: '^\\.\\./', message: 'contract/ is the ground floor: it imports nothing from the engine.' }, NODE_ONLY),
  layer(['src-main/common/**/*.ts'], up('platform', 'images', 'model', 'runtime', 'jobs', 'training', 'datasets', 'store', 'analysis', 'modes', 'inspection', 'optimize', 'app', 'electron', 'web', 'cli', 'station'), NODE_ONLY),
  layer(['src-main/{platform,images,model,runtime,jobs,training}/**/*.ts'], up('store', 'analysis', 'modes', 'inspection', 'optimize', 'app', 'electron', 'web', 'cli', 'station')),
  layer(['src-main/{datasets,store}/**/*.ts'], up('analysis', 'modes', 'inspection', 'optimize', 'app', 'electron', 'web', 'cli', 'station')),
  layer(['src-main/analysis/**/*.ts'], up('store', 'datasets', 'modes', 'inspection', 'optimize', 'app', 'electron', 'web', 'cli', 'station')),
  layer(['src-main/modes/**/*.ts'], up('store', 'datasets', 'inspection', 'optimize', 'app', 'electron', 'web', 'cli', 'station')),
  layer(['src-main/{inspection,optimize}/**/*.ts'], up('app', 'electron', 'web', 'cli', 'station')),
  layer(['src-main/app/**/*.ts'], up('electron', 'web', 'cli', 'station')),
  layer(['src-main/station/**/*.ts'], up('electron', 'web', 'cli')),
  // The renderer reaches the engine only through the typed API: no Node, no engine code.
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'electron'], message: 'The renderer has no Node access.' },
          { regex: 'src-main/(?!contract/|common/)', message: 'The renderer shares only src-main/contract/ (types) and src-main/common/ (pure code) with the engine.' },
        ],
      }],
    },
  },
);
