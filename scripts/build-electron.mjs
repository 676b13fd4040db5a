// Bundles the Electron main process (ESM, like the package) and the sandboxed preload (CommonJS:
// sandboxed preloads cannot load ES modules) into dist/electron/. Dependencies stay external for
// main (Forge packs node_modules into the asar); the preload is fully self-contained except for
// `electron` itself, which the sandbox provides.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'electron/main.ts' },
    outdir: 'dist/electron',
    format: 'esm',
    packages: 'external',
  }),
  build({
    ...common,
    entryPoints: { preload: 'electron/preload.ts' },
    outdir: 'dist/electron',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    external: ['electron'],
  }),
]);
