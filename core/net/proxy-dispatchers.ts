/**
 * The connections `proxyFor` (proxy.ts) asks for: HTTP through undici's `ProxyAgent` (a `CONNECT`
 * tunnel, as for any https:// target) and a WebSocket through `https-proxy-agent`; without a
 * proxy, the direct keep-alive pool and connection as before. Loaded with the router, or when the
 * environment names a proxy: `codex-lab list` never sends a request.
 */
import type { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { Agent, Pool, ProxyAgent, setGlobalDispatcher, type Dispatcher } from 'undici';
import { checkProxyVariables, proxyConfigured, proxyFor } from './proxy.ts';

/**
 * A dispatcher for requests to `origin`: the keep-alive pool `options` describe, or, when a proxy
 * takes that origin, a `ProxyAgent` with the same options tunnelling through it.
 */
export function dispatcherFor(origin: string, options: Pool.Options): Dispatcher {
  const proxy = proxyFor(origin);
  if (proxy === null) return new Pool(origin, options);
  return new ProxyAgent({ ...options, uri: proxy, proxyTunnel: true });
}

/**
 * The agent WebSockets to `url` connect with: a tunnel through its proxy; for a direct `wss:`
 * origin, an agent that resumes TLS sessions (every Codex session has a socket of its own, and
 * a new full handshake per socket costs CPU and the certificate chain's bytes that native Codex,
 * which resumes them, does not pay); undefined for a plain `ws:` origin. One agent per origin's
 * pool: its session cache is that origin's.
 */
export function webSocketAgentFor(url: string): HttpAgent | undefined {
  const proxy = proxyFor(url);
  if (proxy !== null) return new HttpsProxyAgent(proxy);
  if (new URL(url).protocol !== 'wss:') return undefined;
  // Not kept alive: an upgraded socket leaves the agent, which keeps only its TLS sessions. One
  // secure context for all of them: made per connection otherwise (the default CA store read
  // into a new OpenSSL context for every socket, the largest part of opening one in a profile).
  return new HttpsAgent({ keepAlive: false, secureContext: createSecureContext() });
}

/**
 * Makes `fetch` (sign-in, usage, priming, revoke) honor the environment's proxy when it names
 * one: the global dispatcher becomes an agent that picks, per origin, the direct pool or the
 * proxy's tunnel. Without a proxy nothing changes; a proxy variable that is not a URL is
 * `invalid_config`.
 */
export function useProxyFromEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  if (!proxyConfigured(env)) return;
  checkProxyVariables(env);
  setGlobalDispatcher(
    new Agent({ factory: (origin, options) => dispatcherFor(String(origin), options) }),
  );
}
