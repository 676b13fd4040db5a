/**
 * The router: one loopback HTTP server that serves `/backend-api/*` for Codex (routed per
 * session, with transparent fallback before the first byte), and hands `/lab/v1/*` and `/ui/*`
 * to the control API and the dashboard.
 *
 * Hot path rules: no file reads, no awaits beyond the body, the credentials and the upstream;
 * responses stream through `pipeline` so backpressure holds and a client that goes away aborts
 * its upstream request.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Duplex, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import pLimit from 'p-limit';
import type { Dispatcher, Pool } from 'undici';
import {
  createUpstreamWebSockets,
  type UpstreamWebSockets,
  type WebSocketTurnResult,
  webSocketTransportError,
} from './upstream-websocket.ts';
import { codexClientHeaders } from '../auth/codex-identity.ts';
import { responseDecoder } from '../net/content-encoding.ts';
import {
  cookieJarKey,
  cookieOrigin,
  processCookieJars,
  type CloudflareCookieJars,
} from '../net/cloudflare-cookies.ts';
import { dispatcherFor } from '../net/proxy-dispatchers.ts';
import { isLocalRequest, isLoopbackAddress } from '../net/loopback.ts';
import { extractRouteContext, type RouteContext } from '../router/route-context.ts';
import { failedFile, isLabError, LabError } from '../errors.ts';
import { unreadableTokens } from '../format.ts';
import { PendingWork, settledWithin, type Clock, type Logger } from '../ports.ts';
import { defaultChatGptBaseUrl, defaultRouterPort } from '../config.ts';
import type { RequestEnding } from '../view-types.ts';
import {
  decodeBody,
  defaultBodyLimitBytes,
  lengthOfChunks,
  parseJsonBody,
  readRequestChunks,
  type RequestBody,
} from './body.ts';
import {
  CiphertextOwners,
  createCiphertextTap,
  isCiphertextRejection,
  stripAllCiphertext,
  stripCiphertext,
} from './ciphertext.ts';
import type {
  NoPick,
  ProfilePick,
  ProxyEngine,
  ProxyRequestInfo,
  ProxyRequestKind,
  UpstreamCredentials,
} from './engine.ts';
import { spendsQuota } from './engine.ts';
import { sendError, sendFailure, sendJson } from './answers.ts';
import {
  bearerFrom,
  looksLikeRouterToken,
  tokenMatcher,
  type RouterTokens,
} from './router-token.ts';
import { TurnStateIssuers } from './turn-states.ts';
import {
  createWorkspaceRoutes,
  routingOverrideHeader,
  unconstrained,
  type WorkspaceRouting,
  type WorkspaceRoutes,
} from '../net/workspace-routing.ts';
import { UsageTap } from './usage-tap.ts';
import { noResetCreditsAnswer, resetCreditsPath } from '../quota/reset-credits.ts';

/** Extra request handlers mounted on the same server (control API, dashboard). */
export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
) => boolean | Promise<boolean>;

/** Options for `createRouterServer`. */
export interface RouterServerOptions {
  engine: ProxyEngine;
  /**
   * The router token local clients must present, or the service's `RouterTokens`, which decides
   * live which tokens are accepted (a rotation is adopted without a restart).
   */
  token: string | Pick<RouterTokens, 'accepts' | 'acceptsStored'>;
  /** `CODEX_LAB_CHATGPT_BASE_URL`, e.g. `https://chatgpt.com/backend-api`. */
  upstreamBaseUrl?: string;
  clock: Clock;
  logger: Logger;
  /** 0 picks a free port. */
  port?: number;
  /** Loopback unless the caller explicitly asks otherwise. */
  host?: string;
  bodyLimitBytes?: number;
  /** A request body that sends nothing for this long is dropped (default 30 s). */
  bodyIdleTimeoutMs?: number;
  /**
   * How long an upstream answer may send nothing, its head included, before the router gives up
   * on it (default `upstreamIdleMs`, longer than Codex's own stream idle timeout).
   */
  upstreamIdleTimeoutMs?: number;
  /** Handlers for paths under `/lab/` that need the token (the control API). */
  control?: RouteHandler;
  /** Handlers for public paths (the dashboard's static files). */
  publicRoutes?: RouteHandler;
  /**
   * Upstream dispatcher; default a keep-alive undici Pool to the base URL's origin (through the
   * environment's proxy when it names one: `core/net/proxy.ts`).
   */
  dispatcher?: Dispatcher;
  /** Cloudflare's cookies per account (default: the process's, `processCookieJars`). */
  cookies?: CloudflareCookieJars;
  /**
   * Send large turn bodies zstd-compressed (level 3), as Codex does with a ChatGPT login. Default
   * true (`CODEX_LAB_UPSTREAM_ZSTD`); an upstream that refuses them turns it off for the process.
   */
  compressRequests?: boolean;
  /** Bodies smaller than this go plain: compressing them costs more than it saves. Default 8 KB. */
  compressMinBytes?: number;
  /**
   * Carry a session's turns upstream over Responses over WebSocket, incrementally when a turn
   * extends the previous one (`CODEX_LAB_UPSTREAM_WEBSOCKET`, whose default lives in
   * core/config.ts; docs/routing.md).
   */
  upstreamWebSocket: boolean;
  /** Idle upstream sockets close after this long (default 5 minutes). */
  webSocketIdleMs?: number;
  /** At most this many upstream sockets open (default 64). */
  maxWebSockets?: number;
  /**
   * Each profile's workspace routing (origin and residency override), shared with whatever else
   * sends a profile's requests (priming). Default: the router's own, read with the global fetch.
   */
  workspaces?: Pick<WorkspaceRoutes, 'routingFor'>;
}

/** A running router. */
export interface RouterServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Requests to the backend (turns, usage checks) being answered now. */
  inFlight(): number;
  /** Refuses new requests to the backend from now on (503); the control API still answers. */
  beginStop(): void;
  /**
   * Stops accepting, ends open streams and closes the upstream pool. With `drainMs`, requests to
   * the backend already being answered get that long to finish first (until `signal` aborts);
   * any request that arrives meanwhile is refused.
   */
  close(options?: RouterCloseOptions): Promise<void>;
}

/** How a router stops: at once (the default), or after its requests in flight finish. */
export interface RouterCloseOptions {
  /** How long requests in flight may take to finish. Default 0: streams end at once. */
  drainMs?: number;
  /** Ends the wait early (a second Ctrl-C). */
  signal?: AbortSignal;
}

// Headers that describe one hop, or that the router sets itself; never forwarded either way.
const hopHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);
const clientOnlyHeaders = new Set([
  'authorization',
  'chatgpt-account-id',
  // The residency override is the account's, as the router's workspace read gave it.
  routingOverrideHeader,
  'x-codex-lab-profile',
  'x-codex-lab-run',
  'content-length',
  'cookie',
]);

const notForwardedUpstream: ReadonlySet<string> = new Set([...hopHeaders, ...clientOnlyHeaders]);
// A request that carries its own credentials goes upstream with them, untouched but for hop headers.
const notPassedThrough: ReadonlySet<string> = new Set([
  ...hopHeaders,
  'content-length',
  'x-codex-lab-profile',
]);
// OAuth discovery at the origin's root carries no credential of any kind.
const notPassedToDiscovery: ReadonlySet<string> = new Set([
  ...notPassedThrough,
  'authorization',
  'cookie',
  'chatgpt-account-id',
]);
/**
 * The OAuth discovery documents Codex's MCP client (rmcp) asks a server's origin for, at its
 * root (RFC 9728 and RFC 8414 with the path suffix, then without it, and OpenID's): the only root
 * paths the router passes upstream.
 */
function isOAuthDiscovery(path: string): boolean {
  return /^\/\.well-known\/(oauth-protected-resource|oauth-authorization-server|openid-configuration)(\/|$)/.test(
    path,
  );
}
const notForwardedDownstream: ReadonlySet<string> = new Set([...hopHeaders, 'set-cookie']);
// Request headers native Codex carries in each WebSocket frame's `client_metadata`, as
// `ws_request_header_<name>`, and not on the handshake (measured on Codex 0.171).
const perFrameHeaders = ['x-openai-internal-codex-responses-lite'] as const;
// Off the WebSocket handshake: what only a request with a body (or its answer's encoding) has,
// since frames carry the body and the socket compresses its own (permessage-deflate), and what
// each frame carries instead.
const notOnHandshake: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'accept',
  'accept-encoding',
  ...perFrameHeaders,
]);

const needsNormalising = /[%\\]|\/\.|\/\//;

/**
 * How long a closing router waits for its requests' handlers to end once their connections are
 * closed: a refresh one started runs to the issuer's answer (its own limit is 30 s).
 */
