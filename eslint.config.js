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

/** Patterns every file under `core/` must avoid: it runs without Electron, a DOM or the renderer. */
const forbiddenPatternsInCore = [
  { group: ['electron/*', '**/electron/**'], message: 'core/ must not import electron/.' },
  { group: ['**/renderer/**'], message: 'core/ must not import renderer/.' },
];

/**
 * The core's floor plan (DESIGN.md section 8, docs/architecture.md), lowest first. A unit is a
 * folder (`core/home/`) or a top-level file (`core/config.ts`). A unit may import only units in
 * lower groups; units in one group may not import each other. So the folders form no cycle, and
 * the view types every layer shares sit in a leaf at the bottom.
 */
export const coreFloorPlan = [
  ['view-types', 'version', 'format'],
  ['errors', 'redact'],
  ['ports', 'config'],
  ['log', 'net'],
  ['home'],
  ['state'],
  ['profiles'],
  ['auth'],
  ['quota'],
  ['router'],
  ['proxy', 'priming'],
  ['service'],
  ['cli'],
];
export const topLevelCoreFiles = new Set([
  'view-types',
  'version',
  'format',
  'errors',
  'redact',
  'ports',
  'config',
  'log',
]);

/** A regex matching a relative import of `unit` from anywhere under `core/`. */
function unitImportRegex(unit) {
  return topLevelCoreFiles.has(unit) ? `(^|/)${unit}\\.ts$` : `(^|/)${unit}/`;
}

/** One config block per unit of the floor plan: everything at its level or above is off limits. */
function floorPlanBlocks() {
  return coreFloorPlan.flatMap((group, level) =>
    group.map((unit) => {
      const above = coreFloorPlan
        .slice(level)
        .flat()
        .filter((other) => other !== unit);
      return {
        files: topLevelCoreFiles.has(unit) ? [`core/${unit}.ts`] : [`core/${unit}/**/*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              paths: forbiddenInCore,
              patterns: [
                ...forbiddenPatternsInCore,
                ...above.map((other) => ({
                  regex: unitImportRegex(other),
                  message: `core/${unit} sits below (or beside) core/${other} in the floor plan (docs/architecture.md): import only downward, or move the shared piece into a lower layer.`,
                })),
              ],
            },
          ],
        },
      };
    }),
  );
}

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
        { paths: forbiddenInCore, patterns: forbiddenPatternsInCore },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'window', message: 'core/ runs without a DOM.' },
        { name: 'document', message: 'core/ runs without a DOM.' },
        { name: 'localStorage', message: 'core/ runs without a DOM.' },
        { name: 'navigator', message: 'core/ runs without a DOM.' },
        {
          name: 'fetch',
          message:
            "Send Codex Lab's own calls with outboundFetch (core/net/outbound-fetch.ts): the global fetch adds headers Codex never sends.",
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'globalThis',
          property: 'fetch',
          message:
            "Send Codex Lab's own calls with outboundFetch (core/net/outbound-fetch.ts): the global fetch adds headers Codex never sends.",
        },
      ],
    },
  },
  ...floorPlanBlocks(),
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks only to window.codexLab.' }],
          patterns: [
            {
              // The typed contract, its view types, and the shared words (leaves: no Node, no DOM).
              regex: '(^|/)core/(?!service/contract\\.ts$|view-types\\.ts$|format\\.ts$)',
              message:
                'The renderer may import only the typed contract (core/service/contract.ts, core/view-types.ts) and the shared words (core/format.ts).',
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
