/**
 * `codex-lab token [--ensure-router]`: prints the router's local token, creating it when missing.
 * With `--ensure-router` (what the `codex-config` block has Codex run) it first starts a router in
 * the background when none runs for this home; plain `token` starts nothing.
 */
import { loadOrCreateRouterToken } from '../../proxy/router-token.ts';
import { writeLine, type CliContext } from '../context.ts';

/**
 * Prints the router token on stdout, alone on its line, so Codex's command-backed provider auth
 * (`auth = { command = "codex-lab", args = ["token", "--ensure-router"] }`) can read it.
 */
export async function runToken(
  context: CliContext,
  _args: string[] = [],
  options: Record<string, unknown> = {},
): Promise<number> {
  if (options['ensureRouter'] === true) {
    const { ensureRouter } = await import('./router.ts');
    writeLine(context.stdout, (await ensureRouter(context)).token);
    return 0;
  }
  writeLine(context.stdout, await loadOrCreateRouterToken(context.paths));
  return 0;
}