const handlersGraceMs = 45_000;
const maxAttempts = 16;
/**
 * Token refreshes one profile gets within one request after 401s. The first refresh may hand back
 * a token another request (or process) refreshed a moment earlier, and that one may have been
 * rejected since: the second, asked with it as the rejected token, mints one for this request.
 * Only a 401 to that token counts as "a fresh token rejected" (three in a row, with no success
 * between, mark the account as needing a sign-in). The router soak found the case: with tokens
 * expiring under load, joined refreshes handed back expired tokens and accounts were marked.
 */
const refreshesPerAttempt = 2;
const defaultCompressMinBytes = 8 * 1024;
/** An upstream 400 that refuses the body's encoding rather than its content. */
const encodingRefusal = /zstd|content-encoding|decompress/i;
const zstdCompressCallback = zlib.zstdCompress;
/** The size of each piece of compressed output (see `zstdCompress`). */
const compressedChunkBytes = 64 * 1024;
/**
 * How many bodies are compressed at once, process-wide: libuv's thread pool runs four jobs at a
 * time (fewer on fewer cores), so more in flight only hold their zstd working memory side by side.
 * Measured with 64 sessions sending at once, unlimited compressions cost twice the CPU of gated
 * ones (docs/benchmarks.md, "Seventh round").
 */
const compressions = pLimit(Math.max(1, Math.min(4, availableParallelism())));
/**
 * zstd level 3 (Codex's), on the thread pool: never on the event loop. The body's size is
 * declared up front: zstd then sizes its window and tables to the body (a 50 KB turn needs a
 * fraction of the 2 MB window level 3 allocates for an unknown size) and writes the size in the
 * frame. Its output comes in 64 KiB pieces, not zlib's 16 KiB: one or two trips to the thread pool
 * for a turn (Codex's bodies compress to a third or a half), not one per 16 KiB.
 */
function zstdCompress(body: Buffer, signal: AbortSignal): Promise<Buffer> {
  return compressions(() =>
    // A turn whose client left while it waited for its turn is not compressed: its upstream
    // request is aborted at once anyway (the empty result is never sent).
    signal.aborted
      ? Promise.resolve(Buffer.alloc(0))
      : new Promise<Buffer>((resolve, reject) =>
          zstdCompressCallback(
            body,
            {
              params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 },
              pledgedSrcSize: body.length,
              chunkSize: compressedChunkBytes,
            },
            (error, result) => (error ? reject(error) : resolve(result)),
          ),
        ),
  );
}

function isIdentity(encoding: string | undefined): boolean {
  const name = (encoding ?? '').trim().toLowerCase();
  return name === '' || name === 'identity';
}
/** Error bodies the router reads (429, 400) are small JSON; more is cut off. */
const maxErrorBodyBytes = 64 * 1024;
/** Blob digests journaled per request at most (a turn mints a few; see `RequestOutcome.minted`). */
const maxMintedPerRequest = 256;
/** A usage answer the router replaces is read whole up to this size. */
const maxUsageBodyBytes = 1024 * 1024;

/**
 * How long Codex waits on a turn's stream with nothing arriving before it gives up (its
 * `stream_idle_timeout_ms`, 300 s by default in 0.171; docs/codex-protocol.md).
 */
export const codexStreamIdleMs = 300_000;

/**
 * How long the router waits on an upstream turn for its answer's head, and then between its
 * events: longer than Codex waits, so the router never gives up on a live upstream before Codex
 * would (a turn whose first byte took over 120 s was cut by the router while Codex still waited).
 */
export const upstreamIdleMs = codexStreamIdleMs + 10_000;

/** The upstream connection pool's settings (one pool per backend origin), waiting `idleMs`. */
export function upstreamPoolOptions(idleMs = upstreamIdleMs): Pool.Options {
  return {
    connections: 64,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    headersTimeout: idleMs,
    bodyTimeout: idleMs,
  };
}

