// Bundles the CLI into dist/cli/ with esbuild: one entry plus lazily loaded chunks per command,
// so `codex-lab list` parses only what it runs (see docs/benchmarks.md).
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'core/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
