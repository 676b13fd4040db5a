/** What every command receives: its environment, settings, output streams and home paths. */
import type { Writable } from 'node:stream';
import { readConfig, type LabConfig } from '../config.ts';
import { labPaths, type LabPaths } from '../home/paths.ts';

/** Effects a command runs with; tests pass their own streams and environment. */
export interface CliContext {
  /** The whole environment, passed on to child processes (Codex, a background router). */
  env: NodeJS.ProcessEnv;
  /** Every `CODEX_LAB_*` setting, validated once (`core/config`). */
  config: LabConfig;
  stdout: Writable;
  stderr: Writable;
  paths: LabPaths;
}

/**
 * Builds a context from the process environment. Throws a `LabError` (`invalid_config`) naming a
 * malformed `CODEX_LAB_*` variable.
 */
export function createCliContext(
  env: NodeJS.ProcessEnv = process.env,
  stdout: Writable = process.stdout,
  stderr: Writable = process.stderr,
): CliContext {
  const config = readConfig(env);
  return { env, config, stdout, stderr, paths: labPaths(config.home) };
}

/** Writes one line to a stream. */
export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
