/** `codex-lab token`: prints the router's local token, creating it when missing. */
import { loadOrCreateRouterToken } from '../../proxy/router-token.ts';
import { writeLine, type CliContext } from '../context.ts';

/**
 * Prints the router token on stdout, alone on its line, so Codex's command-backed provider auth
 * (`auth = { command = "codex-lab", args = ["token"] }`) can read it.
 */
export async function runToken(context: CliContext): Promise<number> {
  writeLine(context.stdout, await loadOrCreateRouterToken(context.paths));
  return 0;
}
