/**
 * `codex-lab list [--json]`: every profile with email, plan, status, quota windows and the active
 * marker. Reads files only (no router, no HTTP client, no keychain) so it starts fast.
 */
import type { LabError } from '../../errors.ts';
import { buildProfileViews, readActive } from '../../service/views.ts';
import { writeLine, type CliContext } from '../context.ts';
import { formatProfileTable } from '../format.ts';

/**
 * Prints the profiles. Exits 1 (after printing what it could) when a profile's auth.json or a
 * state file cannot be read, naming each such file on stderr.
 */
export async function runList(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const now = Date.now();
  const problems: LabError[] = [];
  const views = await buildProfileViews(context.paths, now, {
    onProblem: (error) => problems.push(error),
  });
  if (options['json'] === true) {
    writeLine(context.stdout, JSON.stringify(views, null, 2));
  } else {
    writeLine(context.stdout, formatProfileTable(views, await readActive(context.paths), now));
  }
  for (const problem of problems) writeLine(context.stderr, `codex-lab: ${problem.message}`);
  return problems.length > 0 ? 1 : 0;
}
