/**
 * Every `CODEX_LAB_*` setting, read and validated once (docs/design.md sections 3 and 8).
 *
 * Every surface — the CLI, `codex-lab serve`, the desktop app — calls `readConfig` once at start-up
 * and passes the typed settings down; nothing else in the project reads `process.env` for a
 * `CODEX_LAB_*` variable, and the defaults (ports, issuer, upstream) live only here. A malformed
 * value is one sentence naming the variable and the accepted form, the same on every surface.
 *
 * A leaf of the core's floor plan: it imports only Node built-ins and `errors.ts`.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { LabError } from './errors.ts';

/** `CODEX_LAB_HOME` when it is not set: `~/.codex-lab`. */
export function defaultHome(): string {
  return join(homedir(), '.codex-lab');
}
/** The router + control API port when `CODEX_LAB_PORT` is not set. */
export const defaultRouterPort = 1456;
/** How long a router started in the background may take to answer before its starter gives up. */
export const routerStartTimeoutMs = 20_000;
/**
 * How long a stopping router (`codex-lab stop`, Ctrl-C on `serve`) lets the turns it is streaming
 * finish before it ends them: a response cut mid-stream is generated again, and paid for again.
 */
export const routerDrainMs = 30_000;
/** The sign-in callback port when `CODEX_LAB_CALLBACK_PORT` is not set (Codex's own). */
export const defaultCallbackPort = 1455;
/** The OAuth issuer when `CODEX_LAB_AUTH_ISSUER` is not set. */
export const defaultIssuer = 'https://auth.openai.com';
/** The upstream base when `CODEX_LAB_CHATGPT_BASE_URL` is not set (Codex's `chatgpt_base_url`). */
export const defaultChatGptBaseUrl = 'https://chatgpt.com/backend-api';

/** Log levels a user may choose. */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
/** A log level. */
export type LogLevel = (typeof logLevels)[number];

/** The settings every surface runs with. */
export interface LabConfig {
  /** `CODEX_LAB_HOME`, absolute; default `~/.codex-lab`. */
  home: string;
  /** `CODEX_LAB_PORT`: the router's port on 127.0.0.1 (default 1456; 0 picks a free one). */
  port: number;
  /** True when `CODEX_LAB_PORT` was set (it then wins over a running router's recorded port). */
  portFromEnvironment: boolean;
  /** `CODEX_LAB_CALLBACK_PORT`: the sign-in callback port (default 1455; 0 picks a free one). */
  callbackPort: number;
  /** `CODEX_LAB_AUTH_ISSUER`, without a trailing slash. */
  issuer: string;
  /** `CODEX_LAB_CHATGPT_BASE_URL`, without a trailing slash. */
  chatGptBaseUrl: string;
  /** `CODEX_LAB_CODEX_BIN`: the codex binary `codex-lab codex` runs; null means `codex` on PATH. */
  codexBin: string | null;
  /**
   * `CODEX_LAB_CODEX_STOP_GRACE_MS`: how long `codex-lab codex` lets Codex exit after a stop
   * signal before it kills it (tests and tuning); null = `defaultCodexStopGraceMs` (10 s).
   */
  codexStopGraceMs: number | null;
  /** `CODEX_LAB_LOG_LEVEL`; null means each surface's own default. */
  logLevel: LogLevel | null;
  /** `CODEX_LAB_PRIMING_POLL_MS`: the priming timer's period (tests and tuning); null = default. */
  primingPollMs: number | null;
  /**
   * `CODEX_LAB_REFRESH_WAIT_MS`: how long a request waits for its profile's token refresh before
   * the router tries another profile (tests and tuning); null = the token manager's 30 s.
   */
  refreshWaitMs: number | null;
  /** `CODEX_LAB_PROFILE`: the profile this process (a Codex run) is pinned to; null when unset. */
  profile: string | null;
  /**
   * `CODEX_LAB_UPSTREAM_ZSTD` (`on` or `off`, default `on`): the router sends large turn bodies to
   * OpenAI zstd-compressed, as Codex itself does with a ChatGPT login.
   */
  upstreamZstd: boolean;
  /**
   * `CODEX_LAB_UPSTREAM_WEBSOCKET` (`on` or `off`, default `on`): the router carries a session's
   * turns to OpenAI over Responses over WebSocket, sending only the new items of a turn that extends
   * the previous one; `off` sends every turn over HTTP in full (docs/routing.md, "Upstream
   * transport").
   */
  upstreamWebSocket: boolean;
  /**
   * `CODEX_LAB_DASHBOARD_DIR`: the built dashboard's folder a headless router serves (tests and
   * packagers), absolute; null = `dist/renderer` of this package.
   */
  dashboardDir: string | null;
}