/** Starts the router on loopback. Resolves once it is listening. */
export async function createRouterServer(options: RouterServerOptions): Promise<RouterServer> {
  const base = new URL((options.upstreamBaseUrl ?? defaultChatGptBaseUrl).replace(/\/+$/, ''));
  const basePath = base.pathname.replace(/\/+$/, '');
  const poolOptions = upstreamPoolOptions(options.upstreamIdleTimeoutMs);
  const dispatcher = options.dispatcher ?? dispatcherFor(base.origin, poolOptions);
  const bodyLimit = options.bodyLimitBytes ?? defaultBodyLimitBytes;
  const { engine, clock, logger, token } = options;
  // Which profile each upstream turn state belongs to: a turn moved to another profile leaves
  // the first one's off (turn-states.ts).
  const turnStates = new TurnStateIssuers();
  // Cloudflare's cookies, per account, for every request the router sends upstream: Codex keeps
  // them for chatgpt.com and returns them, but not for the router's loopback address.
  const cookies = options.cookies ?? processCookieJars;
  let upstreamTakesZstd = options.compressRequests ?? true;
  /** The upstream WebSocket pool for a backend origin (the configured one, or a workspace's). */
  const createSockets = (origin: URL): UpstreamWebSockets =>
    createUpstreamWebSockets({
      clock,
      url: `${origin.protocol === 'https:' ? 'wss:' : 'ws:'}//${origin.host}${basePath}/codex/responses`,
      cookies,
      ...(options.webSocketIdleMs === undefined ? {} : { idleMs: options.webSocketIdleMs }),
      ...(options.maxWebSockets === undefined ? {} : { maxSockets: options.maxWebSockets }),
    });
  const webSockets = options.upstreamWebSocket ? createSockets(base) : null;
  // A workspace with its own backend origin (workspace-routing.ts) gets its own pool and sockets,
  // made when its first turn goes; the same API paths below `/backend-api`.
  const originDispatchers = new Map<string, Dispatcher>([[base.origin, dispatcher]]);
  const originSockets = new Map<string, UpstreamWebSockets>();
  if (webSockets !== null) originSockets.set(base.origin, webSockets);
  const dispatcherAt = (origin: string): Dispatcher => {
    let found = originDispatchers.get(origin);
    if (found === undefined) {
      found = dispatcherFor(origin, poolOptions);
      originDispatchers.set(origin, found);
    }
    return found;
  };
  const socketsAt = (origin: string): UpstreamWebSockets | null => {
    if (webSockets === null) return null;
    let found = originSockets.get(origin);
    if (found === undefined) {
      found = createSockets(new URL(origin));
      originSockets.set(origin, found);
    }
    return found;
  };
  // Each profile's workspace routing, read as native Codex reads it before an account's first
  // turn: its backend origin and data-residency override (net/workspace-routing.ts). The service
  // passes its own, shared with priming; a router on its own reads with the global fetch.
  const workspaces =
    options.workspaces ??
    createWorkspaceRoutes({
      clock,
      baseUrl: base.href,
      credentialsOf: (profile) => engine.credentials(profile),
      identity: codexClientHeaders('application/json'),
      logger,
    });
  const compressMinBytes = options.compressMinBytes ?? defaultCompressMinBytes;
  const ciphertext = engine.ciphertext ?? new CiphertextOwners();
  const log = logger.child({ component: 'router' });
  const tokenMatches =
    typeof token === 'string'
      ? tokenMatcher(token)
      : (presented?: string) => token.accepts(presented);
  // A token this router does not hold may be the file's newer one (router-token.ts): asked only
  // after the synchronous check failed, so the hot path never waits on it.
  const storedTokenMatches =
    typeof token === 'string'
      ? () => Promise.resolve(false)
      : (presented?: string) => token.acceptsStored(presented);
  const bindHost = options.host ?? '127.0.0.1';
  // Bound to a non-loopback address on purpose (serve --host): that address is a valid Host too.
  const extraHosts =
    isLoopbackAddress(bindHost) || bindHost === '0.0.0.0' || bindHost === '::' ? [] : [bindHost];
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 30_000;

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 });
  // Codex -> router stays HTTP/SSE: any upgrade (WebSocket) is answered 426 at once, never
  // forwarded, so Codex falls back to HTTP on its first attempt (DESIGN.md section 9).
  server.on('upgrade', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(upgradeRequiredAnswer);
  });
  // Requests to the backend being answered, counted so a stop can let them finish (`close`).
  // Only those: a dashboard's event stream never ends on its own, and must not hold a stop.
  let stopping = false;
  let inFlight = 0;
  let onDrained = (): void => {};
  // Every request being handled, the control API's too: `close` waits for them to end (a turn's
  // upstream is aborted once its connection closes), so nothing one of them writes, a refresh it
  // started or the figures it read, lands after the stop.
  const handling = new PendingWork();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    void handling.track(handle(request, response)).catch((error: unknown) => {
      log.error({ err: error }, 'router request failed');
      if (!response.headersSent) {
        const message = 'The router hit an internal error; see its log.';
        // The control API answers in its own shape (`{ ok: false, code, message }`).
        if (isControlTarget(request.url)) sendFailure(response, 'internal_error', message);
        else sendError(response, 500, 'internal_error', message);
      } else {
        response.destroy();
      }
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.url ?? '/';
    // DNS rebinding: a foreign page resolving its name to 127.0.0.1 still sends its own Host.
    if (!isLocalRequest(request.headers, extraHosts)) {
      response.setHeader('connection', 'close');
      const message = 'The router only answers requests addressed to 127.0.0.1 or localhost.';
      return isControlTarget(target)
        ? sendFailure(response, 'misdirected_request', message)
        : sendError(response, 421, 'misdirected_request', message);
    }
    // The hot path skips WHATWG URL parsing for plain paths (what Codex sends); anything it would
    // normalise (escapes, dot segments, backslashes, empty segments) takes the full parse.
    if (target.startsWith('/backend-api/') && !needsNormalising.test(target)) {
      return backend(request, response, target.slice('/backend-api'.length));
    }
    const url = new URL(target, 'http://router.invalid');
    const path = url.pathname;
    if (path.startsWith('/backend-api/') || path === '/backend-api') {
      return backend(request, response, path.slice('/backend-api'.length) + url.search);
    }
    if (path.startsWith('/lab/')) {
      if (!authorized(request) && !(await authorizedByStoredToken(request))) {
        return rejectUnauthorized(response);
      }
      if (options.control && (await options.control(request, response, url))) return;
      return sendFailure(response, 'not_found', `No control API route ${request.method} ${path}.`);
    }
    if ((request.method === 'GET' || request.method === 'HEAD') && isOAuthDiscovery(path)) {
      return discovery(request, response, path + url.search);
    }
    if (options.publicRoutes && (await options.publicRoutes(request, response, url))) return;
    sendError(response, 404, 'not_found', `The router has nothing at ${path}.`);
  }

  /**
   * OAuth discovery at the backend origin's root (`isOAuthDiscovery`): Codex's MCP client asks
   * the origin of `{chatgpt_base_url}/ps/mcp` for it, so natively chatgpt.com answers; here it
   * is passed to the upstream's origin as the backend's side traffic is, without any credential
   * (Codex sends none there; a router token sent by mistake stays on the machine).
   */
  async function discovery(
    request: IncomingMessage,
    response: ServerResponse,
    target: string,
  ): Promise<void> {
    if (!admitted(response)) return;
    return passThrough(request, response, target, { path: target, skip: notPassedToDiscovery });
  }

  /**
   * Counts a request that goes upstream while it is answered, so a stop lets it finish; one that
   * arrives while the router stops is refused (false), and Codex retries a 503, by when the next
   * router may be listening.
   */
  function admitted(response: ServerResponse): boolean {
    if (stopping) {
      response.setHeader('connection', 'close');
      sendError(response, 503, 'router_unavailable', 'The Codex Lab router is stopping.');
      return false;
    }
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) onDrained();
    });
    return true;
  }

  /**
   * A request to the backend (`subPath` below `/backend-api`): proxied with the router's token,
   * passed through without it. Counted while it is answered, so a stop lets it finish; one that
   * arrives while the router stops is refused (the router still answers its control API then,
   * so every client sees it stopping, not frozen).
   */
  async function backend(
    request: IncomingMessage,
    response: ServerResponse,
    subPath: string,
  ): Promise<void> {
    if (!admitted(response)) return;
    if (!authorized(request)) {
      const bearer = bearerFrom(request.headers.authorization);
      // Any other credential (the caller's own ChatGPT token) passes through, without a wait.
      if (!looksLikeRouterToken(bearer)) return passThrough(request, response, subPath);
      // A router token this router does not hold may be the file's newer one; one it does not
      // accept (replaced, revoked) is answered here: passed through, it would show the upstream
      // a router token. Codex runs its token command again on a 401 and retries with the current
      // one.
      if (!(await storedTokenMatches(bearer))) {
        return sendError(
          response,
          401,
          'unauthorized',
          'The Codex Lab router token this request carries is not accepted (it was replaced, or is not this router’s): codex-lab token prints the current one.',
          { 'www-authenticate': 'Bearer realm="codex-lab"' },
        );
      }
    }
    return proxy(request, response, subPath);
  }

  /**
   * Sends one HTTP request upstream with its account's Cloudflare cookies (the account its
   * `ChatGPT-Account-Id` names: the profile's, or a passed-through caller's own) and keeps the
   * ones its answer sets. The one way the router's HTTP requests go upstream. `request.headers`
   * is this request's own object (every caller builds it for the one request), so the cookie is
   * added to it rather than to a copy made on every request.
   */
  async function sendUpstream(
    target: Dispatcher,
    request: Dispatcher.RequestOptions & { headers: Record<string, string | string[]> },
  ): Promise<Dispatcher.ResponseData> {
    const account = cookieJarKey(
      cookieOrigin(request.origin ?? base.origin),
      header(request.headers['chatgpt-account-id']),
    );
    const cookie = cookies.cookieHeader(account, clock.now());
    // A cookie the caller sent itself goes as it came (Codex sends none to the router).
    if (cookie !== undefined && request.headers['cookie'] === undefined) {
      request.headers['cookie'] = cookie;
    }
    const answer = await target.request(request);
    cookies.remember(account, answer.headers['set-cookie'], clock.now());
    return answer;
  }

  function authorized(request: IncomingMessage): boolean {
    return tokenMatches(bearerFrom(request.headers.authorization));
  }

  /** `authorized` for a router token this router has not adopted yet (see `acceptsStored`). */
  function authorizedByStoredToken(request: IncomingMessage): Promise<boolean> {
    const bearer = bearerFrom(request.headers.authorization);
    return looksLikeRouterToken(bearer) ? storedTokenMatches(bearer) : Promise.resolve(false);
  }

  function rejectUnauthorized(response: ServerResponse): void {
    response.setHeader('www-authenticate', 'Bearer realm="codex-lab"');
    // Only the control API gets here (the backend passes such requests through).
    sendFailure(
      response,
      'unauthorized',
      'Missing or wrong router token: send "Authorization: Bearer <token>" (codex-lab token prints it).',
    );
  }

  async function proxy(
    request: IncomingMessage,
    response: ServerResponse,
    subPath: string,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const kind = kindOf(method, subPath);
    let raw: RequestBody | null = null;
    let body: Record<string, unknown> | null = null;
    const turn = spendsQuota(kind);
    // A turn's body is parsed only when something needs it: routing when the headers lack the
    // session or the model (Codex sends both), or a rewrite. The normal path parses nothing.
    let parsed: Record<string, unknown> | null = null;
    const parseTurn = async (): Promise<Record<string, unknown>> => {
      parsed ??= parseJsonBody(
        await decodeBody(
          raw?.whole() ?? Buffer.alloc(0),
          header(request.headers['content-encoding']),
          bodyLimit,
        ),
      );
      return parsed;
    };
    let routeContext: RouteContext | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      try {
        raw = await readRequestChunks(request, bodyLimit, bodyIdleMs);
        if (turn) {
          // Routing reads the headers once here; the engine reuses what they gave unless the
          // body had to be parsed for what they lack (no session or no model).
          routeContext = extractRouteContext(request.headers, null, 'lower-case');
          if (routeContext.sessionId === null || routeContext.model === null) {
            routeContext = undefined;
            body = await parseTurn();
          }
        } else if (raw.length > 0 && /json/i.test(header(request.headers['content-type']) ?? '')) {
          body = await tryParse(
            raw.whole(),
            header(request.headers['content-encoding']),
            bodyLimit,
          );
        }
      } catch (error) {
        if (!isLabError(error)) throw error;
        if (error.code === 'payload_too_large') {
          // Stop reading, and close the connection: the rest of the body is never drained.
          response.setHeader('connection', 'close');
          return sendError(response, 413, error.code, error.message);
        }
        return sendError(response, 400, error.code, error.message);
      }
    }

    const info: ProxyRequestInfo = {
      kind,
      method,
      path: subPath,
      headers: request.headers,
      body,
      ...(routeContext === undefined ? {} : { routeContext }),
    };
    const ticket = engine.prepare(info);
    const sessionId = ticket.sessionId ?? null;
    // The routing hint native Codex adds, when Codex (through the router's provider) sent none.
    const routingHint =
      kind === 'responses' && request.headers['x-codex-routing-hint'] === undefined
        ? routingHintFor(routeContext?.model ?? modelOf(body))
        : null;
    const aborter = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) aborter.abort();
    });
    const excluded = new Map<string, string>();
    /** Profiles excluded because this request stopped waiting for their refresh in flight. */
    const refreshing = new Set<string>();
    /** The first file that could not be read on the way: named if no profile can serve. */
    let fileProblem: LabError | null = null;
    // The body as it goes over the wire: compressed once per distinct outgoing body.
    const clientEncoded = !isIdentity(header(request.headers['content-encoding']));
    let compressedFrom: Buffer | null = null;
    let compressed: Buffer | null = null;
    /**
     * What goes upstream for `outgoing`: a large turn in plain JSON (the client's, or a rewrite)
     * is zstd-compressed on the thread pool, as Codex sends it with a ChatGPT login; a body the
     * client already encoded keeps its bytes and header. `encoding` undefined keeps the client's
     * `Content-Encoding`, null drops it.
     */
    async function wireBody(
      outgoing: RequestBody | Buffer | null,
      rewritten: boolean,
    ): Promise<{ body: WireBody; encoding: string | null | undefined }> {
      const plain = rewritten || !clientEncoded;
      if (
        !turn ||
        !plain ||
        outgoing === null ||
        !upstreamTakesZstd ||
        outgoing.length < compressMinBytes
      ) {
        // The client's body goes as the chunks it came in (never joined just to be sent).
        const body = outgoing === null || Buffer.isBuffer(outgoing) ? outgoing : outgoing.wire();
        return { body, encoding: rewritten ? null : undefined };
      }
      const bytes = Buffer.isBuffer(outgoing) ? outgoing : outgoing.whole();
      if (compressedFrom !== bytes) {
        compressed = await zstdCompress(bytes, aborter.signal);
        compressedFrom = bytes;
      }
      return { body: compressed, encoding: 'zstd' };
    }
    // The per-request log's measurements: a few numbers and, for streamed turns, a tail tap.
    const startedAt = clock.now();
    let firstByteAt: number | null = null;
    // An engine without a per-request log (no `finish`) pays for none of it.
    const usageTap = kind === 'responses' && ticket.finish ? new UsageTap() : null;
    // The digests of the blobs the answer minted, journaled with the request (bounded: a turn
    // mints a few; a runaway stream cannot grow the journal line without end).
    const minted: string[] = [];
    const mint = (session: string, profile: string, blob: string): void => {
      const digest = ciphertext.record(session, profile, blob);
      if (ticket.finish && minted.length < maxMintedPerRequest) minted.push(digest);
    };
    /**
     * The name the profile this request went to as `profile` has now (renames made since it came
     * in), or null once removed: what its answer says of the account is booked there, never on
     * another account that took the old name meanwhile.
     */
    const nameNow = (profile: string): string | null =>
      ticket.nameNow === undefined ? profile : ticket.nameNow(profile);
    /** `pick` as the answer's head names it: the profile by its name now (its old one once removed). */
    const saidAs = <P extends ProfilePick>(pick: P): P => {
      const name = nameNow(pick.profile);
      return name === null || name === pick.profile ? pick : { ...pick, profile: name };
    };
    /** `engine.observe` on the profile that answered, by its name now. */
    const observe = (profile: string, status: number, headers: IncomingHttpHeaders): void => {
      const name = nameNow(profile);
      if (name !== null) engine.observe(name, status, headers);
    };
    /** `engine.noteFailure` on the profile that failed, by its name now. */
    const noteFailure = (profile: string, status: number | null): void => {
      const name = nameNow(profile);
      if (name !== null) engine.noteFailure(name, status);
    };
    // How the answer's stream broke, when it did (set where the break is seen), for the log.
    let broken: RequestEnding | null = null;
    try {
      await route();
    } finally {
      const endedAt = clock.now();
      ticket.finish?.({
        status: response.headersSent ? response.statusCode : 499,
        // A 499 already says the client left before an answer; after one, the status stays and
        // the break is said beside it, as Codex met it.
        ending: response.headersSent
          ? (broken ?? (aborter.signal.aborted ? 'client_gone' : (usageTap?.ending() ?? null)))
          : null,
        ttfbMs:
          firstByteAt !== null
            ? firstByteAt - startedAt
            : response.headersSent
              ? endedAt - startedAt
              : null,
        durationMs: endedAt - startedAt,
        usage: usageTap?.usage() ?? null,
        ...(minted.length > 0 ? { minted } : {}),
      });
    }

    /**
     * Sends the turn over the (session, profile) upstream WebSocket. `ok` when it went (its events
     * reached Codex); otherwise nothing reached Codex yet and the caller decides what follows.
     */
    async function viaWebSocket(
      sockets: UpstreamWebSockets,
      session: string,
      pick: ProfilePick & { ok: true },
      credentials: UpstreamCredentials,
      codexHeaders: IncomingHttpHeaders,
      added: AddedHeaders,
      rewritten: Buffer | null,
    ): Promise<WebSocketTurnResult> {
      // The bytes Codex sent, decoded but not parsed: the pool compares them with the last
      // turn's and parses only what changed (a body that is not JSON comes back as not_json). A
      // plain body goes as the chunks it arrived in: the comparison never joins them. A body
      // rewritten for this profile (another account's reasoning taken out) goes as rewritten:
      // every turn of a session that moved is rewritten the same way, so the next one still
      // extends it and goes incremental.
      let whole: Buffer | readonly Buffer[];
      const encoding = header(request.headers['content-encoding']);
      try {
        whole =
          rewritten !== null
            ? rewritten
            : raw === null
              ? Buffer.alloc(0)
              : isIdentity(encoding)
                ? raw.chunks()
                : await decodeBody(raw.whole(), encoding, bodyLimit);
      } catch {
        return { ok: false, code: 'not_json', message: 'the body could not be decoded' };
      }
      const taps: ((chunk: Buffer) => void)[] = [
        createCiphertextTap((blob) => mint(session, pick.profile, blob)),
      ];
      if (usageTap) taps.push(usageTap.push);
      const result = await sockets.sendTurn(
        session,
        pick.profile,
        // The socket is this sign-in's (account and user): a name that means another one now
        // opens its own (a renewed token of the same sign-in keeps it, and its incremental chain).
        upstreamHolder(pick, credentials),
        // Built only when a socket opens (the first turn, a resume): most turns reuse one.
        () => webSocketHeaders(codexHeaders, credentials, added),
        whole,
        {
          start(headers) {
            firstByteAt = clock.now();
            observe(pick.profile, 200, headers);
            turnStates.note(upstreamHolder(pick, credentials), headers);
            ticket.commit(pick, excluded);
            // The head is not flushed on its own: the first events are written right after this
            // call, in the same tick, and Node sends the head with them in one write.
            response.writeHead(200, {
              ...quotaHeaders(headers),
              'content-type': 'text/event-stream',
              'cache-control': 'no-cache',
              ...labHeaders(saidAs(pick)),
            });
          },
          event(chunk) {
            for (const tap of taps) tap(chunk);
            response.write(chunk);
          },
          quota(headers) {
            observe(pick.profile, 200, headers);
          },
          end() {
            response.end();
          },
          abort() {
            // As the HTTP path does when the upstream stream breaks: Codex sees a cut stream.
            broken = 'upstream_cut';
            response.destroy();
          },
        },
        aborter.signal,
        webSocketFrameMetadata(request.headers, startedAt),
      );
      if (!result.ok) {
        log.debug(
          { profile: pick.profile, code: result.code, status: result.status },
          'upstream WebSocket turn falls back to a full HTTP request',
        );
      }
      return result;
    }

    /**
     * A 429 from `pick`'s account, over either transport: quota observed, a usage limit marked.
     * True when the turn moves on to the next profile; false when Codex gets the 429 itself (not
     * a usage limit, or a pinned session that must not fall back).
     */
    function usageLimitMovesOn(
      pick: ProfilePick & { ok: true },
      headers: IncomingHttpHeaders,
      text: string,
    ): boolean {
      observe(pick.profile, 429, headers);
      const limit = engine.classify429(text, headers, clock.now());
      if (!limit) return false;
      const limited = nameNow(pick.profile);
      if (limited !== null) engine.markLimited(limited, limit, info);
      log.info({ profile: pick.profile, resetsAt: limit.resetsAt }, 'usage limit reached');
      if (pick.route === 'pinned' && !pick.allowFallback) return false;
      excluded.set(pick.profile, 'usage_limit_reached');
      return true;
    }

    /**
     * One refresh after the upstream answered 401 to `rejected`: the new credentials, or null when
     * the refresh failed (noted, and the profile excluded for this request).
     */
    async function refreshedCredentials(
      pick: ProfilePick & { ok: true },
      rejected: string,
    ): Promise<UpstreamCredentials | null> {
      try {
        return await engine.refreshAfterUnauthorized(pick.profile, rejected);
      } catch (error) {
        if (!isLabError(error)) throw error;
        engine.noteCredentialFailure(pick.profile, error);
        excluded.set(pick.profile, error.code);
        if (error.code === 'refresh_transient') refreshing.add(pick.profile);
        return null;
      }
    }

    /**
     * Waits for the refreshes this request stopped waiting for, in turn, until one lands: true
     * when its profile may be picked again (its exclusion lifted).
     */
    async function refreshLanded(): Promise<boolean> {
      for (const profile of refreshing) {
        refreshing.delete(profile);
        if (aborter.signal.aborted) return false;
        if ((await engine.awaitRefresh?.(profile)) === true) {
          excluded.delete(profile);
          return true;
        }
      }
      return false;
    }

    async function route(): Promise<void> {
      for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
        if (aborter.signal.aborted) return;
        const pick = await ticket.choose(excluded);
        if (!pick.ok) {
          // Nothing else can take the turn: rather than refuse it, wait for a refresh it stopped
          // waiting for (the issuer slow, or this process paused) and try that profile again.
          if (await refreshLanded()) continue;
          return sendNoPick(response, withFileProblem(pick, fileProblem));
        }

        if (kind === 'usage') {
          const answer = engine.usageAnswer(pick.profile);
          if (answer !== null && answer !== undefined) {
            ticket.commit(pick, excluded);
            return sendJson(response, 200, answer, labHeaders(pick));
          }
        }

        let credentials: UpstreamCredentials;
        try {
          credentials = await engine.credentials(pick.profile);
        } catch (error) {
          if (!isLabError(error)) throw error;
          // A file that could not be read on the way (an auth file, the registry): named.
          if (unreadableTokens(error) || failedFile(error) !== null) {
            fileProblem ??= error;
          }
          engine.noteCredentialFailure(pick.profile, error);
          excluded.set(pick.profile, error.code);
          if (error.code === 'refresh_transient') refreshing.add(pick.profile);
          continue;
        }
        // A turn goes where the account's workspace says (its origin, its residency override).
        let routing = unconstrained;
        if (spendsQuota(kind)) {
          // Known after a profile's first turn: no promise per request.
          const known = workspaces.routingFor(pick.profile, credentials.accountId);
          routing = known instanceof Promise ? await known : known;
        }
        const origin = routing.origin ?? base.origin;
        // Codex's headers for this profile (another profile's turn state left off), and what the
        // router adds to them; applied to the one copy each request's headers get.
        const codexHeaders = turnStates.headersFor(
          request.headers,
          upstreamHolder(pick, credentials),
        );
        const added: AddedHeaders = { routingHint, override: routing.override };

        // The client's bytes, unless this profile must not see another account's ciphertext.
        let outgoing: RequestBody | Buffer | null = raw;
        let rewritten = false;
        // Retries after the upstream refused replayed ciphertext, per profile tried (never a
        // loop): first without the blobs the router did not see this profile mint, then without
        // any.
        let refusals = 0;
        /** Bound blobs the body sent last had removed: a retry must remove more to be sent. */
        let refusedRemoved = 0;
        if (
          turn &&
          raw !== null &&
          sessionId !== null &&
          ciphertext.hasForeign(sessionId, pick.profile)
        ) {
          const profile = pick.profile;
          let whole: Record<string, unknown>;
          try {
            whole = await parseTurn();
          } catch (error) {
            if (!isLabError(error)) throw error;
            return sendError(response, 400, error.code, error.message);
          }
          const stripped = stripCiphertext(whole, (blob) =>
            ciphertext.mayCarry(sessionId, profile, blob),
          );
          if (stripped) {
            outgoing = Buffer.from(JSON.stringify(stripped.body));
            rewritten = true;
            refusedRemoved = stripped.removed;
            log.debug(
              { profile, removed: stripped.removed },
              'removed reasoning ciphertext minted by another profile',
            );
          }
        }

        /**
         * The upstream refused replayed ciphertext: sets the body of the next try, without the
         * blobs that can be blamed. First every blob the router did not see this profile mint
         * (and from now on for the session's later turns, which then go once with their own
         * reasoning kept), then, refused again, every blob. False when the retries are spent or
         * the body has nothing more to remove (the refusal then reaches the client).
         */
        const withoutRefusedCiphertext = async (): Promise<boolean> => {
          const whole = await parseTurn().catch(() => null);
          if (whole === null) return false;
          const profile = pick.profile;
          while (refusals < 2) {
            refusals += 1;
            let stripped: ReturnType<typeof stripAllCiphertext>;
            if (refusals === 1 && sessionId !== null) {
              ciphertext.disownUnseen(sessionId, profile);
              stripped = stripCiphertext(whole, (blob) =>
                ciphertext.minted(sessionId, profile, blob),
              );
            } else stripped = stripAllCiphertext(whole);
            if (stripped === null || stripped.removed <= refusedRemoved) continue;
            refusedRemoved = stripped.removed;
            log.info(
              { profile, removed: stripped.removed },
              'upstream refused replayed ciphertext; retrying once without it',
            );
            outgoing = Buffer.from(JSON.stringify(stripped.body));
            rewritten = true;
            return true;
          }
          return false;
        };

        // Refreshes for this profile on this request (see `refreshesPerAttempt`).
        let refreshes = 0;
        const sockets = socketsAt(origin);
        // Whether this turn may (still) go over the session's upstream WebSocket. Cleared when
        // the socket cannot carry it (see `overWebSocket`): its retries then go over HTTP.
        let webSocketUsable =
          sockets !== null && kind === 'responses' && sessionId !== null && raw !== null;

        /**
         * Sends the turn (as `outgoing` holds it now) over the session's socket. 'done' when Codex
         * has its answer; 'next' when the turn moves on to the next profile; 'http' when it goes
         * over HTTP with this profile (nothing reached Codex). A refusal of replayed ciphertext is
         * retried on the same socket, stripped as `withoutRefusedCiphertext` says (never as it
         * was): the socket then holds the stripped turn's response, which the session's next turn
         * (stripped the same way) extends, so it goes incremental instead of in full again.
         */
        const overWebSocket = async (): Promise<'done' | 'next' | 'http'> => {
          for (;;) {
            const sent = await viaWebSocket(
              sockets!,
              sessionId!,
              pick,
              credentials,
              codexHeaders,
              added,
              rewritten && Buffer.isBuffer(outgoing) ? outgoing : null,
            );
            if (sent.ok || aborter.signal.aborted) return 'done';
            // An answer about the account is handled as its HTTP twin would be, without sending
            // the turn again just to hear it twice; anything else sends the turn over HTTP in
            // full. An error frame answered to Codex as the same answer over HTTP would be.
            const answerFrame = (status: number): 'done' => {
              ticket.commit(pick, excluded);
              sendBuffered(
                response,
                status,
                { ...(sent.ok ? {} : sent.headers), 'content-type': 'application/json' },
                Buffer.from((sent.ok ? null : sent.body) ?? '{}'),
                saidAs(pick),
              );
              return 'done';
            };
            if (sent.code === 'upstream_error' && sent.status === 429) {
              if (usageLimitMovesOn(pick, sent.headers ?? {}, sent.body ?? '{}')) return 'next';
              return answerFrame(429);
            }
            if (sent.code === 'upstream_error' && sent.status === 401) {
              // The token, not the transport: refreshed here, the HTTP attempt uses it (the
              // socket was opened with the rejected one).
              webSocketUsable = false;
              refreshes += 1;
              const fresh = await refreshedCredentials(pick, credentials.accessToken);
              if (fresh === null) return 'next';
              credentials = fresh;
              return 'http';
            }
            if (
              sent.code === 'upstream_error' &&
              sent.status !== undefined &&
              isCiphertextRejection(sent.status, sent.body ?? '')
            ) {
              // Refused ciphertext: the turn goes again on the same socket without it.
              observe(pick.profile, sent.status, sent.headers ?? {});
              if (!(await withoutRefusedCiphertext())) return answerFrame(sent.status);
              continue;
            }
            if (
              sent.code === 'upstream_error' &&
              sent.status !== undefined &&
              !webSocketTransportError(sent.errorCode)
            ) {
              // The upstream's answer to this request (a 5xx, a context-window 400, …): Codex
              // hears it as the HTTP path gives it and retries as it would natively. Sending the
              // turn again over HTTP doubled every failing request.
              observe(pick.profile, sent.status, sent.headers ?? {});
              if (sent.status >= 500) noteFailure(pick.profile, sent.status);
              return answerFrame(sent.status);
            }
            // WebSocket trouble: the turn goes over HTTP in full. A later retry of it (after a
            // ciphertext refusal there) may try the socket again only when the trouble was this
            // turn's (a frame too large, which a stripped one may not be) or this connection's (a
            // response id it does not hold, its age limit: a new socket opens); a refused
            // handshake, a busy socket or a drop would only repeat.
            webSocketUsable =
              sent.code === 'too_large' ||
              (sent.code === 'upstream_error' && webSocketTransportError(sent.errorCode));
            return 'http';
          }
        };

        if (webSocketUsable) {
          const next = await overWebSocket();
          if (next === 'done') return;
          if (next === 'next') continue;
        }

        for (;;) {
          const wire = await wireBody(outgoing, rewritten);
          let upstream: Dispatcher.ResponseData;
          try {
            upstream = await sendUpstream(dispatcherAt(origin), {
              origin,
              method: method as Dispatcher.HttpMethod,
              path: basePath + subPath,
              headers: withLength(
                upstreamHeaders(codexHeaders, credentials, wire.encoding, added),
                wire.body,
              ),
              body: undiciBody(wire.body),
              signal: aborter.signal,
            });
          } catch (error) {
            if (aborter.signal.aborted) return;
            noteFailure(pick.profile, null);
            log.warn({ profile: pick.profile, err: error }, 'upstream unreachable');
            return sendError(
              response,
              502,
              'upstream_unreachable',
              unreachableMessage(error, base.origin, poolOptions.headersTimeout),
              labHeaders(saidAs(pick)),
            );
          }

          const status = upstream.statusCode;
          if (status === 429) {
            const read = await readErrorBody(upstream);
            if (usageLimitMovesOn(pick, upstream.headers, read.text)) break;
            ticket.commit(pick, excluded);
            return sendBuffered(response, status, upstream.headers, read.raw, saidAs(pick));
          }
          if (status === 401) {
            if (refreshes < refreshesPerAttempt) {
              refreshes += 1;
              await upstream.body.dump().catch(() => undefined);
              const fresh = await refreshedCredentials(pick, credentials.accessToken);
              if (fresh === null) break;
              credentials = fresh;
              continue;
            }
            // A token minted for this request still rejected: the issuer holds the sign-in (the refresh
            // worked), so this is the upstream's moment, not a lost sign-in; the profile is
            // skipped briefly and tried again, and a sign-in that is really gone shows at the
            // next refresh as one of the issuer's permanent codes.
            await upstream.body.dump().catch(() => undefined);
            engine.noteCredentialFailure(
              pick.profile,
              new LabError(
                'unauthorized',
                `The upstream rejected ${pick.profile} even after a token refresh; it is skipped for a moment.`,
              ),
            );
            excluded.set(pick.profile, 'unauthorized');
            break;
          }
          let read: { raw: Buffer; text: string } | null = null;
          if (wire.encoding === 'zstd' && (status === 415 || status === 400)) {
            read = await readErrorBody(upstream);
            if (status === 415 || encodingRefusal.test(read.text)) {
              // An upstream that will not take compressed bodies: this request and every later
              // one go plain (a setting turns compression off for good).
              upstreamTakesZstd = false;
              log.warn(
                { profile: pick.profile, status },
                'upstream refused a zstd body; sending plain',
              );
              continue;
            }
          }
          if (status === 400 && turn) {
            read ??= await readErrorBody(upstream);
            observe(pick.profile, status, upstream.headers);
            // Ciphertext the router could not attribute (minted before a restart, or by a
            // profile since renamed): again on the same profile, without it.
            if (isCiphertextRejection(status, read.text) && (await withoutRefusedCiphertext())) {
              // Over the session's socket when it can carry the turn, so the next turn extends
              // the retried one there; else over HTTP again.
              if (webSocketUsable) {
                const next = await overWebSocket();
                if (next === 'done') return;
                if (next === 'next') break;
              }
              continue;
            }
            ticket.commit(pick, excluded);
            return sendBuffered(response, status, upstream.headers, read.raw, saidAs(pick));
          }

          observe(pick.profile, status, upstream.headers);
          if (status >= 500) noteFailure(pick.profile, status);
          ticket.commit(pick, excluded);
          turnStates.note(upstreamHolder(pick, credentials), upstream.headers);
          response.writeHead(status, responseHeaders(upstream.headers, saidAs(pick)));
          // An SSE client must see the status before the first event: flush the head now, unless
          // that event is already here (usual: it came in the same read as the upstream's head);
          // then the head goes out with it in one write instead of a packet of its own.
          if (upstream.body.readableLength === 0) response.flushHeaders();
          upstream.body.once('data', () => {
            firstByteAt = clock.now();
          });
          const taps: ((chunk: Buffer) => void)[] = [];
          if (turn && sessionId !== null && status >= 200 && status < 300) {
            const profile = pick.profile;
            taps.push(createCiphertextTap((blob) => mint(sessionId, profile, blob)));
          }
          if (usageTap && status >= 200 && status < 300) taps.push(usageTap.push);
          if (taps.length > 0) tapBody(upstream, taps);
          const ended = await streamTo(upstream.body, response);
          if (ended) {
            // The client left, or the upstream broke mid-stream; both ends are destroyed.
            broken = ended.ending;
            if (!aborter.signal.aborted) {
              log.debug({ profile: pick.profile, err: ended.error }, 'stream ended early');
            }
          }
          return;
        }
      }
      sendError(
        response,
        502,
        'upstream_error',
        'The router gave up after trying too many profiles; run codex-lab list to see which need attention, then try again.',
      );
    }
  }

  /**
   * A `/backend-api` request without the router token: Codex's own ChatGPT-side traffic (plugins,
   * hosted MCP, settings, analytics) carries the user's own token, or none. It goes upstream with
   * exactly the credentials it carries and its answer comes back untouched, so it works as it
   * would without Codex Lab; the pool's profiles are never used for it. The exceptions are the two
   * reads that describe an account's limits: once the upstream has accepted the caller's own
   * token, the usage read is answered with the pool's view, so Codex never refuses to send because
   * the personal login is exhausted, and the reset-credits read lists only credits of the account
   * that view shows (`poolResetCredits`).
   */
  async function passThrough(
    request: IncomingMessage,
    response: ServerResponse,
    subPath: string,
    // The upstream path (default: below the backend's) and the headers not passed on.
    upstreamTarget: { path: string; skip: ReadonlySet<string> } = {
      path: basePath + subPath,
      skip: notPassedThrough,
    },
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const kind = kindOf(method, subPath);
    let raw: RequestBody | null = null;
    if (method !== 'GET' && method !== 'HEAD') {
      try {
        raw = await readRequestChunks(request, bodyLimit, bodyIdleMs);
      } catch (error) {
        if (!isLabError(error)) throw error;
        // Stop reading, and close the connection: the rest of the body is never drained.
        response.setHeader('connection', 'close');
        return sendError(
          response,
          error.code === 'payload_too_large' ? 413 : 400,
          error.code,
          error.message,
        );
      }
    }
    const aborter = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) aborter.abort();
    });
    const passed = raw?.wire() ?? null;
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await sendUpstream(dispatcher, {
        origin: base.origin,
        method: method as Dispatcher.HttpMethod,
        path: upstreamTarget.path,
        headers: withLength(copyHeaders(request.headers, upstreamTarget.skip), passed),
        body: undiciBody(passed),
        signal: aborter.signal,
      });
    } catch (error) {
      if (aborter.signal.aborted) return;
      return sendError(
        response,
        502,
        'upstream_unreachable',
        unreachableMessage(error, base.origin, poolOptions.headersTimeout),
      );
    }
    const status = upstream.statusCode;
    if (kind === 'usage' && status >= 200 && status < 300) {
      const own = await readLimitedBuffer(upstream.body, maxUsageBodyBytes);
      const pool = await poolUsage(request.headers, aborter.signal);
      if (pool) return sendJson(response, 200, pool.answer, labHeaders(pool.pick));
      const headers = copyHeaders(upstream.headers, notForwardedDownstream);
      headers['content-length'] = String(own.length);
      response.writeHead(status, headers);
      response.end(own);
      return;
    }
    if (kind === 'reset-credits' && status >= 200 && status < 300) {
      const pool = await poolResetCredits(request.headers);
      if (pool) {
        await upstream.body.dump().catch(() => undefined);
        return sendJson(response, 200, pool.answer, labHeaders(pool.pick));
      }
    }
    response.writeHead(status, copyHeaders(upstream.headers, notForwardedDownstream));
    response.flushHeaders();
    const ended = await streamTo(upstream.body, response);
    if (ended && !aborter.signal.aborted) {
      log.debug({ err: ended.error }, 'pass-through stream ended early');
    }
  }

  /**
   * The profile whose numbers the pool's view of a usage read shows: the one a new session would
   * get. Null when none can be picked (the caller's own answer stands then). Both reads about an
   * account's limits ask this, so they describe one account.
   */
  async function poolPick(headers: IncomingHttpHeaders): Promise<ProfilePick | null> {
    const ticket = engine.prepare({
      kind: 'usage',
      method: 'GET',
      path: '/wham/usage',
      headers,
      body: null,
    });
    const pick = await ticket.choose(new Map());
    return pick.ok ? pick : null;
  }

  /**
   * The routed pool's usage view for a usage read: what the router knows of the profile a new
   * session would get, else that profile's own answer from the upstream. Null when no profile can
   * give one (the caller then passes the caller's own answer on).
   */
  async function poolUsage(
    headers: IncomingHttpHeaders,
    signal: AbortSignal,
  ): Promise<{ answer: unknown; pick: ProfilePick } | null> {
    const pick = await poolPick(headers);
    if (!pick) return null;
    const known = engine.usageAnswer(pick.profile);
    if (known !== null && known !== undefined) return { answer: known, pick };
    try {
      const credentials = await engine.credentials(pick.profile);
      const upstream = await sendUpstream(dispatcher, {
        origin: base.origin,
        method: 'GET',
        path: `${basePath}/wham/usage`,
        headers: {
          ...upstreamHeaders({}, credentials, undefined),
          ...codexClientHeaders('application/json'),
        },
        signal,
      });
      const raw = await readLimitedBuffer(upstream.body, maxUsageBodyBytes);
      if (upstream.statusCode !== 200) return null;
      const text = await decodeBody(raw, header(upstream.headers['content-encoding']));
      return { answer: JSON.parse(text.toString('utf8')) as unknown, pick };
    } catch (error) {
      if (isLabError(error) || error instanceof SyntaxError) return null;
      if (signal.aborted) return null;
      log.debug({ err: error }, 'could not read the pool usage');
      return null;
    }
  }

  /**
   * The reset-credits read of a caller the upstream has accepted, when the caller's own answer
   * must not be shown: a credit resets the limits of the account it belongs to, so Codex may see
   * only the credits of the account whose limits the pool's view shows. A caller signed in to that
   * very account (its `ChatGPT-Account-Id`) keeps its own answer (null here), and redeeming one
   * works; anyone else is told there are none, so no client offers to spend a personal credit
   * against the pool's limit. No profile's token is used: only the router token opens the pool.
   */
  async function poolResetCredits(
    headers: IncomingHttpHeaders,
  ): Promise<{ answer: unknown; pick: ProfilePick } | null> {
    const pick = await poolPick(headers);
    if (!pick) return null;
    const caller = header(headers['chatgpt-account-id'])?.trim() || null;
    const shown = engine.accountOf(pick.profile);
    if (caller !== null && caller === shown) return null;
    return { answer: noResetCreditsAnswer, pick };
  }

  /** Reads an error body (bounded) and decodes it per its `Content-Encoding` to read it. */
  async function readErrorBody(
    upstream: Dispatcher.ResponseData,
  ): Promise<{ raw: Buffer; text: string }> {
    const raw = await readLimitedBuffer(upstream.body, maxErrorBodyBytes);
    const encoding = header(upstream.headers['content-encoding']);
    try {
      return {
        raw,
        text: (await decodeBody(raw, encoding, maxErrorBodyBytes * 16)).toString('utf8'),
      };
    } catch {
      // Undecodable (or cut off): not recognised, passed on as it came.
      return { raw, text: '' };
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? defaultRouterPort, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Once listening, the socket can still fail to accept a connection (EMFILE: out of file
  // descriptors), which Node reports as the server's 'error': unheard, it would end the router
  // with a stack trace. It keeps listening, and the next connection is accepted again.
  server.on('error', (error) =>
    log.warn({ err: error }, 'the router could not accept a connection'),
  );
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    server,
    inFlight: () => inFlight,
    beginStop() {
      stopping = true;
    },
    async close(closeOptions: RouterCloseOptions = {}) {
      stopping = true;
      const drainMs = closeOptions.drainMs ?? 0;
      if (inFlight > 0 && drainMs > 0) {
        const drained = new Promise<void>((resolve) => (onDrained = resolve));
        await settledWithin(clock, drained, drainMs, closeOptions.signal);
      }
      // Listening until now, so clients asking what the router does hear "stopping"; streams still
      // open end now: a shutdown never waits for a five-minute turn past its drain.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      for (const sockets of originSockets.values()) sockets.close();
      for (const [origin, pool] of originDispatchers) {
        if (origin !== base.origin || !options.dispatcher)
          await pool.close().catch(() => undefined);
      }
      // Bounded all the same: a handler stuck on a bug must not keep a process from ending.
      await settledWithin(clock, handling.settled(), handlersGraceMs, closeOptions.signal);
    },
  };
}

function kindOf(method: string, subPath: string): ProxyRequestKind {
  const query = subPath.indexOf('?');
  let path = query === -1 ? subPath : subPath.slice(0, query);
  while (path.endsWith('/')) path = path.slice(0, -1);
  if (method === 'POST' && path === '/codex/responses') return 'responses';
  if (method === 'POST' && path === '/codex/responses/compact') return 'compact';
  if (method === 'GET' && path === '/wham/usage') return 'usage';
  if (method === 'GET' && path === `/${resetCreditsPath}`) return 'reset-credits';
  return 'passthrough';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function tryParse(
  raw: Buffer,
  encoding: string | undefined,
  limit: number,
): Promise<Record<string, unknown> | null> {
  try {
    return parseJsonBody(await decodeBody(raw, encoding, limit));
  } catch {
    return null;
  }
}

/** A body as undici sends it: one buffer, or chunks written one after another. */
type WireBody = Buffer | readonly Buffer[] | null;

/**
 * The wire body in undici's request option: undici's documentation lists iterables among the
 * bodies it sends (one write per chunk), its type declarations only the single-value kinds.
 */
function undiciBody(body: WireBody): Dispatcher.RequestOptions['body'] {
  return body as Dispatcher.RequestOptions['body'];
}

/**
 * Declares the length of a body sent as chunks (undici counts a single buffer itself, and checks
 * the chunks against the declared length): without it, undici would send them chunk-encoded.
 */
function withLength(
  headers: Record<string, string | string[]>,
  body: WireBody,
): Record<string, string | string[]> {
  if (body !== null && !Buffer.isBuffer(body))
    headers['content-length'] = String(lengthOfChunks(body));
  return headers;
}

/** Copies `source` without the names in `skip` (one set lookup per header on the hot path). */
function copyHeaders(
  source: IncomingHttpHeaders,
  skip: ReadonlySet<string>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const key in source) {
    if (skip.has(key)) continue;
    const value = source[key];
    if (value !== undefined) headers[key] = value;
  }
  return headers;
}

/**
 * The upstream request's headers: the client's, minus hop and client-only ones, with the profile's
 * credentials. `encoding`: undefined keeps the client's `Content-Encoding` (its bytes go as they
 * came), null drops it (a rewritten, plain body), a name sets it (a body the router compressed).
 */
function upstreamHeaders(
  incoming: IncomingHttpHeaders,
  credentials: UpstreamCredentials,
  encoding: string | null | undefined,
  added: AddedHeaders = noneAdded,
): Record<string, string | string[]> {
  const headers = copyHeaders(incoming, notForwardedUpstream);
  if (encoding === null) delete headers['content-encoding'];
  else if (encoding !== undefined) headers['content-encoding'] = encoding;
  headers['authorization'] = `Bearer ${credentials.accessToken}`;
  if (credentials.accountId) headers['chatgpt-account-id'] = credentials.accountId;
  if (added.routingHint !== null) headers['x-codex-routing-hint'] = added.routingHint;
  if (added.override !== null) headers[routingOverrideHeader] = added.override;
  return headers;
}

/** What the router adds to a turn's upstream headers, over either transport. */
interface AddedHeaders {
  /** `x-codex-routing-hint`, when Codex sent none (native Codex sends `model=<slug>`). */
  routingHint: string | null;
  /** The account's data-residency override (workspace routing), or null. */
  override: WorkspaceRouting['override'];
}

const noneAdded: AddedHeaders = { routingHint: null, override: null };

/**
 * The upstream WebSocket handshake's headers: what the HTTP request would carry upstream (Codex's
 * own headers, the profile's credentials; one rule for both transports), less what only describes
 * a request body or its answer's encoding and what each frame carries instead, plus the WebSocket
 * beta. Native Codex puts the same on its handshake: beta features, turn metadata, window and
 * request ids, session and thread ids, a turn state it holds (docs/routing.md, "Upstream
 * transport").
 */
function webSocketHeaders(
  incoming: IncomingHttpHeaders,
  credentials: UpstreamCredentials,
  added: AddedHeaders,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(
    upstreamHeaders(incoming, credentials, undefined, added),
  )) {
    if (!notOnHandshake.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  headers['openai-beta'] = 'responses_websockets=2026-02-06';
  return headers;
}

/** A turn body's `model`, or null. */
function modelOf(body: unknown): string | null {
  const model = (body as { model?: unknown } | null | undefined)?.model;
  return typeof model === 'string' ? model : null;
}

// A model slug as a header value carries it: letters, digits and `._:-` (anything else is left out).
const headerSafeModel = /^[\w.:-]{1,128}$/;

/**
 * The `x-codex-routing-hint` native Codex 0.171 signed in with ChatGPT sends on every turn
 * (`model=<slug>`, on HTTP and the WebSocket handshake, measured against the fake) and Codex
 * through the router's provider does not, so the upstream gets it as from Codex itself. Null
 * without a model a header can carry.
 */
function routingHintFor(model: string | null): string | null {
  return model !== null && headerSafeModel.test(model) ? `model=${model}` : null;
}

/**
 * What a turn's WebSocket frame adds to its `client_metadata`, as native Codex's frames do: the
 * per-request headers the handshake does not carry, and when the request started (ms).
 */
function webSocketFrameMetadata(
  incoming: IncomingHttpHeaders,
  startedAt: number,
): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const name of perFrameHeaders) {
    const value = header(incoming[name]);
    if (value !== undefined) metadata[`ws_request_header_${name.replaceAll('-', '_')}`] = value;
  }
  metadata['x-codex-ws-stream-request-start-ms'] = String(startedAt);
  return metadata;
}

