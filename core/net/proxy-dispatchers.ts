/**
 * The connections `proxyFor` (proxy.ts) asks for: HTTP through undici's `ProxyAgent` (a `CONNECT`
 * tunnel, as for any https:// target) and a WebSocket through `https-proxy-agent`; without a
 * proxy, the direct keep-alive pool and connection as before. Loaded with the router, or when the
 * environment names a proxy: `codex-lab list` never sends a request.
 */
import type { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { Agent, Pool, ProxyAgent, setGlobalDispatcher, type Dispatcher } from 'undici';
import { checkProxyVariables, proxyConfigured, proxyFor } from './proxy.ts';

/**
 * A dispatcher for requests to `origin`: the keep-alive pool `options` describe, or, when a proxy
 * takes that origin, a `ProxyAgent` with the same options tunnelling through it. A direct
 * `https:` pool gives every connection it opens one TLS secure context (undici's connector would
 * build one per connection, as `ws` did: see `webSocketConnection`); its session cache already
 * resumes their TLS sessions.
 */
export function dispatcherFor(origin: string, options: Pool.Options): Dispatcher {
  const proxy = proxyFor(origin);
  if (proxy === null) {
    const shared =
      new URL(origin).protocol === 'https:' && options.connect === undefined
        ? { connect: { secureContext: createSecureContext() } }
        : {};
    return new Pool(origin, { ...options, ...shared });
  }
  return new ProxyAgent({ ...options, uri: proxy, proxyTunnel: true });
}

/** How the WebSockets of one origin's pool connect: `ws` options for every socket. */
export interface WebSocketConnection {
  /** A tunnel through the environment's proxy, or the direct TLS agent; none for plain `ws:`. */
  agent?: HttpAgent;
  /** One TLS secure context for every socket of the pool (`wss:` only). */
  secureContext?: SecureContext;
}

/**
 * How WebSockets to `url` connect: through its proxy's tunnel when the environment names one,
 * else directly; to a `wss:` origin, either way through an agent that resumes TLS sessions (every
 * Codex session has a socket of its own, and a full handshake per socket costs CPU and the
 * certificate chain's bytes; native Codex pays them, measured, and the router need not). Every
 * `wss:` socket, tunnelled or not, gets the same secure context: without one each connection
 * builds its own (the default CA store read into a new OpenSSL context), the largest single cost
 * of opening a socket in a profile. Called once per origin's pool: the session cache and the
 * context are that pool's.
 */
export function webSocketConnection(url: string): WebSocketConnection {
  const secure = new URL(url).protocol === 'wss:';
  const secureContext = secure ? { secureContext: createSecureContext() } : {};
  const proxy = proxyFor(url);
  if (proxy !== null) {
    return {
      agent: secure ? new ResumingProxyAgent(proxy) : new HttpsProxyAgent(proxy),
      ...secureContext,
    };
  }
  if (!secure) return {};
  // Not kept alive: an upgraded socket leaves the agent, which keeps only its TLS sessions.
  return { agent: new HttpsAgent({ keepAlive: false }), ...secureContext };
}

/**
 * `https-proxy-agent` for one `wss:` origin that resumes TLS sessions through the tunnel as the
 * direct agent does (the package keeps none): each new socket offers the last session the origin
 * gave (its pool's sockets all go to that one origin). A session the origin no longer knows costs
 * a full handshake, which brings a new one.
 */
class ResumingProxyAgent extends HttpsProxyAgent<string> {
  #session: Buffer | undefined;

  override async connect(
    request: Parameters<HttpsProxyAgent<string>['connect']>[0],
    options: Parameters<HttpsProxyAgent<string>['connect']>[1],
  ): Promise<Socket> {
    const session = this.#session;
    const socket = await super.connect(
      request,
      session !== undefined && options.secureEndpoint ? { ...options, session } : options,
    );
    if (socket instanceof TLSSocket) {
      socket.on('session', (session: Buffer) => {
        this.#session = session;
      });
    }
    return socket;
  }
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
