#!/usr/bin/env node
// Runs the bundled CLI (npm run build:cli); in a source checkout without a build, Node's type
// stripping runs the TypeScript directly. On a Node older than Codex Lab needs, it runs itself
// again with the Node 24 that set-up keeps in its cache (scripts/with-node.sh), or says in one
// sentence what is wrong: this file must stay plain JavaScript that old Node versions can parse.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { cachedNodeBinary, isSupportedNode, nodeGuardSentence } from '../scripts/node-runtime.mjs';

if (isSupportedNode(process.version)) {
  // Reuses V8's compiled code across runs (Node >= 22.1): most of a cold start is compiling the bundle.
  module.enableCompileCache?.();
  const bundle = new URL('../dist/cli/cli.mjs', import.meta.url);
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
    runWith(newer);
  }
}

/** Runs this command again under `node`, passing signals on and ending with its exit status. */
function runWith(node) {
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