/** The quota and model headers of a handshake answer, for Codex's SSE response head. */
function quotaHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue;
    if (
      (name.startsWith('x-') && name !== 'x-codex-websocket-max-message-bytes') ||
      name === 'openai-model'
    ) {
      kept[name] = value;
    }
  }
  return kept;
}

/**
 * Whose an upstream socket and the turn states its answers carry are (`UpstreamWebSockets.sendTurn`'s
 * `credential`, `TurnStateIssuers`): the account and the user the credentials are signed in as,
 * never the profile's name, which renames move and swap. The account tells a name reused or
 * swapped apart (another account's socket or turn state is never used); the user tells apart two
 * seats of one workspace, which share an account id, even when their names were swapped (a turn
 * never goes up on the socket the other seat opened, as that seat). A renewed token of the same
 * sign-in keeps both, and with them the socket's incremental chain. Tokens that name no user
 * fall back to the profile's name.
 */
function upstreamHolder(pick: ProfilePick, credentials: UpstreamCredentials): string {
  const user = credentials.userId ?? `profile:${pick.profile}`;
  return `${credentials.accountId ?? ''}\u0000${user}`;
}

function labHeaders(pick: ProfilePick): Record<string, string> {
  return { 'x-codex-lab-profile': pick.profile, 'x-codex-lab-route': pick.route };
}

