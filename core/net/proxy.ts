/**
 * Which proxy, if any, outbound traffic to a URL goes through: the one the environment names, as
 * for Codex's own traffic. A user behind a proxy that is the only way out reaches OpenAI through
 * it (sign-in, usage, priming, the router's requests and its upstream WebSockets), and nothing
 * changes for anyone else (`docs/security.md`, "Proxies").
 *
 * One rule for every path: `proxy-from-env` reads `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`
 * (either case) and honors `NO_PROXY`, as curl does; loopback (the router, the sign-in callback)
 * is always reached directly. The environment is the process's own: a proxy is a setting of the
 * machine, not of a lab home. The dispatchers that act on it are in `proxy-dispatchers.ts`.
 */
import { getProxyForUrl } from 'proxy-from-env';
import { LabError } from '../errors.ts';
import { isLoopbackAddress } from './loopback.ts';

/** The variables that name a proxy (any one set turns proxying on). */
const proxyVariables = ['https_proxy', 'http_proxy', 'all_proxy'];

/** Whether the environment names a proxy at all. */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return proxyVariables.some((name) => Boolean(env[name] || env[name.toUpperCase()]));
}

/**
 * Fails with `invalid_config` naming the first proxy variable that is not a URL (a bare
 * `host:port` counts, as for curl). The value is not repeated: it may hold the proxy's password.
 */
export function checkProxyVariables(env: NodeJS.ProcessEnv = process.env): void {
  for (const lower of proxyVariables) {
    for (const name of [lower, lower.toUpperCase()]) {
      const value = env[name];
      if (!value) continue;
      if (!URL.canParse(value.includes('://') ? value : `http://${value}`)) {
        throw new LabError(
          'invalid_config',
          `${name} is not a proxy URL (such as http://proxy.example:3128); fix it or unset it.`,
        );
      }
    }
  }
}

/**
 * The proxy URL for `target`, or null when it goes directly (no proxy named, `NO_PROXY` matches,
 * or a loopback host). `ws:` and `wss:` are asked as `http:` and `https:`, whose variables a user
 * sets.
 */
export function proxyFor(target: string | URL): string | null {
  const url = new URL(target);
  // Only this machine reaches its loopback (the router, the sign-in callback).
  if (isLoopbackAddress(url.hostname)) return null;
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  const proxy = getProxyForUrl(url.href);
  return proxy === '' ? null : proxy;
}

/**
 * `NO_PROXY` for a process that talks to the router, such as the Codex `codex-lab codex` runs:
 * with a proxy named, loopback added to its bypass list (in both cases), else nothing. Codex's
 * HTTP client sends even http://127.0.0.1 through `HTTP_PROXY` unless `NO_PROXY` names it, and a
 * proxy cannot reach this machine's loopback.
 */
export function loopbackBypass(env: NodeJS.ProcessEnv): Record<string, string> {
  if (!proxyConfigured(env)) return {};
  const listed = (env['no_proxy'] || env['NO_PROXY'] || '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const missing = ['127.0.0.1', 'localhost', '::1'].filter((host) => !listed.includes(host));
  const value = [...listed, ...missing].join(',');
  return { NO_PROXY: value, no_proxy: value };
}
