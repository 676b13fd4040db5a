/** What every command receives: its environment, output streams and home paths. */
import type { Writable } from 'node:stream';
import { labPaths, resolveHome, type LabPaths } from '../home/paths.ts';

/** Effects a command runs with; tests pass their own streams and environment. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  paths: LabPaths;
}

/** Builds a context from the process environment. */
export function createCliContext(
  env: NodeJS.ProcessEnv = process.env,
  stdout: Writable = process.stdout,
  stderr: Writable = process.stderr,
): CliContext {
  return { env, stdout, stderr, paths: labPaths(resolveHome(env)) };
}

/** Writes one line to a stream. */
export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
