/**
 * The browser sign-in (research section 1): PKCE + state, Codex's authorize URL, and a loopback
 * callback server on 127.0.0.1 that exchanges the code and saves the profile. Progress follows
 * `LoginView` (core/view-types.ts): waiting → exchanging → done | failed | cancelled.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLabError, LabError } from '../errors.ts';
import { runCritical } from '../home/critical.ts';
import { minute, type Cancel } from '../ports.ts';
import type { LoginView } from '../view-types.ts';
import { buildAuthorizeUrl, callbackRedirectUri } from './authorize-url.ts';
import { bindCallbackServer, type BoundServer } from './callback-server.ts';
import { defaultCallbackPort } from '../config.ts';
import { withLabFix } from '../format.ts';
import type { FailureFix } from '../view-types.ts';
import { fallbackCallbackPort } from './constants.ts';
import { isAllowedHost } from '../net/loopback.ts';
import { cancelledPage, errorPage, notFoundPage, stateMismatchPage, successPage } from './pages.ts';
import { createPkcePair, createState } from './pkce.ts';
import {
  describeSignInLimit,
  exchangeAuthorizationCode,
  obtainApiKey,
  saveSignIn,
  type SignInEnvironment,
  type SignInResult,
  readRequestedName,
  withRetryFix,
} from './sign-in.ts';

/** Options for `startLogin`. */
export interface StartLoginOptions extends SignInEnvironment {
  /** Loopback callback port; 0 picks a free one (Codex uses 1455). */
  callbackPort: number;
  /** The profile name to save under, or null to derive it from the email. */
  requestedName: string | null;
  /** Opens the authorize URL (system browser, Electron popup); a failure to open is ignored. */
  openBrowser?: (url: string) => unknown;
  /** Give up after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Called on every progress change. */
  onChange?: (view: LoginView) => void;
  /** Bind retries when the port is busy (Codex: 10 every 200 ms); tests shorten them. */
  bindAttempts?: number;
  /**
   * The port tried once when `callbackPort` stays busy. Default: 1457 when the port is Codex's
   * 1455 (as Codex falls back), none otherwise.
   */
  callbackFallbackPort?: number;
  /**
   * How the browser's page words a failure and its fix for whoever started this sign-in: the CLI
   * names its command (`withCliFix`); the default sends the user back to Codex Lab's window (the
   * dashboard or the desktop app), where Try again is (`withLabFix`).
   */
  sayFailure?: (message: string, fix: FailureFix | undefined) => string;
}

/** A sign-in in progress. */
export interface LoginHandle {
  /** Opaque id (for `cancelLogin`). */
  id: string;
  /** The issuer URL to open; carries no token. */
  authorizeUrl: string;
  /** The port the callback server listens on. */
  port: number;
  /** Resolves once the profile is saved; rejects with a `LabError` (denied, timeout, cancelled, …). */
  done: Promise<SignInResult>;
  /** Resolves once the callback server has stopped (after `/success`, a failure or the grace period). */
  closed: Promise<void>;
  /**
   * Cancels the sign-in (`auth_cancelled`) while it waits for the browser; once the approved
   * code is being exchanged it has no effect (the sign-in finishes and saves).
   */
  cancel(): void;
  /** Finishes the sign-in with a callback address pasted by the user (see `startLogin`). */
  completeWithUrl(callbackUrl: string): Promise<void>;
  /** The current progress. */
  view(): LoginView;
}

/** How the callback server answers one request. */
interface Reply {
  status: number;
  html?: string;
  /** A redirect target (then `html` is unused). */
  location?: string;
  /** Runs once the answer is written. */
  after?: () => void;
}

/** How long the server keeps serving `/success` after the profile is saved. */
const successGraceMs = 10_000;

/**
 * Starts a browser sign-in: binds the callback server, builds the authorize URL, opens it if asked
 * and returns at once; `done` settles when the callback arrives, the timeout passes or it is
 * cancelled. Never touches any profile but the one it saves.
 */
