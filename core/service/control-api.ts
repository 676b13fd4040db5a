/**
 * The control API (`/lab/v1/…`, same bearer token as the router) and the web dashboard's static
 * files (`/ui/…`, public: the page reads the token from its URL fragment, which browsers never
 * send to a server).
 *
 * Every operation is `POST /lab/v1/<operation>` with its JSON input, shape-checked by the same zod
 * schema the IPC handlers use (the rules on values are the operations layer's), and answers a
 * `ContractResult`: 200 when it is `ok`, else the status its code has in one table
 * (`failureStatus`), the same for every refusal of this API (token, host, route, method, body).
 * `GET /lab/v1/events` streams `event: state` with the whole `LabState` on subscribe and on every
 * change.
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Clock } from '../ports.ts';
import { readRequestBody } from '../proxy/body.ts';
import type { ErrorCode } from '../errors.ts';
import { failureStatus, sendFailure, sendJson } from '../proxy/answers.ts';
import type { RouteHandler } from '../proxy/server.ts';
import { dashboardBuilt, dashboardNotBuiltText } from './dashboard-files.ts';
import { eventsHeartbeatMs } from '../view-types.ts';
import {
  allInputSchemas,
  controlApiPrefix,
  parseOperationInput,
  type ContractResult,
  type HostInputs,
  type LabApi,
  type LabState,
  type ShutdownView,
  type TokenRotationView,
} from './contract.ts';
import { bearerFrom, type RouterTokens } from '../proxy/router-token.ts';

/** What the control API needs from the service: the contract, two views and the host operations. */
export interface ControlApiService extends LabApi {
  /** Stored pins (sessions and repos), for `GET /lab/v1/pins`. */
  getPins(): Promise<unknown>;
  /** Priming settings and recent outcomes, for `GET /lab/v1/priming`. */
  getPriming(): Promise<unknown>;
  /** The per-request log, for `GET /lab/v1/requests?session=&profile=&run=`. */
  getRequests(filter: {
    sessionId?: string | null;
    profile?: string | null;
    runId?: string | null;
  }): Promise<unknown>;
  /** A local client saved a sign-in for this profile (`codex-lab login` while a router runs). */
  profileSignedIn(input: HostInputs['profileSignedIn']): Promise<ContractResult<null>>;
  /** `codex-lab stop`: stop this router cleanly (answered before it goes). */
  shutdown(input: HostInputs['shutdown']): Promise<ContractResult<ShutdownView>>;
  /** `codex-lab token --rotate`: a new router token, adopted at once. */
  rotateRouterToken(
    input: HostInputs['rotateRouterToken'],
  ): Promise<ContractResult<TokenRotationView>>;
}

/** Options for `createControlApi`. */
export interface ControlApiOptions {
  service: ControlApiService;
  clock: Clock;
  /** How often the events stream sends a heartbeat comment. */
  heartbeatMs?: number;
  /**
   * The router's tokens: an event stream ends once the token that opened it is no longer
   * accepted (rotated out and revoked, or past its grace), so the dashboard says so instead of
   * showing a state that silently stopped being its to see. Without it streams are not checked.
   */
  tokens?: Pick<RouterTokens, 'accepts'>;
}

const controlBodyLimit = 1024 * 1024;
const operations = new Set<string>(Object.keys(allInputSchemas));
const viewRoutes = [
  'state',
  'profiles',
  'sessions',
  'decisions',
  'activity',
  'pins',
  'priming',
  'requests',
  'events',
] as const;
type View = (typeof viewRoutes)[number];
const views = new Set<string>(viewRoutes);

/** Builds the `/lab/v1/` handler mounted by the router server (which has checked the token). */
export function createControlApi(options: ControlApiOptions): RouteHandler {
  const { service, clock } = options;
  const heartbeatMs = options.heartbeatMs ?? eventsHeartbeatMs;

  return async (request, response, url) => {
    if (!url.pathname.startsWith(`${controlApiPrefix}/`)) return false;
    const route = url.pathname.slice(controlApiPrefix.length + 1).replace(/\/+$/, '');
    const method = request.method ?? 'GET';

    // A known route asked with another method is 405 whatever the method (an unknown route is
    // the router's 404): the answer names the method it takes.
    const takes = operations.has(route) ? 'POST' : views.has(route) ? 'GET' : null;
    if (takes === null) return false;
    if (method !== takes) {
      sendFailure(
        response,
        'method_not_allowed',
        takes === 'POST'
          ? `${controlApiPrefix}/${route} takes POST with a JSON body.`
          : `${controlApiPrefix}/${route} takes GET.`,
        { allow: takes },
      );
      return true;
    }

    if (method === 'GET') {
      switch (route as View) {
        case 'state':
          sendJson(response, 200, await service.getState());
          return true;
        case 'profiles':
          sendJson(response, 200, (await service.getState()).profiles);
          return true;
        case 'sessions':
          sendJson(response, 200, (await service.getState()).sessions);
          return true;
        case 'decisions':
          sendJson(response, 200, (await service.getState()).decisions);
          return true;
        case 'activity':
          sendJson(response, 200, (await service.getState()).activity);
          return true;
        case 'pins':
          sendJson(response, 200, await service.getPins());
          return true;
        case 'priming':
          sendJson(response, 200, await service.getPriming());
          return true;
        case 'requests':
          sendJson(
            response,
            200,
            await service.getRequests({
              sessionId: url.searchParams.get('session'),
              profile: url.searchParams.get('profile'),
              runId: url.searchParams.get('run'),
            }),
          );
          return true;
        case 'events':
          await streamEvents(request, response, service, clock, heartbeatMs, options.tokens);
          return true;
      }
    }

    const operation = route as keyof typeof allInputSchemas;
    let input: unknown;
    try {
      const raw = await readRequestBody(request, controlBodyLimit);
      input = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    } catch (error) {
      if ((error as { code?: string }).code === 'payload_too_large') {
        sendFailure(response, 'payload_too_large', 'The request body is larger than 1 MB.');
      } else {
        sendFailure(
          response,
          'bad_request',
          `The request body is not valid JSON (${(error as Error).message}).`,
        );
      }
      return true;
    }
    const parsed = parseOperationInput(operation, input);
    const result = parsed.ok
      ? await (service[operation] as (value: unknown) => Promise<ContractResult<unknown>>).call(
          service,
          parsed.value,
        )
      : parsed;
    // One status per code (`failureStatus`), whether the shape or the operation refused.
    sendJson(response, result.ok ? 200 : failureStatus(result.code as ErrorCode), result);
    return true;
  };
}

