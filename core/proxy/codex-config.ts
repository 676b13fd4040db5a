/**
 * How a stock Codex CLI is pointed at the router, as pure builders: the `-c key=value` overrides
 * for one run (`codex-lab codex`) and the `config.toml` block for permanent use
 * (`codex-lab codex-config`, the settings page's snippet). Both come from one list of settings
 * (`codexProviderSettings`) and register one provider id: Codex records the provider on each
 * thread and refuses another one on resume, so a thread started one way must resume the other.
 *
 * Every key is checked against the Codex versions CI runs (0.169 and 0.171). `--strict-config`
 * rejects unknown top-level `-c` keys and unknown keys in `config.toml`, but an unknown key under
 * `model_providers.*` given with `-c` only prints "… is ignored" and runs
 * (docs/codex-0.171-notes.md section 1), so the end-to-end suite fails on any "is ignored"
 * warning for the keys set here. A custom provider rather than `openai_base_url`: the built-in
 * provider would try WebSocket upgrades and zstd bodies, and it cannot be given our bearer
 * (docs/codex-protocol.md section 8); named "Codex Lab", not "OpenAI", which would switch
 * Codex to remote compaction with account-bound blobs.
 *
 * The router token reaches Codex only through its token command (`codex-lab token`), never
 * through its environment or a file it owns: Codex passes its environment to every command the
 * model runs, so a token there would reach the model's tool output and the upstream.
 *
 * The block carries nothing taken from an environment: plain `codex` talks to Codex's shared
 * background server ("daemon"), which builds every request from the environment of the shell
 * that started it, so a header read from `CODEX_LAB_PROFILE` there would pin every later session
 * of every shell. Only the overrides of one `codex-lab codex` run, which runs Codex in its own
 * process (`--no-daemon`), carry headers from Codex's environment.
 */
import { defaultRouterPort, routerStartTimeoutMs } from '../config.ts';

/** How long Codex may wait for the token command: a router's start in the background, and more. */
const tokenCommandTimeoutMs = routerStartTimeoutMs + 5_000;

/**
 * How long Codex may reuse the router token before it runs the token command again (Codex's own
 * default is 5 minutes). Codex runs the command when a request needs the token and the one it has
 * is older than this, so a quiet Codex runs nothing; a busy one pays about 0.2 s at most this
 * often. Short because Codex's background server outlives the router: after `codex-lab stop` a
 * new session waits at most this long for the command to start a router again, and sends the
 * token to whatever took the router's port only within this long (then the command, finding no
 * router, hands Codex a placeholder in its place: `token --ensure-router`).
 */
export const tokenRefreshIntervalMs = 10_000;

/** The provider id both the `-c` overrides and the `config.toml` block register. */
export const codexProviderId = 'codex-lab';
/** The provider's display name in Codex's header. */
export const codexProviderName = 'Codex Lab';
/**
 * The environment variable `codex-lab codex` reads as its pin (when `--profile` is not given) and
 * sets for the Codex it runs, which turns it into the `x-codex-lab-profile` pin header.
 */
export const profileEnvVar = 'CODEX_LAB_PROFILE';
/** The request header that pins a Codex process to a profile. */
export const profileHeader = 'x-codex-lab-profile';
/** The environment variable Codex turns into the `x-codex-lab-run` header (`codex-lab codex`). */
export const runEnvVar = 'CODEX_LAB_RUN';
/**
 * The request header naming the `codex-lab codex` run a request belongs to, so the command can
 * say after Codex exits whether any of its turns moved or were refused. Never sent upstream.
 */
export const runHeader = 'x-codex-lab-run';

/** Where the router listens, e.g. `http://127.0.0.1:1456` (a trailing `/backend-api` is accepted). */
export interface CodexRouterTarget {
  routerUrl: string;
}

/**
 * The headers of one `codex-lab codex` run: Codex builds them from its own environment (the run
 * id, and the pin when `CODEX_LAB_PROFILE` is set), or from a literal pin.
 */
export interface CodexRunHeaders {
  /**
   * Pins every request to this profile with a literal header. Leave it out to pin through
   * `CODEX_LAB_PROFILE` in Codex's environment instead (what `codex-lab codex --profile` does).
   */
  profile?: string;
}

