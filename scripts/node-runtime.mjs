// The one place that knows which Node Codex Lab needs and where set-up keeps its own copy.
// Plain JavaScript that old Node versions can parse: the version guard must run on the very Node
// it refuses. Used by `scripts/with-node.sh` (set-up, `.ci/run`), `bin/codex-lab.mjs` and
// `scripts/test.mjs`.
//
// Command line (for the shell script):
//   node scripts/node-runtime.mjs check        exit 0 when this Node is new enough, else print the
//                                              guard sentence and exit 1
//   node scripts/node-runtime.mjs cache-dir    print the folder set-up installs Node 24 into
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// node:fs through require(): an import of it reads every export, and reading fs.ReadStream loads
// the file streams, which `codex-lab` (which imports this file) then pays for on every start.
const require = createRequire(import.meta.url);

/** The oldest Node Codex Lab runs on (the Electron 45 toolchain and Vitest need it). */
export const minimumNode = '22.12';

/** True when `version` ("22.12.0" or "v20.20.2") is at least `minimumNode`. */
export function isSupportedNode(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  const [needMajor, needMinor] = minimumNode.split('.').map(Number);
  return major > needMajor || (major === needMajor && minor >= needMinor);
}

/** The one sentence every entry point prints on an old Node. */
export function nodeGuardSentence(version) {
  return `Codex Lab needs Node ${minimumNode} or newer; this is ${version.replace(/^v/, '')} (scripts/with-node.sh brings Node 24 from the npm registry).`;
}

/** The user's cache folder: XDG_CACHE_HOME, else ~/.cache. */
function userCacheDir(env) {
  return env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
}

/** The folder set-up installs Node 24 into (`npm install node@24`): the same one `.ci/run` uses. */
export function nodeCacheDir(env = process.env) {
  return join(userCacheDir(env), 'codex-lab-ci', 'node24');
}

/**
 * Where `codex-lab` keeps Node's compile cache (V8 code for its bundle): in the user's own cache
 * folder, not Node's default under the shared temporary folder, where another local user could
 * create the folder first and plant code that this user's process would then run. Null when the
 * user's home folder cannot be found.
 */
export function compileCacheDir(env = process.env) {
  try {
    return join(userCacheDir(env), 'codex-lab', 'compile-cache');
  } catch {
    // No HOME and no home folder in the user database: run without the cache rather than fail.
    return null;
  }
}

/**
 * `compileCacheDir`, made ready for `module.enableCompileCache`: the missing folders of its chain
 * are created 0700 whatever the umask (Node would make them 0777 under `umask 000`, and anyone
 * who can write there can plant code this user's process runs), and Codex Lab's own folders
 * (`codex-lab`, `compile-cache`) are tightened to 0700 when they already exist. Null (run without
 * the cache) when they cannot be made private: not folders, another user's, or not creatable.
 */
export function prepareCompileCacheDir(env = process.env) {
  const folder = compileCacheDir(env);
  if (folder === null) return null;
  const fs = require('node:fs');
  try {
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    for (const ours of [dirname(folder), folder]) {
      const found = fs.lstatSync(ours);
      if (!found.isDirectory()) return null;
      if (process.getuid && found.uid !== process.getuid()) return null;
      if ((found.mode & 0o077) !== 0) fs.chmodSync(ours, 0o700);
    }
    return folder;
  } catch {
    // A cache is never worth failing a command for.
    return null;
  }
}

/**
 * Tightens the folder Node made inside the cache for this Node version (`module.getCompileCacheDir`)
 * to 0700: Node creates it with the process's umask. Its parent is private already; this keeps
 * every folder of the chain owner-only.
 */
export function tightenCompileCacheEntry(directory) {
  if (!directory) return;
  try {
    require('node:fs').chmodSync(directory, 0o700);
  } catch {
    // Not ours to change, or gone: the private parent still keeps others out.
  }
}

/** The cached Node 24 binary, or null when set-up has not installed it. */
export function cachedNodeBinary(env = process.env) {
  const binary = join(
    nodeCacheDir(env),
    'node_modules',
    '.bin',
    process.platform === 'win32' ? 'node.cmd' : 'node',
  );
  return require('node:fs').existsSync(binary) ? binary : null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const command = process.argv[2];
  if (command === 'check') {
    if (!isSupportedNode(process.version)) {
      console.error(nodeGuardSentence(process.version));
      process.exit(1);
    }
  } else if (command === 'cache-dir') {
    console.log(nodeCacheDir());
  } else {
    console.error('usage: node scripts/node-runtime.mjs check|cache-dir');
    process.exit(2);
  }
}
