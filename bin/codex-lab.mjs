#!/usr/bin/env node
// Runs the bundled CLI (npm run build:cli); in a source checkout without a build, Node's type
// stripping runs the TypeScript directly.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Reuses V8's compiled code across runs (Node >= 22.1): most of a cold start is compiling the bundle.
module.enableCompileCache?.();

const bundle = new URL('../dist/cli/cli.mjs', import.meta.url);
const { runCli } = existsSync(bundle)
  ? await import(bundle.href)
  : await import('../core/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