export async function startLogin(options: StartLoginOptions): Promise<LoginHandle> {
  const requestedName = readRequestedName(options.requestedName);
  const logger = options.logger.child({ component: 'login' });
  const id = randomUUID();
  const pkce = await createPkcePair();
  const state = createState();
  let view: LoginView = {
    id,
    state: 'waiting',
    method: 'browser',
    authorizeUrl: '',
    userCode: null,
    proposedName: requestedName,
    profile: null,
    created: null,
    email: null,
    error: null,
  };
  let resolveDone!: (result: SignInResult) => void;
  let rejectDone!: (error: LabError) => void;
  const done = new Promise<SignInResult>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A caller that only watches `view()` must not crash the process with an unhandled rejection.
  done.catch(() => undefined);

  // Bound after the listener that closes over it is built.
  // eslint-disable-next-line prefer-const
  let bound: BoundServer | undefined;
  let cancelTimeout: Cancel = () => undefined;
  let cancelGrace: Cancel = () => undefined;
  /** What the sign-in saved, for the success page. */
  let saved: SignInResult | null = null;

  const update = (change: Partial<LoginView>) => {
    view = { ...view, ...change };
    try {
      options.onChange?.(view);
    } catch (error) {
      logger.warn({ err: error }, 'login progress listener failed');
    }
  };
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const closeServer = () => {
    cancelTimeout();
    cancelGrace();
    void bound?.close().then(markClosed);
  };
  const sayFailure = options.sayFailure ?? withLabFix;
  /** What this sign-in ended with, once it failed. */
  let endedWith: LabError | null = null;
  /** Ends the sign-in with `error` (and the fix of starting again, when that cures it). */
  const fail = (error: LabError, state: 'failed' | 'cancelled' = 'failed'): LabError => {
    const ended = withRetryFix(error, requestedName, 'browser');
    if (view.state === 'done' || view.state === 'failed' || view.state === 'cancelled')
      return ended;
    update({ state, error: { code: ended.code, message: ended.message } });
    logger.info({ code: ended.code }, 'sign-in ended without a profile');
    endedWith = ended;
    rejectDone(ended);
    return ended;
  };
  /** The browser's page for a sign-in that ended with `error`, worded for whoever started it. */
  const failurePage = (error: LabError) => errorPage(sayFailure(error.message, error.fix));
  /**
   * Ends a sign-in from outside (timeout, `/cancel`, `cancel()`) while it still waits for the
   * browser. Once the callback's code is being exchanged, the user has approved and the issuer
   * may already have issued tokens that exist only in this process: the sign-in then runs to its
   * own end (saved, or the exchange's error). Returns false when it was not ended.
   */
  const endWaiting = (error: LabError, state: 'failed' | 'cancelled'): boolean => {
    if (view.state !== 'waiting') return false;
    fail(error, state);
    return true;
  };

  const handleCallback = async (query: URLSearchParams): Promise<Reply> => {
    if (query.get('state') !== state) {
      logger.warn({}, 'callback with a state that is not this sign-in; ignored');
      return { status: 400, html: stateMismatchPage };
    }
    if (view.state !== 'waiting') {
      return {
        status: 409,
        html: errorPage('This sign-in has already finished. You may close this page.'),
      };
    }
    const errorCode = query.get('error');
    if (errorCode !== null) {
      const error = fail(deniedError(errorCode, query.get('error_description')));
      return { status: 403, html: failurePage(error), after: closeServer };
    }
    const code = query.get('code');
    if (!code) {
      const error = fail(
        new LabError(
          'auth_missing_code',
          'Sign-in failed: the issuer sent no authorization code (missing_authorization_code).',
        ),
      );
      return { status: 400, html: failurePage(error), after: closeServer };
    }
    update({ state: 'exchanging' });
    // The user has approved: from here only the exchange's outcome ends the sign-in.
    cancelTimeout();
    const redirectUri = callbackRedirectUri(bound?.port ?? options.callbackPort);
    let result: SignInResult;
    try {
      // From the code exchange to the saved profile, the new tokens exist only in this process: a
      // signal waits for this stretch (runCritical) instead of dropping them.
      const saved = await runCritical(async () => {
        const tokens = await exchangeAuthorizationCode(options, {
          code,
          redirectUri,
          codeVerifier: pkce.codeVerifier,
        });
        const apiKey = await obtainApiKey(options, tokens.idToken);
        return saveSignIn(options, tokens, apiKey, requestedName);
      });
      result = saved;
    } catch (error) {
      const labError = isLabError(error)
        ? error
        : new LabError('io_error', 'Sign-in failed: the profile could not be saved.', {
            cause: error,
          });
      if (!isLabError(error)) logger.error({ err: error }, 'sign-in failed unexpectedly');
      return { status: 500, html: failurePage(fail(labError)), after: closeServer };
    }
    update({
      state: 'done',
      profile: result.name,
      created: result.created,
      email: result.email,
      error: null,
    });
    saved = result;
    resolveDone(result);
    // Stay up briefly for the browser's /success request, without keeping a CLI process alive.
    bound?.server.unref();
    cancelGrace = options.clock.setTimeout(closeServer, successGraceMs);
    return { status: 302, location: `http://127.0.0.1:${bound?.port ?? 0}/success` };
  };

  /**
   * A callback address pasted by the user (the browser that approved runs on another machine, so
   * its `localhost` never reached this server). Bad input leaves the sign-in waiting and saves
   * nothing: an address that is not this sign-in's callback, another sign-in's `state`, or
   * another issuer's `iss` (RFC 9207) is one sentence.
   */
  const completeWithUrl = async (pasted: string): Promise<void> => {
    let url: URL;
    try {
      url = new URL(pasted.trim());
    } catch {
      throw new LabError(
        'invalid_argument',
        'That is not an address: paste the whole address your browser showed after the sign-in (it starts with http://localhost).',
      );
    }
    if (!url.pathname.endsWith('/auth/callback') || !url.searchParams.has('state')) {
      throw new LabError(
        'invalid_argument',
        'That is not the sign-in callback address: paste the address your browser showed after approving (it contains /auth/callback?code=…&state=…), not the sign-in page.',
      );
    }
    const issuer = url.searchParams.get('iss');
    if (issuer !== null && issuer.replace(/\/+$/, '') !== options.issuer.replace(/\/+$/, '')) {
      throw new LabError(
        'auth_state_mismatch',
        `That address comes from another issuer (${issuer.slice(0, 100)}), not ${options.issuer}, so nothing was saved.`,
      );
    }
    if (url.searchParams.get('state') !== state) {
      throw new LabError(
        'auth_state_mismatch',
        "That address belongs to another sign-in (its state does not match this one), so nothing was saved: paste the address from this sign-in's tab.",
      );
    }
    const reply = await handleCallback(url.searchParams);
    reply.after?.();
    if (view.state === 'failed' && endedWith) throw endedWith;
  };

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    // DNS rebinding: a page on another site that resolves to 127.0.0.1 sends its own Host.
    if (!isAllowedHost(request.headers.host)) {
      respond(response, 421, notFoundPage);
      return;
    }
    if (request.method !== 'GET') {
      respond(response, 405, notFoundPage);
      return;
    }
    switch (url.pathname) {
      case '/auth/callback':
        handleCallback(url.searchParams).then(
          (reply) => send(response, reply),
          (error: unknown) => {
            logger.error({ err: error }, 'callback handler failed');
            if (!response.headersSent) respond(response, 500, errorPage('Sign-in failed.'));
          },
        );
        return;
      case '/success':
        respond(
          response,
          200,
          successPage(saved),
          view.state === 'waiting' ? undefined : closeServer,
        );
        return;
      case '/cancel':
        // Another sign-in process taking the port over (Codex's protocol) sends a plain request;
        // a web page's request carries Origin or Sec-Fetch-Site and must not end this sign-in.
        if (fromWebPage(request)) {
          respond(response, 403, notFoundPage);
          return;
        }
        if (view.state === 'exchanging') {
          // An approved sign-in is being saved: the newer one finds the port busy, as it would
          // with any program on it, and this one finishes.
          respond(response, 409, errorPage('A sign-in is being completed on this port.'));
          return;
        }
        endWaiting(
          new LabError(
            'auth_cancelled',
            'Sign-in was cancelled (another sign-in took over the callback port).',
          ),
          'cancelled',
        );
        // Closed once the answer is written (closing first would drop this very connection).
        respond(response, 200, cancelledPage, closeServer);
        return;
      default:
        respond(response, 404, notFoundPage);
    }
  };

  const fallbackPort =
    options.callbackFallbackPort ??
    (options.callbackPort === defaultCallbackPort ? fallbackCallbackPort : undefined);
  bound = await bindCallbackServer({
    port: options.callbackPort,
    listener,
    clock: options.clock,
    logger,
    ...(options.bindAttempts === undefined ? {} : { attempts: options.bindAttempts }),
    ...(fallbackPort === undefined ? {} : { fallbackPort }),
  });
  const authorizeUrl = buildAuthorizeUrl({
    issuer: options.issuer,
    redirectUri: callbackRedirectUri(bound.port),
    codeChallenge: pkce.codeChallenge,
    state,
  });
  view = { ...view, authorizeUrl };
  const timeoutMs = options.timeoutMs ?? 10 * minute;
  cancelTimeout = options.clock.setTimeout(() => {
    const ended = endWaiting(
      new LabError('auth_timeout', `No sign-in arrived within ${describeSignInLimit(timeoutMs)}.`),
      'failed',
    );
    if (ended) closeServer();
  }, timeoutMs);
  logger.info({ port: bound.port }, 'waiting for the sign-in callback');
  options.onChange?.(view);
  if (options.openBrowser) {
    try {
      await options.openBrowser(authorizeUrl);
    } catch (error) {
      logger.info({ err: error }, 'could not open a browser; the URL is printed instead');
    }
  }

  return {
    id,
    authorizeUrl,
    port: bound.port,
    done,
    closed,
    cancel() {
      if (endWaiting(new LabError('auth_cancelled', 'Sign-in was cancelled.'), 'cancelled')) {
        closeServer();
      }
    },
    completeWithUrl,
    view: () => view,
  };
}

