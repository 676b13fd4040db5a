// Bundles the CLI into dist/cli/ with esbuild: one entry plus lazily loaded chunks per command,
// so `codex-lab list` parses only what it runs (see docs/benchmarks.md). Small pure-JS packages
// (commander, zod, the file helpers) are bundled in: resolving and loading them as separate module
// files costs more than the rest of a cold start. Native, worker-based or large ones stay outside.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, sep } from 'node:path';

// zod's namespace export drags in every message locale (~40 languages, a third of the bundle) and
// evaluates them at start-up; the CLI speaks English, which zod configures on its own.
const englishOnlyZodLocales = {
  name: 'english-only-zod-locales',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${sep}zod${sep}`)
        ? { path: 'zod-locales', namespace: 'english-only-zod-locales' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'english-only-zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: process.cwd(),
    }));
  },
};

const result = await build({
  entryPoints: { cli: 'core/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: ['@napi-rs/keyring', 'pino', 'undici', 'oauth4webapi', 'electron', 'electron-store'],
  // Bundled CommonJS packages expect require(), __filename and __dirname.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      "import { dirname as __pathDirname } from 'node:path';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join(' '),
  },
  // Minified code parses faster; the source map keeps stack traces readable.
  minify: true,
  sourcemap: true,
  plugins: [englishOnlyZodLocales],
  write: false,
  logLevel: 'warning',
});

// Chunks first and the entry last, each through a rename, so a CLI started while a build runs
// (parallel test workers) never loads a half-written file.
const files = [...result.outputFiles].sort(
  (a, b) => Number(a.path.endsWith('cli.mjs')) - Number(b.path.endsWith('cli.mjs')),
);
for (const file of files) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
