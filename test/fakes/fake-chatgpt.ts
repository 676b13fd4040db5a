/**
 * A fake ChatGPT: one real HTTP server on 127.0.0.1 that speaks the real protocol
 * (research/codex-protocol.md). The issuer side (OAuth authorize, token, revoke, device code) lives
 * in `fake-issuer.ts`; the backend side (`/backend-api/codex/responses`, `/backend-api/wham/usage`)
 * in `fake-backend.ts`. Every request is recorded so tests can assert what the upstream saw.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { getCACertificates, setDefaultCACertificates, TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createFakeAccount, type FakeAccount, type FakeAccountInit } from './accounts.ts';

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** The headers as Node parsed them (names lower-cased, repeats joined). */
  headers: Record<string, string | string[] | undefined>;
  /**
   * Every header line as it came over the wire, `[name, value, name, value, …]`: names in the
   * sender's case and order, repeats kept, so a test can compare the exact set a client sends.
   */
  rawHeaders: string[];
  body: string;
  /** Bytes of the body as they came over the wire (compressed, when it was). */
  bytes: number;
  at: number;
  /** True for a WebSocket upgrade request (in `upgrades`, recorded before it is refused or accepted). */
  upgrade?: boolean;
  /**
   * Over TLS (`tls: true`): whether the connection that carried the request resumed an earlier
   * TLS session (an abbreviated handshake) rather than making a new one. Absent over plain HTTP.
   */
  tlsResumed?: boolean;
  /**
   * `websocket` for a turn that came as a `response.create` frame on an accepted WebSocket: it is
   * recorded as a `POST` on the responses path (the handshake's headers, the frame as its body),
   * so a test counts turns over either transport. Absent for HTTP requests.
   */
  transport?: 'websocket';
  /** With `cloudflareCookies` on: the count whose cookies the answer set (`__cf_bm=bm-<n>`). */
  setCookies?: number;
}

/**
 * What the fake does with a WebSocket upgrade on the responses path: `silent` reads the upgrade
 * request and never answers, as a middlebox that swallows `Upgrade` does (or a blackholed route).
 */
export type WebSocketUpgradeMode = 'refuse' | 'accept' | 'silent';

/** Handles an accepted WebSocket upgrade (the Responses-over-WebSocket side, when loaded). */
export type FakeUpgradeHandler = (
  fake: FakeChatGpt,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
) => void;

/** Handles a request for one side of the fake; returns false when the path is not its own. */
export type FakeHandler = (
  fake: FakeChatGpt,
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
) => Promise<boolean> | boolean;

/** The fake's state, shared by its issuer and backend handlers. */
export interface FakeChatGpt {
  /** `http://127.0.0.1:<port>`: use as CODEX_LAB_AUTH_ISSUER. */
  readonly issuerUrl: string;
  /** `http://127.0.0.1:<port>/backend-api`: use as CODEX_LAB_CHATGPT_BASE_URL. */
  readonly backendUrl: string;
  /** Accounts by email. */
  readonly accounts: Map<string, FakeAccount>;
  /**
   * Every request received, in order: HTTP requests and WebSocket turns (one per `response.create`
   * frame, `transport: 'websocket'`), so a count of turns holds over either transport.
   */
  readonly requests: RecordedRequest[];
  /** Every WebSocket upgrade request (handshake), accepted or refused, in order. */
  readonly upgrades: RecordedRequest[];
  /**
   * Over TLS (`tls: true`): the TLS handshakes the fake completed, full ones and ones that resumed
   * an earlier session (both zero over plain HTTP).
   */
  readonly tlsHandshakes: { full: number; resumed: number };
  /** Fake time in Unix seconds (defaults to the real clock; tests may move it). */
  nowSeconds(): number;
  /** Sets a fixed fake time (Unix seconds), or null to follow the real clock. */
  setNow(seconds: number | null): void;
  /** Adds (or replaces) a scripted account. */
  addAccount(init: FakeAccountInit): FakeAccount;
  /** The account with this email; throws if unknown. */
  account(email: string): FakeAccount;
  /** Free-form state owned by the issuer and backend handlers (tokens, codes, device codes, …). */
  readonly extensions: Map<string, unknown>;
  /**
   * WebSocket upgrades on `/backend-api/codex/responses`: `accept` (default, as the real backend)
   * completes the handshake (`onUpgrade`, the Responses-over-WebSocket side); `refuse` answers 400
   * as a backend without the transport would; `silent` never answers (the connection stays open
   * until the client gives up or the fake closes).
   */
  webSocketUpgrades: WebSocketUpgradeMode;
  /** The handler an accepted upgrade goes to; without one the socket is closed after the handshake. */
  onUpgrade: FakeUpgradeHandler | null;
  /**
   * Refuse a Responses Lite input (`additional_tools`) in a request not marked Lite (default
   * true). Off only for a benchmark that compares a router from before the marker was carried.
   */
  requireLiteMarker: boolean;
  /**
   * Answer every `/backend-api` request (HTTP and the WebSocket handshake) with Cloudflare's
   * cookies, as chatgpt.com behind Cloudflare does (`__cf_bm`, `_cfuvid`, each answer a new
   * value), plus an OpenAI cookie no client may keep for its ChatGPT jar (`oai-did`). Off by
   * default: a request's `cookie` header is then what the client kept (`cloudflareCookieCount`).
   */
  cloudflareCookies: boolean;
  /** How many answers have set Cloudflare cookies so far (their values end in this count). */
  cloudflareCookieCount: number;
  close(): Promise<void>;
}

