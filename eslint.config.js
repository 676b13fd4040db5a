// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Packages and Node built-ins that `core/` must never import: it runs without Electron or a DOM. */
const forbiddenInCore = [
  {
    name: 'electron',
    message: 'core/ is plain TypeScript: pass effects in from electron/ instead.',
  },
  { name: 'react', message: 'core/ has no UI: React belongs in renderer/.' },
  { name: 'react-dom', message: 'core/ has no UI: React belongs in renderer/.' },
  { name: 'zustand', message: 'core/ has no UI state: zustand belongs in renderer/.' },
  { name: 'electron-store', message: 'electron-store is for app preferences in electron/ only.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'coverage/**', '.vite/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    // Tool configs are loaded by their tools, which expect a default export.
    files: ['*.config.ts', '*.config.js', 'forge.config.ts', 'renderer/vite.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['core/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenInCore,
          patterns: [
            {
              group: ['electron/*', '**/electron/**'],
              message: 'core/ must not import electron/.',
            },
            { group: ['**/renderer/**'], message: 'core/ must not import renderer/.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'window', message: 'core/ runs without a DOM.' },
        { name: 'document', message: 'core/ runs without a DOM.' },
        { name: 'localStorage', message: 'core/ runs without a DOM.' },
        { name: 'navigator', message: 'core/ runs without a DOM.' },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks only to window.codexLab.' }],
          patterns: [
            {
              regex: '(^|/)core/(?!service/contract\\.ts$)',
              message:
                'The renderer may import only the typed contract from core/service/contract.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/ipc/ipc-main.ts', 'electron/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcMain', 'ipcRenderer'],
              message: 'Use the typed wrappers in electron/ipc/ipc-main.ts.',
            },
          ],
        },
      ],
    },
  },
);
