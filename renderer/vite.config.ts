import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The settings page build: relative asset paths (`base: './'`) so the same files load from
 * file:// in Electron and from `/ui/` under `codex-lab serve`. JSX goes through Vite's built-in
 * oxc transform with the automatic runtime (no React plugin needed).
 */
export default defineConfig({
  root,
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline module-preload polyfill: the CSP forbids inline scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