/** One setting's text, trimmed; undefined when unset or blank. */
function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Parses `value` as a port (0–65535, or 1–65535 when `allowZero` is false); `source` names where
 * it came from (a variable, or a command-line option with `code` `invalid_argument`).
 */
export function parsePortText(
  value: string,
  source: string,
  allowZero = true,
  code: 'invalid_config' | 'invalid_argument' = 'invalid_config',
): number {
  const port = Number(value);
  const lowest = allowZero ? 0 : 1;
  if (!/^\d{1,5}$/.test(value) || port < lowest || port > 65535) {
    throw new LabError(
      code,
      `${source} must be a port number from ${lowest} to 65535${allowZero ? ' (0 picks a free one)' : ''}, not "${value}".`,
    );
  }
  return port;
}

/** The longest a Node timer can wait (2^31 - 1 ms, about 24 days): a longer one fires at once. */
export const longestTimerMs = 2 ** 31 - 1;

/**
 * Parses `value` as a positive wait in `unit` (seconds may have a fraction; milliseconds are
 * whole) and returns it in milliseconds. A wait past `longestTimerMs` is refused: Node would warn
 * and fire it at once. `source` names where it came from, as in `parsePortText`.
 */
export function parseWaitText(
  value: string,
  source: string,
  unit: 'seconds' | 'milliseconds',
  code: 'invalid_config' | 'invalid_argument' = 'invalid_config',
): number {
  const amount = Number(value);
  const shape = unit === 'seconds' ? /^\d+(\.\d+)?$/ : /^\d+$/;
  if (!shape.test(value) || !(amount > 0)) {
    throw new LabError(
      code,
      unit === 'seconds'
        ? `${source} must be a positive number of seconds, not "${value}".`
        : `${source} must be a positive whole number of milliseconds, not "${value}".`,
    );
  }
  const milliseconds = unit === 'seconds' ? Math.round(amount * 1000) : amount;
  if (milliseconds > longestTimerMs) {
    const most = unit === 'seconds' ? Math.floor(longestTimerMs / 1000) : longestTimerMs;
    throw new LabError(
      code,
      `${source} must be at most ${most} ${unit} (about 24 days), not "${value}".`,
    );
  }
  return milliseconds;
}

function parseUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = text(env, name);
  if (value === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new LabError(
      'invalid_config',
      `${name} must be an http(s) URL such as ${fallback}, not "${value}".`,
    );
  }
  return value.replace(/\/+$/, '');
}

/**
 * Reads and validates every `CODEX_LAB_*` setting. Throws one `LabError('invalid_config')` naming
 * the first malformed variable and its accepted form.
 */