/** The error for an `error=` callback, with Codex's wording for a missing Codex entitlement. */
export function deniedError(code: string, description: string | null): LabError {
  if (code === 'access_denied' && description?.includes('missing_codex_entitlement')) {
    return new LabError(
      'auth_denied',
      'Codex is not enabled for your workspace. Ask your workspace admin to enable Codex, or sign in with another account.',
    );
  }
  if (code === 'access_denied') {
    return new LabError(
      'auth_denied',
      'Sign-in was denied or cancelled at the issuer (access_denied).',
    );
  }
  const detail = description ? `: ${description.slice(0, 200)}` : '';
  return new LabError(
    'auth_denied',
    `Sign-in failed at the issuer (${code.slice(0, 60)}${detail}).`,
  );
}

/** True when a browser sent the request from a page (not typed by the user, not a program). */
function fromWebPage(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  return request.headers.origin !== undefined || (site !== undefined && site !== 'none');
}

function send(response: ServerResponse, reply: Reply): void {
  if (reply.location !== undefined) {
    response.writeHead(reply.status, { location: reply.location });
    response.end(() => reply.after?.());
    return;
  }
  respond(response, reply.status, reply.html ?? '', reply.after);
}

function respond(response: ServerResponse, status: number, html: string, after?: () => void): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(html, () => after?.());
}
