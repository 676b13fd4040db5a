// Placeholder until this command lands; replaced by its implementation.
import type { CliContext } from '../context.ts';
import { writeLine } from '../context.ts';

/** Not available yet. */
export async function runServe(context: CliContext): Promise<number> {
  writeLine(context.stderr, 'codex-lab: this command is not available yet.');
  return 1;
}