function responseHeaders(
  upstream: IncomingHttpHeaders,
  pick: ProfilePick,
): Record<string, string | string[]> {
  const headers = copyHeaders(upstream, notForwardedDownstream);
  headers['x-codex-lab-profile'] = pick.profile;
  headers['x-codex-lab-route'] = pick.route;
  return headers;
}

/**
 * What Codex is told when a request to the upstream failed before its answer's head: an upstream
 * that took longer than the router waits (`waitedMs`) is not an unreachable one.
 */
function unreachableMessage(error: unknown, origin: string, waitedMs: number | undefined): string {
  if ((error as { code?: unknown } | null)?.code === 'UND_ERR_HEADERS_TIMEOUT') {
    return `The router got no answer from ${origin} in ${(waitedMs ?? 0) / 1000} s; try again.`;
  }
  return `The router could not reach ${origin} (${(error as Error).message}); check the network connection, then try again.`;
}

/** A stream that did not reach its end: which side broke it, and the error. */
interface BrokenStream {
  ending: Extract<RequestEnding, 'upstream_cut' | 'client_gone'>;
  error: Error;
}

/**
 * Pipes the upstream body to the client with backpressure (`pipe`), destroying the other side
 * when either fails or the client goes away; resolves with how it broke, or null at its end.
 * `stream.pipeline` does the same but allocates an AbortController and aborts it (a DOMException)
 * on every finished response.
 */