/** Options for `startFakeChatGpt`. */
export interface FakeChatGptOptions {
  accounts?: FakeAccountInit[];
  handlers?: FakeHandler[];
  /**
   * Serve HTTPS (and WSS) with the test certificate for 127.0.0.1 (`test/fakes/tls/`), signed by
   * the test CA in `fakeTlsCaFile`: what native Codex, signed in with ChatGPT, needs (it refuses
   * a workspace backend that is not HTTPS) when it is told to trust that CA.
   */
  tls?: boolean;
}

/** The test CA that signed the fake's certificate: give it to Codex as `CODEX_CA_CERTIFICATE`. */
export const fakeTlsCaFile = fileURLToPath(new URL('./tls/ca.pem', import.meta.url));

/**
 * Makes this process trust the test CA (Node's default CA store, which undici, `fetch` and `ws`
 * read), for a router that runs in the test's own process against a `tls: true` fake. A child
 * process is given `NODE_EXTRA_CA_CERTS=fakeTlsCaFile` instead.
 */
export function trustFakeTlsCa(): void {
  const ca = readFileSync(fakeTlsCaFile, 'utf8');
  const current = getCACertificates('default');
  if (!current.includes(ca)) setDefaultCACertificates([...current, ca]);
}

/** The Responses-over-WebSocket side, loaded by path as the handlers are. */
async function enableDefaultWebSocket(fake: FakeChatGpt): Promise<void> {
  try {
    const module = (await import('./fake-responses-websocket.ts')) as {
      enableResponsesWebSocket?: (fake: FakeChatGpt) => unknown;
    };
    module.enableResponsesWebSocket?.(fake);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  }
}

