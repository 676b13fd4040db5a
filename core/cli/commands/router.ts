/**
 * The router as a process (docs/design.md section 8): `codex-lab status` (whether one runs for this
 * home: port, pid, uptime, profiles, version), `codex-lab stop` (a clean shutdown through the
 * control API), `codex-lab dashboard [--print]` (the running router's dashboard link, token in the
 * `#fragment`), and `ensureRouter`, which `codex-lab codex` and `token --ensure-router` use to start
 * one in the background when none runs.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { routerStartTimeoutMs } from '../../config.ts';
import { isLabError, LabError, type ErrorCode } from '../../errors.ts';
import {
  discoverRouter,
  notAnswering,
  type RouterDiscovery,
} from '../../service/router-discovery.ts';
import { dashboardNotBuiltText } from '../../service/dashboard-files.ts';
import { processIsAlive } from '../../service/router-info.ts';
import { routerInfoSettleMs } from '../../service/router-host.ts';
import { writeLine, type CliContext } from '../context.ts';
import { formatJson, outputWidth, wrapText } from '../format.ts';
import { failingUpstreamText, formatDuration, withCliFix } from '../../format.ts';

type Running = Extract<RouterDiscovery, { state: 'running' }>;

function hostName(found: Running): string {
  return found.info.host === 'app' ? 'the Codex Lab app' : 'codex-lab serve';
}

/** The dashboard link of a running router: the token rides in the `#fragment`, never sent. */
export function dashboardLink(found: { url: string; token: string }): string {
  return `${found.url}/ui/#token=${found.token}`;
}

/** Writes `text` to stdout broken between words to the terminal's width (`outputWidth`). */
function say(context: CliContext, text: string): void {
  writeLine(context.stdout, wrapText(text, outputWidth(context.stdout)));
}

/** A router runs but nothing about it can be shown: exit 1, as for a router that cannot be used. */
function unusable(
  context: CliContext,
  found: { pid: number; reason: string; advice: string },
  options: Record<string, unknown>,
): number {
  if (options['json'] === true) {
    writeLine(
      context.stdout,
      formatJson({
        running: true,
        home: context.paths.home,
        pid: found.pid,
        problem: found.reason,
      }),
    );
  } else {
    say(context, `${found.reason}; ${found.advice}.`);
  }
  return 1;
}

/**
 * `codex-lab status [--json]`: exit 0 when a router runs for this home (a stopping one too, said
 * as such), 1 when none does.
 */
export async function runStatus(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const found = await discoverRouter(context.paths);
  if (found.state === 'unreachable') return unusable(context, found, options);
  if (found.state !== 'running') {
    if (options['json'] === true) {
      writeLine(
        context.stdout,
        formatJson({
          running: false,
          home: context.paths.home,
          ...(found.state === 'stale' ? { problem: found.reason } : {}),
        }),
      );
    } else {
      say(context, `No Codex Lab router is running for ${context.paths.home}.`);
      if (found.state === 'stale') say(context, `(${found.reason}.)`);
    }
    return 1;
  }
  const { RemoteLab } = await import('../../service/remote-lab.ts');
  const state = await new RemoteLab({ url: found.url, token: found.token })
    .getState()
    .catch((error: unknown) => {
      if (isLabError(error) && error.code === 'router_unavailable') return null;
      throw error;
    });
  // It proved who it is, then gave no state (stopped or stuck since): said as discovery says it.
  if (state === null) {
    const pid = found.identity.pid;
    return unusable(context, { pid, ...notAnswering(pid, found.url) }, options);
  }
  const startedAt = found.identity.startedAt;
  const uptimeMs = Math.max(0, Date.now() - Date.parse(startedAt));
  const profiles = state.profiles.map((profile) => profile.name);
  if (options['json'] === true) {
    writeLine(
      context.stdout,
      formatJson({
        running: true,
        stopping: state.router.stopping,
        home: context.paths.home,
        url: found.url,
        port: found.info.port,
        pid: found.identity.pid,
        host: found.identity.host,
        version: found.identity.version,
        startedAt,
        uptimeSeconds: Math.round(uptimeMs / 1000),
        profiles,
        problems: state.problems,
      }),
    );
    return 0;
  }
  // A router asked to stop still answers while its turns in flight finish: said as it is.
  say(
    context,
    state.router.stopping
      ? `Codex Lab router stopping on ${found.url} (${hostName(found)}, pid ${found.identity.pid}): it lets the requests in flight finish, then exits.`
      : `Codex Lab router running on ${found.url} (${hostName(found)}, pid ${found.identity.pid}, up ${formatDuration(uptimeMs)}, version ${found.identity.version}).`,
  );
  say(
    context,
    `Profiles: ${profiles.length}${profiles.length > 0 ? ` (${profiles.join(', ')})` : ''}; active: ${state.active}.`,
  );
  // Those it skips for failing upstream: turns go elsewhere until it tries them again.
  const now = Date.now();
  for (const profile of state.profiles) {
    const failing = failingUpstreamText(profile.status, profile.skippedUntil, now);
    if (failing !== null) say(context, `${profile.name}: ${failing}.`);
  }
  // What the router cannot read is missing from the lines above: say so, naming each file.
  for (const problem of state.problems) {
    writeLine(context.stderr, `codex-lab: ${withCliFix(problem.message, problem.fix)}`);
  }
  return 0;
}