export function readConfig(env: NodeJS.ProcessEnv): LabConfig {
  const home = text(env, 'CODEX_LAB_HOME');
  const port = text(env, 'CODEX_LAB_PORT');
  const callbackPort = text(env, 'CODEX_LAB_CALLBACK_PORT');
  const logLevel = text(env, 'CODEX_LAB_LOG_LEVEL')?.toLowerCase();
  if (logLevel !== undefined && !(logLevels as readonly string[]).includes(logLevel)) {
    throw new LabError(
      'invalid_config',
      `CODEX_LAB_LOG_LEVEL must be one of ${logLevels.join(', ')}, not "${env['CODEX_LAB_LOG_LEVEL']?.trim()}".`,
    );
  }
  const primingText = text(env, 'CODEX_LAB_PRIMING_POLL_MS');
  const primingPollMs =
    primingText === undefined
      ? null
      : parseWaitText(primingText, 'CODEX_LAB_PRIMING_POLL_MS', 'milliseconds');
  const refreshWaitText = text(env, 'CODEX_LAB_REFRESH_WAIT_MS');
  const refreshWaitMs =
    refreshWaitText === undefined
      ? null
      : parseWaitText(refreshWaitText, 'CODEX_LAB_REFRESH_WAIT_MS', 'milliseconds');
  const stopGraceText = text(env, 'CODEX_LAB_CODEX_STOP_GRACE_MS');
  const codexStopGraceMs =
    stopGraceText === undefined
      ? null
      : parseWaitText(stopGraceText, 'CODEX_LAB_CODEX_STOP_GRACE_MS', 'milliseconds');
  const dashboardDir = text(env, 'CODEX_LAB_DASHBOARD_DIR');
  return {
    home: home === undefined ? defaultHome() : parseHomeText(home),
    port: port === undefined ? defaultRouterPort : parsePortText(port, 'CODEX_LAB_PORT'),
    portFromEnvironment: port !== undefined,
    callbackPort:
      callbackPort === undefined
        ? defaultCallbackPort
        : parsePortText(callbackPort, 'CODEX_LAB_CALLBACK_PORT'),
    issuer: parseUrl(env, 'CODEX_LAB_AUTH_ISSUER', defaultIssuer),
    chatGptBaseUrl: parseUrl(env, 'CODEX_LAB_CHATGPT_BASE_URL', defaultChatGptBaseUrl),
    codexBin: text(env, 'CODEX_LAB_CODEX_BIN') ?? null,
    codexStopGraceMs,
    logLevel: (logLevel as LogLevel | undefined) ?? null,
    primingPollMs,
    refreshWaitMs,
    profile: text(env, 'CODEX_LAB_PROFILE') ?? null,
    upstreamZstd: parseSwitch(env, 'CODEX_LAB_UPSTREAM_ZSTD', true),
    upstreamWebSocket: parseSwitch(env, 'CODEX_LAB_UPSTREAM_WEBSOCKET', true),
    dashboardDir: dashboardDir === undefined ? null : resolve(dashboardDir),
  };
}

/**
 * An absolute home folder from `value` (`CODEX_LAB_HOME`, or an option standing in for it named
 * by `source`). A leading `~` is the user's home folder, as a shell would expand it: settings
 * written where no shell runs (a launch agent, an `.env` file, quotes) keep it literally, and a
 * folder named `~` under the working directory is never what was meant. A relative path is
 * refused: read against the working directory, two shells in two folders would be two homes with
 * two router tokens.
 */
export function parseHomeText(
  value: string,
  source = 'CODEX_LAB_HOME',
  code: 'invalid_config' | 'invalid_argument' = 'invalid_config',
): string {
  if (value === '~') return homedir();
  if (value.startsWith('~/') || value.startsWith('~\\')) return join(homedir(), value.slice(2));
  if (!isAbsolute(value)) {
    throw new LabError(
      code,
      `${source} must be an absolute path or start with ~ (such as ~/.codex-lab), not "${value}".`,
    );
  }
  return resolve(value);
}

/** An on/off setting: `on`/`off`, `true`/`false`, `1`/`0` (any case); `fallback` when unset. */
function parseSwitch(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  throw new LabError('invalid_config', `${name} must be on or off, not "${env[name]?.trim()}".`);
}

/** The settings with every default: what a process with no `CODEX_LAB_*` variable runs with. */
export function defaultConfig(overrides: Partial<LabConfig> = {}): LabConfig {
  return { ...readConfig({}), ...overrides };
}
