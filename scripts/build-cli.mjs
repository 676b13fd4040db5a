// Bundles the CLI into one file, dist/cli/cli.mjs, with esbuild (docs/benchmarks.md, "CLI cold
// start"). One file, because Node pays for every module file it loads (resolve, read, compile-cache
// lookup, link): code splitting had `codex-lab list` load 29 files. One file still evaluates only
// what a command runs: each command is imported with `import()`, which esbuild turns into a
// function that evaluates the command's modules on first call; and Node builtins and the external
// packages are required when the module that uses them is evaluated (the plugin below), not
// imported at the top of the file, where the whole CLI's imports would be loaded for every command.
// Small pure-JS packages (commander, zod, oauth4webapi, the file helpers) are bundled in;
// native or worker-based ones stay outside.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { basename, dirname, join, sep } from 'node:path';

const outdir = 'dist/cli';

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

/**
 * Packages loaded from node_modules at run time, where the importing module is evaluated.
 * `bufferutil` is a native addon (`ws` requires it in a try/catch to mask the frames it sends):
 * bundled, it would look for its compiled file beside the bundle and fall back to JavaScript.
 */
const requiredPackages = ['pino', 'undici', 'bufferutil'];
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
// Builtins loaded only when one of their functions is first called. `list` never hashes or spawns,
// yet the profile store imports node:crypto (18 internal modules) and commander imports
// node:child_process (with node:net) for executable subcommands, which codex-lab has none of.
const loadedOnFirstCall = new Set(['child_process', 'crypto']);
const requireAtBuild = createRequire(import.meta.url);

/**
 * An ES module standing in for builtin `specifier`: it requires the builtin when it is evaluated
 * (or, for `loadedOnFirstCall`, when a function is first called) and exports each of its exports
 * through a pure call, so esbuild keeps only the names the CLI imports. (A CommonJS stand-in would
 * cost a getter per export of every builtin at every import site.)
 */
function builtinStandIn(specifier) {
  const name = specifier.replace(/^node:/, '');
  const lazy = loadedOnFirstCall.has(name);
  const lines = lazy
    ? [
        'let loaded;',
        `const load = () => (loaded ??= require(${JSON.stringify(specifier)}));`,
        // Constructors and values are read on evaluation: a wrapper would break `new` and statics.
        'const pick = (key) => (/^[A-Z]/.test(key) ? load()[key] : function (...args) { return load()[key].apply(this, args); });',
        'export default new Proxy({}, { get: (_target, key) => load()[key] });',
      ]
    : [
        `const loaded = require(${JSON.stringify(specifier)});`,
        'const pick = (key) => loaded[key];',
        'export default loaded;',
      ];
  for (const key of Object.keys(requireAtBuild(specifier))) {
    if (key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key)) {
      lines.push(`export const ${key} = /* @__PURE__ */ pick(${JSON.stringify(key)});`);
    }
  }
  return lines.join('\n');
}

// In a single ES module file, esbuild hoists every `import … from 'node:http'` (or 'undici') to the
// top, so `list` would load the router's HTTP stack. Each such import goes through a stand-in
// module instead, which esbuild evaluates with the module that imports it. It also spares Node
// the ES facade of a builtin, which reads every export (reading `fs.ReadStream` loads fs streams;
// `http.WebSocket`, Node's internal undici).
const requireOnEvaluation = {
  name: 'require-on-evaluation',
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, (args) => {
      const loadedAtRunTime = builtins.has(args.path) || requiredPackages.includes(args.path);
      if (!loadedAtRunTime) return undefined;
      if (args.namespace === 'require-on-evaluation') return { path: args.path, external: true };
      // require() in bundled CommonJS packages is evaluated where it stands already: a package
      // stays a require() of node_modules, a builtin is Node's.
      if (args.kind !== 'import-statement') {
        return builtins.has(args.path) ? undefined : { path: args.path, external: true };
      }
      return { path: args.path, namespace: 'require-on-evaluation' };
    });
    builder.onLoad({ filter: /.*/, namespace: 'require-on-evaluation' }, (args) => ({
      contents: builtins.has(args.path)
        ? builtinStandIn(args.path)
        : `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const result = await build({
  entryPoints: { cli: 'core/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: ['@napi-rs/keyring', 'electron', 'electron-store'],
  // Bundled CommonJS packages expect require(), __filename and __dirname. process.getBuiltinModule
  // (Node >= 22.3) rather than an import: an import is evaluated before anything else, for every
  // command.
  banner: {
    js: [
      "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
      'const __filename = import.meta.filename;',
      'const __dirname = import.meta.dirname;',
    ].join(' '),
  },
  // Minified code parses faster; the source map keeps stack traces readable.
  minify: true,
  sourcemap: true,
  plugins: [englishOnlyZodLocales, requireOnEvaluation],
  write: false,
  logLevel: 'warning',
});

// Each file through a rename, the bundle last, so a CLI started while a build runs (parallel test
// workers) never loads a half-written file.
const files = [
  ...result.outputFiles,
  // The keychain broker runs as its own process, from a file beside the bundle.
  {
    path: join(process.cwd(), outdir, 'keyring-broker.cjs'),
    contents: readFileSync('core/profiles/keyring-broker.cjs'),
  },
].sort((a, b) => Number(a.path.endsWith('cli.mjs')) - Number(b.path.endsWith('cli.mjs')));
for (const file of files) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
// Chunks an older, code-split build left behind.
const written = new Set(files.map((file) => basename(file.path)));
for (const name of readdirSync(outdir)) {
  if (!written.has(name) && !name.endsWith('.tmp')) rmSync(join(outdir, name), { force: true });
}
