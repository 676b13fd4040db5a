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
import { join } from 'node:path';
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
