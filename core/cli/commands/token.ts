/**
 * `codex-lab token [--ensure-router] [--home PATH] [--port N]`: prints the router's local token,
 * creating it when missing. `codex-lab token --rotate [--revoke-old]` replaces it instead (through
 * the running router, which adopts it at once, or on the file when none runs) and prints one
 * sentence, never a token. With `--ensure-router` (what the `codex-config` block has Codex run) it
 * first starts a router in the background when none runs for this home; plain `token` starts
 * nothing. `--home` and `--port` stand in for `CODEX_LAB_HOME` and `CODEX_LAB_PORT`: Codex runs
 * the block's command without the user's shell environment, so the block carries them as arguments.
 * When `--ensure-router` finds no router it can use, it says why on stderr and prints a placeholder
 * (`routerUnavailableToken`) with exit code 0, since Codex would otherwise keep sending the last
 * real token to whatever listens on the port.
 */
import { stat } from 'node:fs/promises';
import { parseHomeText, parsePortText } from '../../config.ts';
import { LabError } from '../../errors.ts';
import { isLoopbackAddress } from '../../net/loopback.ts';
import { loadOrCreateRouterToken, rotateRouterTokenFile } from '../../proxy/router-token.ts';
import { createCliContext, writeLine, type CliContext } from '../context.ts';

/**
 * What `token --ensure-router` prints when no router can be started or reached: not a token (the
 * router refuses it), so Codex drops the real one it holds rather than sending it on.
 */
export const routerUnavailableToken = 'codex-lab-router-unavailable';

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
  const rotate = options['rotate'] === true;
  if (options['revokeOld'] === true && !rotate) {
    throw new LabError(
      'invalid_argument',
      '--revoke-old goes with --rotate: run codex-lab token --rotate --revoke-old to replace the token and refuse the old one at once.',
    );
  }
  if (rotate && options['ensureRouter'] === true) {
    throw new LabError(
      'invalid_argument',
      '--rotate and --ensure-router do not go together: rotate the token with codex-lab token --rotate.',
    );
  }
  if (rotate) {
    writeLine(context.stdout, await rotateToken(context, options['revokeOld'] === true));
    return 0;
  }
  if (options['ensureRouter'] === true) {
    const { ensureRouterOnPort } = await import('./router.ts');
    const router = await ensureRouterOnPort(context, host === undefined ? {} : { host }).catch(
      (error: unknown) => {
        if (!(error instanceof LabError) || error.code !== 'router_unavailable') throw error;
        return error;
      },
    );
    if (router instanceof LabError) {
      // Codex keeps the token it had when its token command fails, and sends it to whatever
      // answers on the router's port: a program that took the port after the router stopped
      // would get the real token. A placeholder that is no secret replaces it instead; the
      // sentence says why on stderr (Codex's log), and the router's next start is tried again
      // at Codex's next refresh.
      writeLine(context.stderr, `codex-lab: ${router.message}`);
      writeLine(context.stdout, routerUnavailableToken);
      return 0;
    }
    writeLine(context.stdout, router.token);
    return 0;
  }
  writeLine(context.stdout, await loadOrCreateRouterToken(context.paths));
  return 0;
}

/**
 * Replaces the router token and says what happened in one sentence. A running router does it
 * itself (it adopts the new token at once and decides how long the old one stays accepted); with
 * none, the file is replaced here. A router that runs but does not answer is left alone: a new
 * token behind its back would make every client take it for a stranger.
 */
async function rotateToken(context: CliContext, revokeOld: boolean): Promise<string> {
  const { discoverRouter } = await import('../../service/router-discovery.ts');
  const found = await discoverRouter(context.paths);
  if (found.state === 'unreachable') {
    throw new LabError(
      'router_unavailable',
      `The token was not changed: ${found.reason}; ${found.advice}, then run codex-lab token --rotate again.`,
    );
  }
  if (found.state === 'stale') {
    // "Stale" also covers a router that answers but proves a token other than the file's (the
    // file changed behind it, and its watcher has not caught up): while it holds its run lock, a
    // file rotated here would not be the one it refuses the old token for.
    const { routerRunHolder } = await import('../../service/router-info.ts');
    const pid = await routerRunHolder(context.paths).catch(() => null);
    if (pid !== null) {
      throw new LabError(
        'router_unavailable',
        `The token was not changed: a Codex Lab router (pid ${pid}) runs for this home but did not prove it holds this home's token (${found.reason}); wait a moment and run codex-lab token --rotate again, or end process ${pid}.`,
      );
    }
  }
  if (found.state !== 'running') {
    await rotateRouterTokenFile(context.paths);
    return 'Made a new router token; no router is running, so the old one is refused from now on (open the dashboard again with codex-lab dashboard).';
  }
  // Loaded only here: plain `token` (what Codex runs) stays as small as it was.
  const [{ RemoteLab }, { valueOf }, { formatClockTime, withoutSentenceEnd }] = await Promise.all([
    import('../../service/remote-lab.ts'),
    import('../lab-client.ts'),
    import('../../format.ts'),
  ]);
  const remote = new RemoteLab({ url: found.url, token: found.token });
  const result = await remote.rotateRouterToken({ revokeOld });
  if (!result.ok && result.code === 'router_unavailable') {
    // Rotating again is safe either way: the router applied the first one fully or not at all.
    const said = withoutSentenceEnd(result.message);
    throw new LabError('router_unavailable', `${said}: run codex-lab token --rotate again.`);
  }
  const until = valueOf(result).oldAcceptedUntil;
  if (until === null) {
    return 'Made a new router token; the running router uses it now and refuses the old one (open the dashboard again with codex-lab dashboard).';
  }
  const at = formatClockTime(Date.parse(until), { now: Date.now() });
  return `Made a new router token; the running router uses it now and still accepts the old one until ${at}, so running Codex sessions pick up the new one (open the dashboard again with codex-lab dashboard).`;
}

/** True when `path` is a folder. */
async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