/** `codex-lab stop`: stops this home's router cleanly and waits until its process has gone. */
export async function runStop(context: CliContext): Promise<number> {
  const found = await discoverRouter(context.paths);
  if (found.state === 'unreachable') {
    throw new LabError(
      'router_unavailable',
      `${found.reason}, so it cannot be asked to stop: ${found.advice}.`,
    );
  }
  if (found.state !== 'running') {
    writeLine(
      context.stdout,
      `No Codex Lab router is running for ${context.paths.home}; nothing to stop.`,
    );
    return 0;
  }
  const { RemoteLab } = await import('../../service/remote-lab.ts');
  const result = await new RemoteLab({ url: found.url, token: found.token }).shutdown({});
  if (!result.ok) {
    // The router's own code (`router_running`): its exit is that failure's, not an input's.
    throw new LabError(
      result.code as ErrorCode,
      `The router on ${found.url} belongs to ${hostName(found)} and did not stop: ${result.message} Quit it from its menu.`,
    );
  }
  // A router streaming turns lets them finish first (routerDrainMs), then has 15 s to go.
  const { inFlight, drainMs } = result.value;
  if (inFlight > 0 && drainMs > 0) {
    writeLine(
      context.stdout,
      `Waiting for ${inFlight === 1 ? 'the request' : `${inFlight} requests`} the router is answering to finish (at most ${Math.round(drainMs / 1000)} s)…`,
    );
  }
  const waitMs = drainMs + 15_000;
  const deadline = Date.now() + waitMs;
  while (processIsAlive(found.info.pid)) {
    if (Date.now() > deadline) {
      throw new LabError(
        'router_unavailable',
        `The router on ${found.url} (pid ${found.info.pid}) was asked to stop but is still running after ${Math.round(waitMs / 1000)} s.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  writeLine(
    context.stdout,
    `Stopped the Codex Lab router on ${found.url} (pid ${found.info.pid}).`,
  );
  return 0;
}

/** `codex-lab dashboard [--print]`: opens (or prints) the running router's dashboard link. */
export async function runDashboard(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown> = {},
): Promise<number> {
  const found = await discoverRouter(context.paths);
  if (found.state === 'unreachable') {
    throw new LabError('router_unavailable', `${found.reason}; ${found.advice}.`);
  }
  if (found.state !== 'running') {
    throw new LabError(
      'router_unavailable',
      `No Codex Lab router is running for ${context.paths.home}: start one with codex-lab serve (or the Codex Lab app), then run this again.`,
    );
  }
  // No dead link: the router says whether its dashboard is built (an older one does not say).
  if (found.identity.dashboard === false) {
    throw new LabError('dashboard_not_built', dashboardNotBuiltText);
  }
  const link = dashboardLink(found);
  if (options['print'] === true) {
    writeLine(context.stdout, link);
    return 0;
  }
  const { openInBrowser } = await import('../../auth/open-browser.ts');
  if (!(await openInBrowser(link, process.platform, { env: context.env }))) {
    // Nothing opened it: the link, as --print gives it, so the user can open it by hand.
    writeLine(context.stdout, link);
    throw new LabError(
      'browser_unavailable',
      'Could not open a browser on this machine: open the dashboard link above yourself (codex-lab dashboard --print prints it).',
    );
  }
  writeLine(context.stdout, `Opened the dashboard of the router on ${found.url} in the browser.`);
  return 0;
}

/**
 * The running router for this home, started in the background first when none runs (said once on
 * stderr). A `router.json` naming something that is not our router is reported and replaced.
 */
export async function ensureRouter(
  context: CliContext,
  options: { host?: string } = {},
): Promise<Running> {
  // Codex gives its token command 5 s (the block asks for more, older Codex may not honor it): a
  // router that does not answer within 2 s is said so at once, not after a longer wait.
  let found = await discoverRouter(context.paths, { timeoutMs: 2000 });
  // A router holds the home but cannot be used yet: starting another would only be refused.
  if (found.state === 'unreachable') found = await waitUntilReachable(context, found);
  if (found.state === 'running') return found;
  if (found.state === 'stale') writeLine(context.stderr, `codex-lab: ${found.reason}.`);
  const script = process.argv[1];
  if (script === undefined) {
    throw new LabError(
      'router_unavailable',
      'Cannot find the codex-lab command to start a router.',
    );
  }
  await mkdir(context.paths.stateDir, { recursive: true, mode: 0o700 });
  const logPath = join(context.paths.stateDir, 'router.log');
  const log = openSync(logPath, 'a', 0o600);
  // Where this start's lines begin, so a failure can repeat the child's own reason.
  const logStart = fstatSync(log).size;
  let exited: number | null = null;
  let childPid: number | undefined;
  try {
    const serveArgs = ['serve', ...(options.host === undefined ? [] : ['--host', options.host])];
    const child = spawn(process.execPath, [script, ...serveArgs], {
      detached: true,
      stdio: ['ignore', log, log],
      // Not the pin or run id of the shell (or Codex) that asked: the router serves every session.
      env: withoutSessionVariables(context.env),
    });
    childPid = child.pid;
    child.on('exit', (code) => {
      exited = code ?? 1;
    });
    child.unref();
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + routerStartTimeoutMs;
  for (;;) {
    let now = await discoverRouter(context.paths, { timeoutMs: 1000 });
    // The child starting (it holds the run lock before it records where it listens), or another
    // router that won the home: either writes its record and answers within seconds.
    if (now.state === 'unreachable') now = await waitUntilReachable(context, now, deadline);
    if (now.state === 'running') {
      // Said only when the router found is the child: another command's router may have won the
      // home meanwhile (the child is then refused, perhaps not yet gone).
      if (now.info.pid === childPid) {
        writeLine(
          context.stderr,
          `codex-lab: started a Codex Lab router in the background on ${now.url} (codex-lab status shows it, codex-lab stop stops it).`,
        );
      }
      return now;
    }
    if (exited !== null || Date.now() > deadline) {
      // The child's last line is its reason (a port in use, a home it cannot read): said here,
      // since Codex shows nothing of its token command's output, only that requests failed.
      const reason = await lastLogLine(logPath, logStart);
      throw new LabError(
        'router_unavailable',
        reason === null
          ? `Could not start a Codex Lab router in the background (see ${logPath}); start one with codex-lab serve and try again.`
          : `Could not start a Codex Lab router in the background (${logPath}): ${reason}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The last line a started router wrote to its log after `from`, without `codex-lab: `; null if none. */
async function lastLogLine(logPath: string, from: number): Promise<string | null> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const line = Buffer.from(text, 'utf8')
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .map((each) => each.trim())
    .filter((each) => each !== '')
    .at(-1);
  return line === undefined ? null : line.replace(/^codex-lab: /, '');
}

/**
 * Waits (until `deadline`, by default `routerInfoSettleMs` from now) for a router that holds this
 * home but cannot be used (no readable `state/router.json`, or no answer) to become usable: it
 * writes the file again, or answers again; what discovery finds then, or that router's sentence
 * when it never does (a folder in the file's place, a router stopped with Ctrl-Z).
 */
async function waitUntilReachable(
  context: CliContext,
  found: Extract<RouterDiscovery, { state: 'unreachable' }>,
  deadline = Date.now() + routerInfoSettleMs,
): Promise<RouterDiscovery> {
  let now: RouterDiscovery = found;
  while (now.state === 'unreachable') {
    if (!now.settles || Date.now() > deadline) {
      throw new LabError('router_unavailable', `${now.reason}; ${now.advice}, and try again.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    now = await discoverRouter(context.paths, { timeoutMs: 1000 });
  }
  return now;
}

/**
 * `ensureRouter` for a client that points Codex at a port (`codex-lab codex`, and the token
 * command of the `codex-config` block): a router it starts takes `CODEX_LAB_PORT` like any serve
 * (0 picks a free one); a running one on another port than the variable names is said in one
 * sentence rather than passed over, since Codex pointed at a port where nothing answers retries
 * until the user gives up.
 */
export async function ensureRouterOnPort(
  context: CliContext,
  options: { host?: string } = {},
): Promise<Running> {
  const router = await ensureRouter(context, options);
  const named = context.config.portFromEnvironment ? context.config.port : 0;
  if (named !== 0 && router.info.port !== named) {
    throw new LabError(
      'router_unavailable',
      `This home's router runs on port ${router.info.port}, but Codex is set to port ${named} (CODEX_LAB_PORT, or --port in the codex-config block): stop that router (codex-lab stop) and run this again, or use port ${router.info.port}.`,
    );
  }
  return router;
}

/** `env` without the variables that belong to one Codex process (its pin, its run id). */
function withoutSessionVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CODEX_LAB_PROFILE: _pin, CODEX_LAB_RUN: _run, ...rest } = env;
  return rest;
}
