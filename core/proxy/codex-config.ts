/**
 * How a stock Codex CLI is pointed at the router, as pure builders: the `-c key=value` overrides
 * for one run (`codex-lab codex`, the desktop app's launcher) and the `config.toml` block for
 * permanent use (`codex-lab codex-config`, the settings page's snippet).
 *
 * Every key is checked against the Codex versions CI runs (0.169 and 0.171). `--strict-config`
 * rejects unknown top-level `-c` keys and unknown keys in `config.toml`, but an unknown key under
 * `model_providers.*` given with `-c` only prints "… is ignored" and runs
 * (research/codex-0.171-notes.md section 1), so the end-to-end suite fails on any "is ignored"
 * warning for the keys set here. A custom provider rather than `openai_base_url`: the built-in
 * provider would try WebSocket upgrades and zstd bodies, and it cannot be given our bearer
 * (research/codex-protocol.md section 8). The router token reaches Codex through the environment or `codex-lab token`, never
 * through a file Codex owns.
 */
import { defaultRouterPort } from '../config.ts';

/** The provider id the permanent `config.toml` block registers. */
export const codexProviderId = 'codex-lab';
/**
 * The provider id the `-c` overrides register. It differs from the block's on purpose: `-c` keys
 * merge into a table the user's config.toml may already define, and Codex 0.169 refuses a
 * provider that ends up with both the block's `auth` command and the overrides' `env_key`
 * ("provider auth cannot be combined with env_key").
 */
export const codexOverrideProviderId = 'codex-lab-run';
/** The provider's display name in Codex's header. */
export const codexProviderName = 'Codex Lab';
/** The environment variable that carries the router token to Codex (`env_key`). */
export const routerTokenEnvVar = 'CODEX_LAB_ROUTER_TOKEN';
/** The environment variable Codex turns into the `x-codex-lab-profile` pin header. */
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

/** Options for `codexConfigBlock`. */
export interface CodexConfigOptions extends CodexRouterTarget {
  /**
   * How Codex starts `codex-lab`: the program and its leading arguments. Default `['codex-lab']`;
   * absolute paths when `codex-lab` is not on PATH, or Codex could not run its token command.
   */
  launcher?: readonly string[];
  /**
   * The `CODEX_LAB_HOME` the block is for, when it is not the default one: Codex runs the token
   * command without the user's shell environment, so the home travels as `--home` (and a router
   * port other than 1456, from `routerUrl`, as `--port`), or the command would start and answer
   * for the default home's router instead.
   */
  home?: string | null;
}

/** Options for `codexOverrides`. */
export interface CodexOverrideOptions extends CodexRouterTarget {
  /**
   * Pins every request to this profile with a literal header. Leave it out to pin through
   * `CODEX_LAB_PROFILE` in Codex's environment instead (what `codex-lab codex --profile` does).
   */
  profile?: string;
}

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

/**
 * The `key=value` overrides (each to follow a `-c`) that make a stock Codex use the router with no
 * file edits. The bearer is taken from `CODEX_LAB_ROUTER_TOKEN`, which the caller puts in Codex's
 * environment.
 */
export function codexOverrides(options: CodexOverrideOptions): string[] {
  const { modelBaseUrl, chatgptBaseUrl } = routerBaseUrls(options.routerUrl);
  const provider = `model_providers.${codexOverrideProviderId}`;
  const run = `${tomlString(runHeader)}=${tomlString(runEnvVar)}`;
  const headers =
    options.profile === undefined
      ? `${provider}.env_http_headers={${tomlString(profileHeader)}=${tomlString(profileEnvVar)},${run}}`
      : `${provider}.http_headers={${tomlString(profileHeader)}=${tomlString(options.profile)}}`;
  return [
    `model_provider=${tomlString(codexOverrideProviderId)}`,
    `${provider}.name=${tomlString(codexProviderName)}`,
    `${provider}.base_url=${tomlString(modelBaseUrl)}`,
    `${provider}.wire_api="responses"`,
    `${provider}.env_key=${tomlString(routerTokenEnvVar)}`,
    headers,
    // Usage checks (`/status`) go through the router too, which answers with the routed account.
    `chatgpt_base_url=${tomlString(chatgptBaseUrl)}`,
  ];
}

/** `codexOverrides` as command-line arguments: `-c`, `key=value`, `-c`, … */
export function codexOverrideArgs(options: CodexOverrideOptions): string[] {
  return codexOverrides(options).flatMap((override) => ['-c', override]);
}

/** The environment additions a Codex run through the router needs. */
export function codexEnvironment(options: {
  routerToken: string;
  profile?: string;
  /** The run id `codex-lab codex` asks the router about after Codex exits. */
  runId?: string;
}): Record<string, string> {
  const env: Record<string, string> = { [routerTokenEnvVar]: options.routerToken };
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
  const { modelBaseUrl, chatgptBaseUrl } = routerBaseUrls(options.routerUrl);
  const [command = 'codex-lab', ...leading] = options.launcher ?? ['codex-lab'];
  const port = new URL(options.routerUrl).port;
  const args = [
    ...leading,
    'token',
    '--ensure-router',
    ...(options.home ? ['--home', options.home] : []),
    ...(port !== '' && port !== String(defaultRouterPort) ? ['--port', port] : []),
  ]
    .map(tomlString)
    .join(', ');
  return [
    '# Codex Lab: send Codex through the local router (the tray app or `codex-lab serve`).',
    '# Paste into ~/.codex/config.toml. No token is stored here: Codex asks `codex-lab token`,',
    '# which starts the router in the background when none runs.',
    '# Pin one shell to a profile with: export CODEX_LAB_PROFILE=<name>',
    `model_provider = ${tomlString(codexProviderId)}`,
    `chatgpt_base_url = ${tomlString(chatgptBaseUrl)}`,
    '',
    `[model_providers.${codexProviderId}]`,
    `name = ${tomlString(codexProviderName)}`,
    `base_url = ${tomlString(modelBaseUrl)}`,
    'wire_api = "responses"',
    `auth = { command = ${tomlString(command)}, args = [${args}] }`,
    `env_http_headers = { ${tomlString(profileHeader)} = ${tomlString(profileEnvVar)} }`,
    '',
  ].join('\n');
}