/** Where the router is and how Codex starts `codex-lab` for its token. */
export interface CodexProviderOptions extends CodexRouterTarget {
  /**
   * How Codex starts `codex-lab`: the program and its leading arguments. Default `['codex-lab']`;
   * absolute paths when `codex-lab` is not on PATH, or Codex could not run its token command.
   */
  launcher?: readonly string[];
  /**
   * The `CODEX_LAB_HOME` the provider is for, when it is not the default one: Codex runs the
   * token command without the user's shell environment (a pasted block), so the home travels as
   * `--home` (and a router port other than 1456, from `routerUrl`, as `--port`), or the command
   * would start and answer for the default home's router instead.
   */
  home?: string | null;
  /**
   * The headers of one `codex-lab codex` run; left out for the block (see the file's comment: a
   * shared background server would take them from whichever shell started it).
   */
  run?: CodexRunHeaders;
}

/** Options for `codexConfigBlock`: no run headers. */
export type CodexConfigOptions = Omit<CodexProviderOptions, 'run'> & {
  /**
   * The config file the block is for, as its comment names it (`codexConfigFileName`: the one
   * Codex reads in the environment it was asked from). Default the rule itself, for a block read
   * away from that environment (the settings page).
   */
  configFile?: string;
};

/** Options for `codexOverrides`: the provider, and the run's literal pin if any. */
export type CodexOverrideOptions = Omit<CodexProviderOptions, 'run'> & CodexRunHeaders;

/** `http://host:port` with no trailing slash or `/backend-api`. */
export function routerOrigin(routerUrl: string): string {
  return routerUrl.replace(/\/+$/, '').replace(/\/backend-api$/, '');
}

/** A TOML basic string: JSON's escapes are a subset TOML accepts. */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** Codex's model base (`/backend-api/codex`) and usage base (`/backend-api/`) on the router. */
export function routerBaseUrls(routerUrl: string): {
  modelBaseUrl: string;
  chatgptBaseUrl: string;
} {
  const origin = routerOrigin(routerUrl);
  return { modelBaseUrl: `${origin}/backend-api/codex`, chatgptBaseUrl: `${origin}/backend-api/` };
}

/** One Codex setting: its key (dotted, under its table) and its value as TOML text. */
export interface CodexSetting {
  key: string;
  value: string;
}