/** Starts the fake on an ephemeral loopback port. Close it in teardown. */
export async function startFakeChatGpt(options: FakeChatGptOptions = {}): Promise<FakeChatGpt> {
  const handlers = options.handlers ?? (await defaultHandlers());
  let fixedNow: number | null = null;
  const server: Server = options.tls
    ? createTlsServer({
        cert: readFileSync(new URL('./tls/server.pem', import.meta.url)),
        key: readFileSync(new URL('./tls/server.key', import.meta.url)),
      })
    : createServer();
  const scheme = options.tls ? 'https' : 'http';
  // Upgrade requests the `silent` mode holds unanswered (destroyed on close).
  const unanswered = new Set<Duplex>();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const fake: FakeChatGpt = {
    issuerUrl: `${scheme}://127.0.0.1:${port}`,
    backendUrl: `${scheme}://127.0.0.1:${port}/backend-api`,
    accounts: new Map(),
    requests: [],
    upgrades: [],
    tlsHandshakes: { full: 0, resumed: 0 },
    extensions: new Map(),
    webSocketUpgrades: 'refuse',
    requireLiteMarker: true,
    cloudflareCookies: false,
    cloudflareCookieCount: 0,
    onUpgrade: null,
    nowSeconds: () => fixedNow ?? Math.floor(Date.now() / 1000),
    setNow(seconds) {
      fixedNow = seconds;
    },
    addAccount(init) {
      const account = createFakeAccount(init, fake.nowSeconds());
      fake.accounts.set(account.email, account);
      return account;
    },
    account(email) {
      const account = fake.accounts.get(email);
      if (!account) throw new Error(`fake ChatGPT has no account ${email}`);
      return account;
    },
    async close() {
      for (const socket of unanswered) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  for (const init of options.accounts ?? []) fake.addAccount(init);
  if (!options.handlers) await enableDefaultWebSocket(fake);

  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.isSessionReused()) fake.tlsHandshakes.resumed += 1;
    else fake.tlsHandshakes.full += 1;
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', fake.issuerUrl);
    fake.upgrades.push({
      method: request.method ?? 'GET',
      path: url.pathname + url.search,
      headers: { ...request.headers },
      rawHeaders: [...request.rawHeaders],
      body: '',
      bytes: 0,
      at: Date.now(),
      upgrade: true,
      ...(socket instanceof TLSSocket ? { tlsResumed: socket.isSessionReused() } : {}),
    });
    const onResponses = url.pathname.replace(/\/+$/, '') === '/backend-api/codex/responses';
    if (onResponses && fake.webSocketUpgrades === 'silent') {
      unanswered.add(socket);
      socket.on('close', () => unanswered.delete(socket));
      socket.on('error', () => undefined);
      return;
    }
    if (!onResponses || fake.webSocketUpgrades === 'refuse' || !fake.onUpgrade) {
      const body = JSON.stringify({
        error: { message: 'WebSocket is not available here.', type: 'invalid_request_error' },
      });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    fake.onUpgrade(fake, request, socket, head);
  });

  server.on('request', (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(request.url ?? '/', fake.issuerUrl);
      fake.requests.push({
        method: request.method ?? 'GET',
        path: url.pathname + url.search,
        headers: { ...request.headers },
        rawHeaders: [...request.rawHeaders],
        body: body.toString('utf8'),
        bytes: body.length,
        at: Date.now(),
      });
      const cookies = setCookieLines(fake, url.pathname, fake.requests.at(-1));
      if (cookies.length > 0) response.setHeader('set-cookie', cookies);
      void (async () => {
        for (const handler of handlers) {
          if (await handler(fake, request, response, body)) return;
        }
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error' } }),
        );
      })().catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: String(error), type: 'server_error' } }));
      });
    });
  });
  return fake;
}

/**
 * The `Set-Cookie` lines of an answer to `path` (none unless `cloudflareCookies` is on, and only
 * below `/backend-api`, as chatgpt.com's Cloudflare sets them).
 */
export function setCookieLines(
  fake: FakeChatGpt,
  path: string,
  recorded?: RecordedRequest,
): string[] {
  if (!fake.cloudflareCookies || !path.startsWith('/backend-api/')) return [];
  fake.cloudflareCookieCount += 1;
  const n = fake.cloudflareCookieCount;
  if (recorded) recorded.setCookies = n;
  const expires = new Date(Date.now() + 30 * 60_000).toUTCString();
  return [
    `__cf_bm=bm-${n}; path=/; expires=${expires}; domain=.chatgpt.com; HttpOnly; Secure; SameSite=None`,
    `_cfuvid=uvid-${n}; path=/; domain=.chatgpt.com; HttpOnly; Secure; SameSite=None`,
    `oai-did=device-${n}; path=/; expires=${expires}; domain=.chatgpt.com; Secure; SameSite=Lax`,
  ];
}

async function defaultHandlers(): Promise<FakeHandler[]> {
  // Loaded by path so either side can be developed and tested on its own.
  const handlers: FakeHandler[] = [];
  for (const [file, exported] of [
    ['./fake-issuer.ts', 'handleIssuerRequest'],
    ['./fake-backend.ts', 'handleBackendRequest'],
    ['./fake-chatgpt-side.ts', 'handleChatGptSideRequest'],
  ] as const) {
    try {
      const module = (await import(file)) as Record<string, FakeHandler>;
      const handler = module[exported];
      if (handler) handlers.push(handler);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    }
  }
  return handlers;
}
