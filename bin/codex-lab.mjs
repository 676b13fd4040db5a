#!/usr/bin/env node
// Runs the bundled CLI (npm run build:cli); in a source checkout without a build, Node's type
// stripping runs the TypeScript directly. On a Node older than Codex Lab needs, it runs itself
// again with the Node 24 that set-up keeps in its cache (scripts/with-node.sh), or says in one
// sentence what is wrong: this file must stay plain JavaScript that old Node versions can parse.
import module from 'node:module';
import {
  cachedNodeBinary,
  isSupportedNode,
  nodeGuardSentence,
  prepareCompileCacheDir,
  tightenCompileCacheEntry,
} from '../scripts/node-runtime.mjs';

if (isSupportedNode(process.version)) {
  // Reuses V8's compiled code across runs (Node >= 22.1): compiling the bundle would otherwise be
  // a large part of a cold start. NODE_COMPILE_CACHE, when set, has Node enable it at its own
  // folder before this runs (see docs/benchmarks.md, "CLI cold start").
  // The folders are made private first: Node creates missing ones with the umask (0777 under
  // `umask 000`), where another user could plant code (docs/security.md, "Files").
  const cacheFolder = process.env.NODE_COMPILE_CACHE ? null : prepareCompileCacheDir();
  if (cacheFolder !== null && module.enableCompileCache) {
    module.enableCompileCache(cacheFolder);
    tightenCompileCacheEntry(module.getCompileCacheDir?.());
  }
  const bundle = new URL('../dist/cli/cli.mjs', import.meta.url);
  // node:fs through require(): an import of it reads every export, and reading fs.ReadStream
  // loads the file streams, which no command needs at start.
  const { existsSync } = module.createRequire(import.meta.url)('node:fs');
  const { runCli } = existsSync(bundle)
    ? await import(bundle.href)
    : await import('../core/cli/main.ts');
  process.exitCode = await runCli(process.argv.slice(2));
} else {
  const newer = cachedNodeBinary();
  if (newer === null) {
    console.error(nodeGuardSentence(process.version));
    process.exitCode = 1;
  } else {
    await runWith(newer);
  }
}

/** Runs this command again under `node`, passing signals on and ending with its exit status. */
async function runWith(node) {
  // Imported here: node:child_process (with node:net) is not needed on a supported Node.
  const { spawn } = await import('node:child_process');
  const child = spawn(node, process.argv.slice(1), { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal itself; a signal sent to this pid (a service
  // manager's stop, `kill`) is passed on so the child shuts down cleanly.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`codex-lab: could not start ${node}: ${error.message}.`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // End the same way the child did, so a caller sees the signal, not a made-up exit code.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
