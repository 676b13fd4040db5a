// Bundles the Electron main process and the sandboxed preload into dist/electron/, both CommonJS.
//
// Main is one self-contained file: every JavaScript dependency (ESM-only ones such as
// electron-store and oauth4webapi included) is bundled in, so the packaged app never resolves or
// loads an ES module package out of app.asar, where Electron has had loader regressions. Only
// `electron` (provided by the runtime) and the native addons (the keyring, and bufferutil, which
// masks the router's upstream WebSocket frames: .node files, unpacked beside the asar) stay
// outside; forge.config.ts packs nothing else from node_modules.
// The preload is CommonJS because sandboxed preloads cannot load ES modules.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The only modules main loads at run time from outside its bundle. */
export const mainExternals = ['electron', '@napi-rs/keyring', 'bufferutil'];

/**
 * Optional packages that bundled code requires in a try/catch and does without: `ws` tries
 * `bufferutil` and `utf-8-validate` (native addons); under `https-proxy-agent`, `debug` tries
 * `supports-color` and the Negotiate proxy login tries `kerberos`. `bufferutil` is a dependency,
 * required at run time (a frame masked in JavaScript costs a byte loop: ~0.4 ms for a 300 KB
 * turn). The others are not installed: Node validates UTF-8 natively, the log has no colours, and
 * a Kerberos proxy login is not offered. They resolve to a module that throws, so
 * the fallback is taken and nothing else is required from outside the bundle.
 */
const absentOptionalAddons = {
  name: 'absent-optional-addons',
  setup(builder) {
    builder.onResolve({ filter: /^(utf-8-validate|supports-color|kerberos)$/ }, (args) => ({
      path: args.path,
      namespace: 'absent-optional-addon',
    }));
    builder.onLoad({ filter: /.*/, namespace: 'absent-optional-addon' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled`)});`,
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  write: false,
};

const [main, preload] = await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'electron/main.ts' },
    outdir: 'dist/electron',
    outExtension: { '.js': '.cjs' },
    external: mainExternals,
    plugins: [absentOptionalAddons],
    // import.meta does not exist in CommonJS; bundled ES modules that read it get the file's URL.
    define: { 'import.meta.url': '__codexLabImportMetaUrl' },
    banner: {
      js: "const __codexLabImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
    },
    metafile: true,
  }),
  build({
    ...common,
    entryPoints: { preload: 'electron/preload.ts' },
    outdir: 'dist/electron',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
  }),
]);

/** Writes through a rename, so a test or an app started during a build never reads half a file. */
function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

for (const file of [...main.outputFiles, ...preload.outputFiles]) {
  writeAtomically(file.path, file.contents);
}
// The keychain broker runs as its own process, from a file beside the bundle.
writeAtomically(
  'dist/electron/keyring-broker.cjs',
  readFileSync('core/profiles/keyring-broker.cjs'),
);
// What the bundle still imports at run time, for the packaging test.
writeAtomically('dist/electron/main.meta.json', JSON.stringify(main.metafile));
