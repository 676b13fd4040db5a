/**
 * The fake OAuth issuer side of the fake ChatGPT (research/codex-protocol.md sections 1, 2, 3.4 and
 * 9.3): authorize (auto-approving a scripted account), the token endpoint (authorization code with
 * PKCE, API-key token exchange, refresh with rotation and reuse detection), revoke, and device
 * code. Its state lives in `fake.extensions` under `issuer`; tests script it with the helpers below.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeAccount } from './accounts.ts';
import type { FakeChatGpt, FakeHandler } from './fake-chatgpt.ts';
import { makeJwt } from './jwt.ts';

/** The client id the fake accepts (Codex's). */
export const fakeClientId = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** What the next authorize request does: approve an account, or deny. */
export type NextLogin =
  | { email: string }
  | { error: 'access_denied'; description?: string }
  | { error: string; description?: string };

/** A scripted refresh outcome for an account's next refresh requests. */
export type RefreshScript =
  | 'refresh_token_expired'
  | 'refresh_token_invalidated'
  | 'refresh_token_reused'
  | { status: number; body: unknown };

interface CodeGrant {
  email: string;
  codeChallenge: string;
  redirectUri: string;
  used: boolean;
}

interface AccessTokenRecord {
  email: string;
  family: string;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshTokenRecord {
  email: string;
  family: string;
  used: boolean;
  revoked: boolean;
}

interface DeviceRecord {
  deviceAuthId: string;
  userCode: string;
  email: string | null;
  polls: number;
  codeVerifier: string;
  done: boolean;
}

/** Counts of token-endpoint and other issuer calls, for assertions. */
export interface IssuerStats {
  authorize: number;
  authorizationCode: number;
  tokenExchange: number;
  refreshToken: number;
  revoke: number;
  deviceUserCode: number;
  deviceToken: number;
}

interface IssuerState {
  nextLogins: NextLogin[];
  codes: Map<string, CodeGrant>;
  accessTokens: Map<string, AccessTokenRecord>;
  refreshTokens: Map<string, RefreshTokenRecord>;
  idTokens: Set<string>;
  apiKeys: Set<string>;
  revokedFamilies: Set<string>;
  refreshScripts: Map<string, RefreshScript[]>;
  devices: Map<string, DeviceRecord>;
  stats: IssuerStats;
  accessTokenLifetimeSeconds: number;
  tokenDelayMs: number;
  revokedTokens: string[];
  /** Whether the token-exchange grant hands out API keys. */
  apiKeyExchange: boolean;
  /** Token-endpoint requests waiting for a test to let their answer go (see `holdTokenAnswers`). */
  holds: TokenHold[];
  /** Every refresh answer the fake sent: when it finished writing it (ms), and the tokens. */
  refreshLog: Array<{ presented: string; issued: string; startedAt: number; finishedAt: number }>;
}

/** A held token-endpoint answer: `arrived` resolves once a request is waiting; `release` sends it. */
export interface TokenHold {
  arrived: Promise<void>;
  release(): void;
  /** @internal */ notify(): void;
  /** @internal */ gate: Promise<void>;
}

function issuerState(fake: FakeChatGpt): IssuerState {
  let state = fake.extensions.get('issuer') as IssuerState | undefined;
  if (!state) {
    state = {
      nextLogins: [],
      codes: new Map(),
      accessTokens: new Map(),
      refreshTokens: new Map(),
      idTokens: new Set(),
      apiKeys: new Set(),
      revokedFamilies: new Set(),
      refreshScripts: new Map(),
      devices: new Map(),
      stats: {
        authorize: 0,
        authorizationCode: 0,
        tokenExchange: 0,
        refreshToken: 0,
        revoke: 0,
        deviceUserCode: 0,
        deviceToken: 0,
      },
      accessTokenLifetimeSeconds: 3600,
      tokenDelayMs: 0,
      revokedTokens: [],
      apiKeyExchange: true,
      holds: [],
      refreshLog: [],
    };
    fake.extensions.set('issuer', state);
  }
  return state;
}

// ---------------------------------------------------------------- helpers for tests

/** Queues what the next authorize request does: sign in as `email`, or deny with an error. */
export function setNextLogin(fake: FakeChatGpt, next: string | NextLogin): void {
  issuerState(fake).nextLogins.push(typeof next === 'string' ? { email: next } : next);
}

/** Token endpoint (and other issuer) call counts. */
export function issuerStats(fake: FakeChatGpt): IssuerStats {
  return { ...issuerState(fake).stats };
}

/** True when `token` is an access token the fake issued, not expired (fake time) and not revoked. */
export function accessTokenIsValid(fake: FakeChatGpt, token: string): boolean {
  const record = issuerState(fake).accessTokens.get(token);
  return record !== undefined && !record.revoked && record.expiresAt > fake.nowSeconds();
}

/**
 * The account an access token was issued for (expired or revoked ones included: check
 * `accessTokenIsValid` too), or null for a token the fake never issued.
 */
export function accountForAccessToken(fake: FakeChatGpt, token: string): FakeAccount | null {
  const record = issuerState(fake).accessTokens.get(token);
  return record ? (fake.accounts.get(record.email) ?? null) : null;
}

/** Expires every access token issued for `email` (the next upstream call answers 401). */
export function expireAccessTokens(fake: FakeChatGpt, email: string): void {
  for (const record of issuerState(fake).accessTokens.values()) {
    if (record.email === email)
      record.expiresAt = Math.min(record.expiresAt, fake.nowSeconds() - 1);
  }
}

/** Lifetime (seconds) of access tokens issued from now on. Default 3600. */
export function setAccessTokenLifetime(fake: FakeChatGpt, seconds: number): void {
  issuerState(fake).accessTokenLifetimeSeconds = seconds;
}

/** Delays every token-endpoint answer (to widen race windows in concurrency tests). */
export function setTokenDelay(fake: FakeChatGpt, ms: number): void {
  issuerState(fake).tokenDelayMs = ms;
}

/**
 * Holds the next token-endpoint request's answer until `release()` (after the issuer has acted
 * on it: a refresh has already rotated the token). Widens race windows deterministically.
 */
export function holdTokenAnswers(fake: FakeChatGpt): TokenHold {
  let notify = () => {};
  let release = () => {};
  const arrived = new Promise<void>((resolve) => (notify = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const hold: TokenHold = { arrived, release, notify, gate };
  issuerState(fake).holds.push(hold);
  return hold;
}

/** Every refresh the fake answered, with when its answer finished (Date.now ms). */
export function refreshLog(
  fake: FakeChatGpt,
): Array<{ presented: string; issued: string; startedAt: number; finishedAt: number }> {
  return [...issuerState(fake).refreshLog];
}

/** Queues the outcome of the next refresh request(s) of `email`, before normal rotation. */
export function scriptRefresh(fake: FakeChatGpt, email: string, outcome: RefreshScript): void {
  const state = issuerState(fake);
  const queue = state.refreshScripts.get(email) ?? [];
  queue.push(outcome);
  state.refreshScripts.set(email, queue);
}

/** Turns the API-key token exchange on or off (off: it answers 400, which sign-in ignores). */
export function setApiKeyExchange(fake: FakeChatGpt, enabled: boolean): void {
  issuerState(fake).apiKeyExchange = enabled;
}

/** Every secret the fake has handed out (ids, access, refresh tokens, API keys), to search outputs for. */
export function issuedSecrets(fake: FakeChatGpt): string[] {
  const state = issuerState(fake);
  return [
    ...state.idTokens,
    ...state.accessTokens.keys(),
    ...state.refreshTokens.keys(),
    ...state.apiKeys,
  ];
}

/** Tokens the revoke endpoint received, in order. */
export function revokedTokens(fake: FakeChatGpt): string[] {
  return [...issuerState(fake).revokedTokens];
}

/** True when `refreshToken` is known, unused and its family not revoked. */
export function refreshTokenIsValid(fake: FakeChatGpt, refreshToken: string): boolean {
  const state = issuerState(fake);
  const record = state.refreshTokens.get(refreshToken);
  return (
    record !== undefined &&
    !record.used &&
    !record.revoked &&
    !state.revokedFamilies.has(record.family)
  );
}

/** The tokens a sign-in as `email` yields. */
export interface IssuedTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  accountId: string;
}

/**
 * Mints a fresh token family for `email` without the browser flow (for tests that need a signed-in
 * profile quickly). The account must exist.
 */
export function issueTokens(fake: FakeChatGpt, email: string): IssuedTokens {
  return mintTokens(fake, fake.account(email), randomToken('fam'));
}

/** A Codex-shaped auth.json for a freshly minted token family of `email`. */
export function issueAuthDotJson(fake: FakeChatGpt, email: string): Record<string, unknown> {
  return authDotJsonFor(fake, issueTokens(fake, email));
}

/** The Codex-shaped auth.json holding `tokens`, refreshed "now" on the fake's clock. */
export function authDotJsonFor(fake: FakeChatGpt, tokens: IssuedTokens): Record<string, unknown> {
  return {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: {
      id_token: tokens.idToken,
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      account_id: tokens.accountId,
    },
    last_refresh: new Date(fake.nowSeconds() * 1000).toISOString(),
  };
}

// ---------------------------------------------------------------- tokens

function randomToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

function mintTokens(fake: FakeChatGpt, account: FakeAccount, family: string): IssuedTokens {
  const state = issuerState(fake);
  const now = fake.nowSeconds();
  const authClaim = {
    chatgpt_account_id: account.accountId,
    chatgpt_plan_type: account.plan,
    chatgpt_user_id: account.userId,
    user_id: account.userId,
  };
  const idToken = makeJwt({
    iss: fake.issuerUrl,
    aud: [fakeClientId],
    sub: account.userId,
    email: account.email,
    email_verified: true,
    iat: now,
    auth_time: now,
    exp: now + 3600,
    'https://api.openai.com/auth': { ...authClaim, organizations: [] },
    'https://api.openai.com/profile': { email: account.email, email_verified: true },
  });
  const expiresAt = now + state.accessTokenLifetimeSeconds;
  const accessToken = makeJwt({
    iss: fake.issuerUrl,
    aud: ['https://api.openai.com/v1'],
    sub: account.userId,
    client_id: fakeClientId,
    iat: now,
    nbf: now,
    exp: expiresAt,
    jti: randomBytes(8).toString('hex'),
    scp: ['openid', 'profile', 'email', 'offline_access'],
    'https://api.openai.com/auth': authClaim,
    'https://api.openai.com/profile': { email: account.email, email_verified: true },
  });
  const refreshToken = randomToken('rt');
  state.idTokens.add(idToken);
  state.accessTokens.set(accessToken, { email: account.email, family, expiresAt, revoked: false });
  state.refreshTokens.set(refreshToken, {
    email: account.email,
    family,
    used: false,
    revoked: false,
  });
  return { idToken, accessToken, refreshToken, accountId: account.accountId };
}

function revokeFamily(state: IssuerState, family: string): void {
  state.revokedFamilies.add(family);
  for (const record of state.accessTokens.values())
    if (record.family === family) record.revoked = true;
  for (const record of state.refreshTokens.values())
    if (record.family === family) record.revoked = true;
}

function challengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

// ---------------------------------------------------------------- HTTP

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function oauthError(
  response: ServerResponse,
  status: number,
  error: string,
  description: string,
): void {
  sendJson(response, status, { error, error_description: description });
}

function openAiError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  sendJson(response, status, {
    error: { message, type: 'invalid_request_error', param: null, code },
  });
}

function contentType(request: IncomingMessage): string {
  return String(request.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

function readForm(request: IncomingMessage, body: Buffer): URLSearchParams | null {
  return contentType(request) === 'application/x-www-form-urlencoded'
    ? new URLSearchParams(body.toString('utf8'))
    : null;
}

function readJson(request: IncomingMessage, body: Buffer): Record<string, unknown> | null {
  if (contentType(request) !== 'application/json') return null;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const refreshMessages: Record<string, string> = {
  refresh_token_expired: 'Your refresh token has expired. Please try signing in again.',
  refresh_token_reused:
    'Your refresh token has already been used to generate a new access token. Please try signing in again.',
  refresh_token_invalidated: 'Your session has ended. Please log in again.',
};

/** The issuer's routes on the shared fake server. */
export const handleIssuerRequest: FakeHandler = async (fake, request, response, body) => {
  const url = new URL(request.url ?? '/', fake.issuerUrl);
  const route = `${request.method ?? 'GET'} ${url.pathname}`;
  const state = issuerState(fake);
  switch (route) {
    case 'GET /oauth/authorize':
      authorize(fake, state, url.searchParams, response);
      return true;
    case 'POST /oauth/token': {
      if (state.tokenDelayMs > 0)
        await new Promise((resolve) => setTimeout(resolve, state.tokenDelayMs));
      const hold = state.holds.shift();
      if (!hold) {
        token(fake, state, request, body, response);
        return true;
      }
      // Act now, answer later: the issuer has rotated the token before the client hears of it.
      const captured: Array<() => void> = [];
      const deferred = new Proxy(response, {
        get(target, key, receiver) {
          if (key === 'writeHead' || key === 'end' || key === 'setHeader' || key === 'write') {
            return (...args: unknown[]) => {
              captured.push(() =>
                (target[key] as (...values: unknown[]) => unknown).apply(target, args),
              );
              return receiver;
            };
          }
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function'
            ? (value as (...args: unknown[]) => unknown).bind(target)
            : value;
        },
      });
      token(fake, state, request, body, deferred);
      hold.notify();
      await hold.gate;
      for (const replay of captured) replay();
      return true;
    }
    case 'POST /oauth/revoke': {
      state.stats.revoke += 1;
      const json = readJson(request, body);
      const tokenValue = typeof json?.['token'] === 'string' ? json['token'] : null;
      if (!tokenValue) {
        oauthError(response, 400, 'invalid_request', 'token is required');
        return true;
      }
      state.revokedTokens.push(tokenValue);
      const record = state.refreshTokens.get(tokenValue) ?? state.accessTokens.get(tokenValue);
      if (json?.['token_type_hint'] === 'refresh_token' && json['client_id'] !== fakeClientId) {
        oauthError(response, 400, 'invalid_client', 'unknown client_id');
        return true;
      }
      if (record) revokeFamily(state, record.family);
      sendJson(response, 200, {});
      return true;
    }
    case 'POST /api/accounts/deviceauth/usercode': {
      state.stats.deviceUserCode += 1;
      const json = readJson(request, body);
      if (json?.['client_id'] !== fakeClientId) {
        oauthError(response, 400, 'invalid_client', 'unknown client_id');
        return true;
      }
      const userCode =
        `${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}`.toUpperCase();
      const deviceAuthId = randomToken('deviceauth');
      state.devices.set(deviceAuthId, {
        deviceAuthId,
        userCode,
        email: null,
        polls: 0,
        codeVerifier: randomBytes(64).toString('base64url'),
        done: false,
      });
      sendJson(response, 200, { device_auth_id: deviceAuthId, user_code: userCode, interval: '1' });
      return true;
    }
    case 'POST /api/accounts/deviceauth/token': {
      state.stats.deviceToken += 1;
      const json = readJson(request, body);
      const device = state.devices.get(String(json?.['device_auth_id'] ?? ''));
      if (!device || device.userCode !== json?.['user_code'] || device.done) {
        sendJson(response, 404, { error: { message: 'Unknown device code', code: 'not_found' } });
        return true;
      }
      device.polls += 1;
      // The user "approves" between the first and second poll, as the next scripted login.
      if (device.polls < 2) {
        sendJson(response, 403, {
          error: { message: 'Authorization pending', code: 'authorization_pending' },
        });
        return true;
      }
      const next = state.nextLogins.shift() ?? onlyAccount(fake);
      if (!next || !('email' in next)) {
        sendJson(response, 403, {
          error: { message: 'Authorization pending', code: 'authorization_pending' },
        });
        return true;
      }
      device.done = true;
      const code = randomToken('devcode');
      const codeChallenge = challengeOf(device.codeVerifier);
      state.codes.set(code, {
        email: next.email,
        codeChallenge,
        redirectUri: `${fake.issuerUrl}/deviceauth/callback`,
        used: false,
      });
      sendJson(response, 200, {
        authorization_code: code,
        code_challenge: codeChallenge,
        code_verifier: device.codeVerifier,
      });
      return true;
    }
    case 'GET /deviceauth/callback':
      response.writeHead(302, { location: `${fake.issuerUrl}/codex/device?status=success` });
      response.end();
      return true;
    case 'GET /codex/device':
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        '<!doctype html><title>Device sign-in</title><p>Enter the code shown by Codex.</p>',
      );
      return true;
    default:
      return false;
  }
};

function onlyAccount(fake: FakeChatGpt): NextLogin | undefined {
  return fake.accounts.size === 1 ? { email: [...fake.accounts.keys()][0]! } : undefined;
}

function authorize(
  fake: FakeChatGpt,
  state: IssuerState,
  query: URLSearchParams,
  response: ServerResponse,
): void {
  state.stats.authorize += 1;
  const redirectUri = query.get('redirect_uri') ?? '';
  const problems: string[] = [];
  if (query.get('client_id') !== fakeClientId) problems.push('unknown client_id');
  if (query.get('response_type') !== 'code') problems.push('response_type must be code');
  if (query.get('code_challenge_method') !== 'S256')
    problems.push('code_challenge_method must be S256');
  if (!query.get('code_challenge')) problems.push('code_challenge is required');
  // Loopback callbacks as Codex sends them (0.171: 127.0.0.1; older: localhost). The real issuer
  // allows only Codex's ports (1455, 1457); tests bind free ports, so the fake takes any.
  if (!/^http:\/\/(localhost|127\.0\.0\.1):\d+\/auth\/callback$/.test(redirectUri))
    problems.push('redirect_uri not allowed');
  if (!query.get('state')) problems.push('state is required');
  if (problems.length > 0) {
    // Like a real issuer: a bad client or redirect URI is never redirected to.
    response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`Invalid authorize request: ${problems.join(', ')}`);
    return;
  }
  const hint = query.get('login_hint');
  const next: NextLogin | undefined = hint
    ? { email: hint }
    : (state.nextLogins.shift() ?? onlyAccount(fake));
  const location = new URL(redirectUri);
  const stateValue = query.get('state') ?? '';
  if (!next) {
    location.searchParams.set('error', 'access_denied');
    location.searchParams.set('error_description', 'no account scripted for this sign-in');
  } else if ('error' in next) {
    location.searchParams.set('error', next.error);
    if (next.description) location.searchParams.set('error_description', next.description);
  } else if (!fake.accounts.has(next.email)) {
    location.searchParams.set('error', 'access_denied');
    location.searchParams.set('error_description', `unknown account ${next.email}`);
  } else {
    const code = randomToken('ac');
    state.codes.set(code, {
      email: next.email,
      codeChallenge: query.get('code_challenge') ?? '',
      redirectUri,
      used: false,
    });
    location.searchParams.set('code', code);
    location.searchParams.set('scope', query.get('scope') ?? '');
  }
  location.searchParams.set('state', stateValue);
  response.writeHead(302, { location: location.toString() });
  response.end();
}

function token(
  fake: FakeChatGpt,
  state: IssuerState,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
): void {
  const form = readForm(request, body);
  const json = form ? null : readJson(request, body);
  const field = (name: string): string | null => {
    const value = form ? form.get(name) : json?.[name];
    return typeof value === 'string' ? value : null;
  };
  const grantType = field('grant_type');
  if (field('client_id') !== fakeClientId) {
    oauthError(response, 401, 'invalid_client', 'Unknown client_id.');
    return;
  }
  switch (grantType) {
    case 'authorization_code': {
      state.stats.authorizationCode += 1;
      if (!form) {
        oauthError(
          response,
          400,
          'invalid_request',
          'The authorization_code grant must be form-encoded.',
        );
        return;
      }
      const code = field('code') ?? '';
      const grant = state.codes.get(code);
      if (!grant || grant.used) {
        oauthError(response, 400, 'invalid_grant', 'Invalid or already used authorization code.');
        return;
      }
      grant.used = true;
      if (field('redirect_uri') !== grant.redirectUri) {
        oauthError(response, 400, 'invalid_grant', 'redirect_uri does not match.');
        return;
      }
      const verifier = field('code_verifier') ?? '';
      if (challengeOf(verifier) !== grant.codeChallenge) {
        oauthError(response, 400, 'invalid_grant', 'PKCE verification failed.');
        return;
      }
      const tokens = mintTokens(fake, fake.account(grant.email), randomToken('fam'));
      sendJson(response, 200, {
        id_token: tokens.idToken,
        access_token: tokens.accessToken,
        refresh_token: tokens.refreshToken,
        token_type: 'Bearer',
        expires_in: state.accessTokenLifetimeSeconds,
        scope: 'openid profile email offline_access',
      });
      return;
    }
    case 'urn:ietf:params:oauth:grant-type:token-exchange': {
      state.stats.tokenExchange += 1;
      const subject = field('subject_token') ?? '';
      if (
        !form ||
        !state.apiKeyExchange ||
        field('requested_token') !== 'openai-api-key' ||
        field('subject_token_type') !== 'urn:ietf:params:oauth:token-type:id_token' ||
        !state.idTokens.has(subject)
      ) {
        oauthError(response, 400, 'invalid_request', 'Token exchange refused.');
        return;
      }
      const key = `sk-proj-fake${randomBytes(24).toString('base64url')}`;
      state.apiKeys.add(key);
      sendJson(response, 200, { access_token: key, token_type: 'Bearer' });
      return;
    }
    case 'refresh_token': {
      state.stats.refreshToken += 1;
      if (!json) {
        oauthError(
          response,
          400,
          'invalid_request',
          'The refresh_token grant expects a JSON body.',
        );
        return;
      }
      const presented = field('refresh_token') ?? '';
      const record = state.refreshTokens.get(presented);
      if (!record) {
        openAiError(
          response,
          401,
          'refresh_token_invalidated',
          refreshMessages['refresh_token_invalidated']!,
        );
        return;
      }
      const script = state.refreshScripts.get(record.email)?.shift();
      if (script !== undefined) {
        if (typeof script === 'string') {
          if (script !== 'refresh_token_expired') revokeFamily(state, record.family);
          openAiError(response, 401, script, refreshMessages[script]!);
        } else {
          sendJson(response, script.status, script.body);
        }
        return;
      }
      if (record.revoked || state.revokedFamilies.has(record.family)) {
        openAiError(
          response,
          401,
          'refresh_token_invalidated',
          refreshMessages['refresh_token_invalidated']!,
        );
        return;
      }
      if (record.used) {
        // Reuse detection: a consumed refresh token revokes its whole family.
        revokeFamily(state, record.family);
        openAiError(
          response,
          401,
          'refresh_token_reused',
          refreshMessages['refresh_token_reused']!,
        );
        return;
      }
      record.used = true;
      const tokens = mintTokens(fake, fake.account(record.email), record.family);
      const entry = {
        presented,
        issued: tokens.refreshToken,
        startedAt: Date.now(),
        finishedAt: Number.POSITIVE_INFINITY,
      };
      state.refreshLog.push(entry);
      response.on('finish', () => (entry.finishedAt = Date.now()));
      sendJson(response, 200, {
        id_token: tokens.idToken,
        access_token: tokens.accessToken,
        refresh_token: tokens.refreshToken,
        token_type: 'Bearer',
        expires_in: state.accessTokenLifetimeSeconds,
      });
      return;
    }
    default:
      oauthError(
        response,
        400,
        'unsupported_grant_type',
        `Unsupported grant_type ${grantType ?? '(none)'}.`,
      );
  }
}