/** A TOML inline table of string values: `{ "a" = "b", … }`. */
function tomlInlineTable(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{ ${entries.map(([key, value]) => `${tomlString(key)} = ${tomlString(value)}`).join(', ')} }`;
}

/**
 * Every setting that points Codex at the router: the top-level ones and the provider's keys
 * (under `model_providers.codex-lab`), with a run's headers when `options.run` is given. The one
 * source for the overrides and the block.
 */
export function codexProviderSettings(options: CodexProviderOptions): {
  topLevel: CodexSetting[];
  provider: CodexSetting[];
} {
  const { modelBaseUrl, chatgptBaseUrl } = routerBaseUrls(options.routerUrl);
  const [command = 'codex-lab', ...leading] = options.launcher ?? ['codex-lab'];
  const url = new URL(options.routerUrl);
  const port = url.port;
  // A router on another loopback address (`serve --host ::1`): the one the token command starts
  // must listen where `base_url` points. (URL keeps an IPv6 host in brackets.)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const args = [
    ...leading,
    'token',
    '--ensure-router',
    ...(options.home ? ['--home', options.home] : []),
    ...(port !== '' && port !== String(defaultRouterPort) ? ['--port', port] : []),
    ...(host !== '127.0.0.1' ? ['--host', host] : []),
  ];
  return {
    topLevel: [
      { key: 'model_provider', value: tomlString(codexProviderId) },
      // Usage checks (`/status`) go through the router too, which answers with the routed account.
      { key: 'chatgpt_base_url', value: tomlString(chatgptBaseUrl) },
    ],
    provider: [
      { key: 'name', value: tomlString(codexProviderName) },
      { key: 'base_url', value: tomlString(modelBaseUrl) },
      { key: 'wire_api', value: tomlString('responses') },
      // Command-backed auth: Codex asks `codex-lab token` for the bearer, so no token is in its
      // environment (which every command the model runs inherits). Codex's own limit for the
      // command is 5 s; starting a router in the background may take longer on a busy machine,
      // so the command gets as long as that start may take.
      {
        key: 'auth',
        value: `{ command = ${tomlString(command)}, args = [${args.map(tomlString).join(', ')}], timeout_ms = ${tokenCommandTimeoutMs}, refresh_interval_ms = ${tokenRefreshIntervalMs} }`,
      },
      // Codex offers its web search tool (`web__run`) to a custom provider only with this key;
      // the router passes the search through like any turn. `web_search = "disabled"` still wins.
      { key: 'supports_standalone_web_search', value: 'true' },
      ...(options.run === undefined ? [] : runHeaderSettings(options.run)),
    ],
  };
}

/**
 * A run's header settings. Codex skips a variable that is unset: the pin when CODEX_LAB_PROFILE is
 * set, and the run id. A literal pin leaves the environment only the run id, so no shell variable
 * overrides it.
 */
function runHeaderSettings(run: CodexRunHeaders): CodexSetting[] {
  if (run.profile === undefined) {
    return [
      {
        key: 'env_http_headers',
        value: tomlInlineTable([
          [profileHeader, profileEnvVar],
          [runHeader, runEnvVar],
        ]),
      },
    ];
  }
  return [
    { key: 'env_http_headers', value: tomlInlineTable([[runHeader, runEnvVar]]) },
    { key: 'http_headers', value: tomlInlineTable([[profileHeader, run.profile]]) },
  ];
}

/**
 * The `key=value` overrides (each to follow a `-c`) that make a stock Codex use the router with no
 * file edits. They merge cleanly into a `[model_providers.codex-lab]` table the user's
 * `config.toml` already holds (the pasted block): its keys, command auth in both, and the run's
 * headers on top.
 */
export function codexOverrides(options: CodexOverrideOptions): string[] {
  const { profile, ...provider } = options;
  const settings = codexProviderSettings({
    ...provider,
    run: profile === undefined ? {} : { profile },
  });
  const table = `model_providers.${codexProviderId}`;
  return [
    ...settings.topLevel.map(({ key, value }) => `${key}=${value}`),
    ...settings.provider.map(({ key, value }) => `${table}.${key}=${value}`),
  ];
}

/** `codexOverrides` as command-line arguments: `-c`, `key=value`, `-c`, … */
export function codexOverrideArgs(options: CodexOverrideOptions): string[] {
  return codexOverrides(options).flatMap((override) => ['-c', override]);
}

/**
 * The environment additions a Codex run through the router needs: the pin and the run id, which
 * Codex sends as headers. Never the router token (see the file's comment).
 */
export function codexEnvironment(options: {
  profile?: string;
  /** The run id `codex-lab codex` asks the router about after Codex exits. */
  runId?: string;
}): Record<string, string> {
  const env: Record<string, string> = {};
  if (options.profile !== undefined) env[profileEnvVar] = options.profile;
  if (options.runId !== undefined) env[runEnvVar] = options.runId;
  return env;
}

/**
 * The `config.toml` text for using the router permanently. Codex fetches the bearer by running
 * `codex-lab token --ensure-router` (command-backed provider auth, supported by 0.169), which
 * starts a router in the background when none runs for the home, so no token is written into
 * Codex's files and no router has to be started by hand. Top-level keys come first: in TOML they
 * must precede the first table.
 */
export function codexConfigBlock(options: CodexConfigOptions): string {
  const { topLevel, provider } = codexProviderSettings(options);
  return [
    '# Codex Lab: send Codex through the local router (the tray app or `codex-lab serve`).',
    `# For ${options.configFile ?? '$CODEX_HOME/config.toml (default ~/.codex/config.toml)'}.`,
    '# No token is stored here: Codex asks `codex-lab token`, which starts the router in the',
    '# background when none runs.',
    '# Pin a session or a repo with codex-lab pin, or one Codex run with codex-lab codex --profile.',
    ...topLevel.map(({ key, value }) => `${key} = ${value}`),
    '',
    `[model_providers.${codexProviderId}]`,
    ...provider.map(({ key, value }) => `${key} = ${value}`),
    '',
  ].join('\n');
}

/**
 * The provider settings an earlier Codex Lab's block wrote and the block no longer sets, as a
 * table of the block's provider: `codex-config --write` and `--remove` take such a key out where
 * it still has exactly this value (anything else under the key is the user's own). The header
 * `env_http_headers` pinned every session of Codex's shared background server to the profile of
 * the shell that started it (see the file's comment).
 */
export function retiredCodexConfigBlock(): string {
  return [
    `[model_providers.${codexProviderId}]`,
    `env_http_headers = ${tomlInlineTable([[profileHeader, profileEnvVar]])}`,
    '',
  ].join('\n');
}