function streamTo(body: Readable, response: ServerResponse): Promise<BrokenStream | null> {
  return new Promise<BrokenStream | null>((resolve) => {
    let settled = false;
    const finish = (broken: BrokenStream | null): void => {
      if (settled) return;
      settled = true;
      body.off('error', onBodyError);
      response.off('close', onClose);
      response.off('error', onResponseError);
      resolve(broken);
    };
    const onBodyError = (error: Error): void => {
      body.unpipe(response);
      body.destroy();
      response.destroy(error);
      finish({ ending: 'upstream_cut', error });
    };
    const onResponseError = (error: Error): void => {
      body.unpipe(response);
      body.destroy();
      response.destroy(error);
      finish({ ending: 'client_gone', error });
    };
    const onClose = (): void => {
      if (response.writableFinished) return finish(null);
      body.destroy();
      finish({
        ending: 'client_gone',
        error: new Error('the client closed the stream before the end'),
      });
    };
    body.on('error', onBodyError);
    response.on('error', onResponseError);
    response.on('close', onClose);
    body.pipe(response);
  });
}

/** Reads a body up to `limit` bytes (the rest is drained and dropped). */
async function readLimitedBuffer(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** Passes a body the router has read on, as it came (its `Content-Encoding` intact). */
function sendBuffered(
  response: ServerResponse,
  status: number,
  upstream: IncomingHttpHeaders,
  raw: Buffer,
  pick: ProfilePick,
): void {
  const headers = responseHeaders(upstream, pick);
  headers['content-length'] = String(raw.length);
  response.writeHead(status, headers);
  response.end(raw);
}

/**
 * Lets each tap (the ciphertext recorder, the usage reader) see a streamed answer's decoded
 * chunks, decoding a compressed stream once on the side; the bytes that reach the client are the
 * upstream's, untouched.
 */
function tapBody(
  upstream: Dispatcher.ResponseData,
  taps: readonly ((chunk: Buffer) => void)[],
): void {
  const tap =
    taps.length === 1
      ? (taps[0] as (chunk: Buffer) => void)
      : (chunk: Buffer) => {
          for (const each of taps) each(chunk);
        };
  const decoder = responseDecoder(header(upstream.headers['content-encoding']));
  if (decoder === null) {
    upstream.body.on('data', tap);
    return;
  }
  if (decoder === undefined) return;
  decoder.on('data', tap);
  decoder.on('error', () => undefined);
  upstream.body.on('data', (chunk: Buffer) => decoder.write(chunk));
  upstream.body.once('end', () => decoder.end());
  upstream.body.once('close', () => decoder.destroy());
}

const upgradeRequiredBody = JSON.stringify({
  error: {
    type: 'upgrade_required',
    code: 'upgrade_required',
    message: 'The Codex Lab router speaks HTTP/SSE to Codex; use HTTP for this request.',
  },
});
const upgradeRequiredAnswer =
  'HTTP/1.1 426 Upgrade Required\r\n' +
  'content-type: application/json; charset=utf-8\r\n' +
  `content-length: ${Buffer.byteLength(upgradeRequiredBody)}\r\n` +
  'connection: close\r\n\r\n' +
  upgradeRequiredBody;

/**
 * A refusal because every profile failed, when a file could not be read on the way (the registry,
 * an auth file): the answer names that file, which "failed on this request" would not.
 */
function withFileProblem(pick: NoPick, problem: LabError | null): NoPick {
  if (problem === null || pick.status !== 503) return pick;
  return {
    ok: false,
    status: 503,
    code: pick.code,
    message: `No profile can take this request right now: ${problem.message}`,
  };
}

function sendNoPick(response: ServerResponse, pick: NoPick): void {
  if (pick.userMustAct === true) {
    // Codex prints a 400's body as it is: the sentence alone reads as one line.
    response.writeHead(pick.status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(pick.message)),
      'cache-control': 'no-store',
      'x-codex-lab-error': pick.code,
    });
    response.end(pick.message);
    return;
  }
  if (pick.body !== undefined) sendJson(response, pick.status, pick.body);
  else sendError(response, pick.status, pick.code, pick.message);
}

/**
 * True when a request names the control API (`/lab/…`), whose refusals are `{ ok: false, code,
 * message }` rather than the backend's OpenAI-shaped errors. Read from the raw target: the host
 * check and the last-resort error answer come before (or without) the URL parse.
 */
function isControlTarget(target: string | undefined): boolean {
  return target !== undefined && (target === '/lab' || target.startsWith('/lab/'));
}
