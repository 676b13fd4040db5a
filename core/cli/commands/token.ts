/**
 * `codex-lab token [--ensure-router] [--home PATH] [--port N]`: prints the router's local token,
 * creating it when missing. With `--ensure-router` (what the `codex-config` block has Codex run) it
 * first starts a router in the background when none runs for this home; plain `token` starts
 * nothing. `--home` and `--port` stand in for `CODEX_LAB_HOME` and `CODEX_LAB_PORT`: Codex runs
 * the block's command without the user's shell environment, so the block carries them as arguments.
 */
import { stat } from 'node:fs/promises';
import { parseHomeText, parsePortText } from '../../config.ts';
import { LabError } from '../../errors.ts';
import { isLoopbackAddress } from '../../net/loopback.ts';
import { loadOrCreateRouterToken } from '../../proxy/router-token.ts';
import { createCliContext, writeLine, type CliContext } from '../context.ts';

/**
 * Prints the router token on stdout, alone on its line, so Codex's command-backed provider auth
 * (`auth = { command = "codex-lab", args = ["token", "--ensure-router"] }`) can read it.
 */
export async function runToken(
  given: CliContext,
  _args: string[] = [],
  options: Record<string, unknown> = {},
): Promise<number> {
  const home = typeof options['home'] === 'string' ? options['home'] : undefined;
  const port = typeof options['port'] === 'string' ? options['port'] : undefined;
  if (port !== undefined) parsePortText(port, '--port', true, 'invalid_argument');
  if (home !== undefined) parseHomeText(home.trim(), '--home', 'invalid_argument');
  // The options become the variables they stand for, so a router started from here (a child
  // with this environment) serves the same home on the same port.
  const context =
    home === undefined && port === undefined
      ? given
      : createCliContext(
          {
            ...given.env,
            ...(home === undefined ? {} : { CODEX_LAB_HOME: home }),
            ...(port === undefined ? {} : { CODEX_LAB_PORT: port }),
          },
          given.stdout,
          given.stderr,
        );
  // `--home` only ever carries an existing home into Codex's config: a folder that is not there is
  // a typo in that config, and making it would hand Codex a router with no accounts.
  if (home !== undefined && !(await isFolder(context.paths.home))) {
    throw new LabError(
      'invalid_argument',
      `--home ${context.paths.home} is not a Codex Lab home (no such folder); fix the path in your Codex config, or print the block again with codex-lab codex-config.`,
    );
  }
  const host = typeof options['host'] === 'string' ? options['host'] : undefined;
  if (host !== undefined && !isLoopbackAddress(host)) {
    throw new LabError(
      'invalid_argument',
      `--host ${host} is not a loopback address: the token command starts a router only on this machine (127.0.0.1, ::1 or localhost).`,
    );
  }
  if (options['ensureRouter'] === true) {
    const { ensureRouterOnPort } = await import('./router.ts');
    writeLine(
      context.stdout,
      (await ensureRouterOnPort(context, host === undefined ? {} : { host })).token,
    );
    return 0;
  }
  writeLine(context.stdout, await loadOrCreateRouterToken(context.paths));
  return 0;
}

/** True when `path` is a folder. */
async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