async function streamEvents(
  request: IncomingMessage,
  response: ServerResponse,
  service: ControlApiService,
  clock: Clock,
  heartbeatMs: number,
  tokens: Pick<RouterTokens, 'accepts'> | undefined,
): Promise<void> {
  const presented = bearerFrom(request.headers.authorization);
  // Checked before every write: the same rule the router applied when the stream opened.
  const stillAccepted = () => tokens === undefined || tokens.accepts(presented);
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  response.flushHeaders();
  let open = true;
  // A subscriber that stops reading (a frozen tab) must not make the router buffer every state:
  // while the socket is not draining only the newest state is kept, and sent once it drains.
  let blocked = false;
  let latest: LabState | null = null;
  const write = (text: string) => {
    if (!stillAccepted()) {
      // Ended, not answered 401: the client's next connection gets the 401 and says why.
      close();
      response.end();
      return;
    }
    if (!response.write(text)) blocked = true;
  };
  const send = (state: LabState) => {
    if (!open) return;
    if (blocked) {
      latest = state;
      return;
    }
    write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
  };
  response.on('drain', () => {
    blocked = false;
    const next = latest;
    latest = null;
    if (next) send(next);
  });
  let cancelHeartbeat = () => {};
  const beat = () => {
    if (!open) return;
    if (!blocked) write(': heartbeat\n\n');
    // The write may have ended a stream whose token is no longer accepted.
    if (open) cancelHeartbeat = clock.setTimeout(beat, heartbeatMs);
  };
  const unsubscribe = service.subscribe(send);
  const close = () => {
    open = false;
    latest = null;
    unsubscribe();
    cancelHeartbeat();
  };
  response.on('close', close);
  request.on('error', close);
  send(await service.getState());
  cancelHeartbeat = clock.setTimeout(beat, heartbeatMs);
}

/** The dashboard's Content-Security-Policy: same-origin only, no inline script, no framing. */
export const dashboardCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built dashboard from `rendererDir` under `/ui/` (unknown paths without an
 * extension fall back to `index.html`), with a strict CSP and `nosniff`. No token is needed:
 * the files hold no data; the data comes from the control API. Not built (`dashboardBuilt`, or
 * no folder at all), every `/ui/` path is a 404 saying so and how to build it.
 */
export function createDashboardRoutes(rendererDir: string | null): RouteHandler {
  const root = rendererDir === null ? null : resolve(rendererDir);
  return async (request, response, url) => {
    if (url.pathname !== '/ui' && !url.pathname.startsWith('/ui/')) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    if (url.pathname === '/ui') {
      // A redirect without a fragment keeps the browser's fragment (the token) on the new URL.
      response.writeHead(302, { location: '/ui/' });
      response.end();
      return true;
    }
    if (root === null || !dashboardBuilt(root)) {
      sendNotFoundText(response, dashboardNotBuiltText);
      return true;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname.slice('/ui/'.length));
    } catch {
      relative = '';
    }
    let file = resolve(root, normalize(relative === '' ? 'index.html' : relative));
    if (file !== root && !file.startsWith(root + sep)) file = join(root, 'index.html');
    let body: Buffer | undefined = await readStatic(file);
    if (body === undefined && extname(file) === '') {
      file = join(root, 'index.html');
      body = await readStatic(file);
    }
    if (body === undefined) {
      sendNotFoundText(response, 'Not found.');
      return true;
    }
    response.writeHead(200, {
      'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'content-length': String(body.length),
      'content-security-policy': dashboardCsp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': extname(file) === '.html' ? 'no-store' : 'max-age=300',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** A plain-text 404 under `/ui/`: one sentence for a person who opened a link. */
function sendNotFoundText(response: ServerResponse, sentence: string): void {
  response.writeHead(404, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
  });
  response.end(`${sentence}\n`);
}

async function readStatic(file: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file);
  } catch {
    return undefined;
  }
}
