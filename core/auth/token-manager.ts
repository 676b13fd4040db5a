/**
 * Access tokens for the router, refreshed the way refresh tokens demand (research section 2,
 * DESIGN.md section 4): refresh tokens are single-use, so per profile there is at most one refresh
 * in flight inside this process and one across processes (`withLock` on `refresh-<name>`); inside
 * the lock the auth file is read again and, if another process already refreshed, its tokens are
 * adopted without calling the endpoint; rotated tokens reach the disk before anyone uses them.
 */
import { isLabError, LabError } from '../errors.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { day, minute, type Clock, type Logger } from '../ports.ts';
import { decodeJwtClaims, identityFromAuth } from '../profiles/jwt.ts';
import type { AuthDotJson } from '../profiles/schema.ts';
import type { HealthStore } from '../state/health-store.ts';
import { refreshFailureMessage } from './constants.ts';
import { sendRequest, type FetchLike } from './http.ts';
import { buildRefreshRequest, processRefreshAnswer } from './token-endpoint.ts';

/** What the router needs to call the upstream for a profile. */
export interface Credentials {
  accessToken: string;
  /** Sent as `ChatGPT-Account-Id`; null when the sign-in carried none. */
  accountId: string | null;
}

/** The part of the profile store token refresh needs. */
export interface TokenStore {
  readAuth(name: string): Promise<AuthDotJson>;
  writeAuth(name: string, auth: AuthDotJson): Promise<void>;
}

/** Options for `TokenManager`. */
export interface TokenManagerOptions {
  paths: LabPaths;
  store: TokenStore;
  health: HealthStore;
  /** The issuer (`CODEX_LAB_AUTH_ISSUER`), without a trailing slash. */
  issuer: string;
  clock: Clock;
  logger: Logger;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Refresh this long before the access token's `exp`. Default 5 minutes. */
  marginMs?: number;
  /** Give up on the token endpoint after this long. Default 30 s. */
  requestTimeoutMs?: number;
}

/** Why a refresh runs. */
type RefreshReason = 'proactive' | 'unauthorized';

/** Without a JWT `exp`, Codex refreshes tokens older than 8 days. */
const refreshIntervalMs = 8 * day;

/**
 * Hands out access tokens per profile, refreshing them when they are about to expire or after the
 * upstream rejected one. Failures are classified as Codex classifies them; a permanent one marks
 * the profile `auth_error` (with Codex's message) and no other profile.
 */
export class TokenManager {
  readonly #options: TokenManagerOptions;
  readonly #logger: Logger;
  readonly #fetch: FetchLike;
  readonly #marginMs: number;
  readonly #inFlight = new Map<string, Promise<Credentials>>();
  /** The account id each profile had when first seen: a different one on disk is a mismatch. */
  readonly #accounts = new Map<string, string>();
  /** A permanent failure, remembered for the refresh token that caused it (as Codex does). */
  readonly #permanent = new Map<string, { refreshToken: string; error: LabError }>();

  constructor(options: TokenManagerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'token-manager' });
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#marginMs = options.marginMs ?? 5 * minute;
  }

  /**
   * The profile's current credentials, refreshed first when the access token expires within the
   * margin. A failed early refresh falls back to the still-valid token (Codex only logs it).
   */
  async getCredentials(name: string): Promise<Credentials> {
    const auth = await this.#options.store.readAuth(name);
    const tokens = requireTokens(name, auth);
    this.#remember(name, auth);
    const now = this.#options.clock.now();
    if (!isStale(auth, now, this.#marginMs)) return credentialsOf(auth);
    try {
      return await this.#refresh(name, tokens.access_token, 'proactive');
    } catch (error) {
      const expiresAt = accessTokenExpiry(auth);
      const usable = expiresAt !== null && expiresAt > this.#options.clock.now();
      if (usable && isLabError(error) && error.code !== 'account_mismatch') {
        this.#logger.warn(
          { profile: name, code: error.code },
          'early refresh failed; using the current token',
        );
        return credentialsOf(auth);
      }
      throw error;
    }
  }

  /**
   * New credentials after the upstream answered 401 to `rejectedAccessToken`: adopts tokens another
   * process already wrote, else refreshes once.
   */
  async refreshAfterUnauthorized(name: string, rejectedAccessToken: string): Promise<Credentials> {
    return this.#refresh(name, rejectedAccessToken, 'unauthorized');
  }

  #remember(name: string, auth: AuthDotJson): void {
    const accountId = accountIdOf(auth);
    if (accountId !== null && !this.#accounts.has(name)) this.#accounts.set(name, accountId);
  }

  #refresh(name: string, replacing: string, reason: RefreshReason): Promise<Credentials> {
    const running = this.#inFlight.get(name);
    if (running) return running;
    const flight = withLock(this.#options.paths.locksDir, `refresh-${name}`, () =>
      this.#refreshLocked(name, replacing, reason),
    ).finally(() => this.#inFlight.delete(name));
    this.#inFlight.set(name, flight);
    return flight;
  }

  async #refreshLocked(
    name: string,
    replacing: string,
    reason: RefreshReason,
  ): Promise<Credentials> {
    const { store, health, clock } = this.#options;
    const disk = await store.readAuth(name);
    const tokens = requireTokens(name, disk);
    const expected = this.#accounts.get(name);
    const onDisk = accountIdOf(disk);
    if (expected !== undefined && onDisk !== null && onDisk !== expected) {
      const message = refreshFailureMessage('account_mismatch', name);
      await health.markAuthError(name, 'account_mismatch', message, clock.now());
      this.#logger.warn({ profile: name }, 'auth file now holds another account');
      throw new LabError('account_mismatch', message);
    }
    this.#remember(name, disk);
    // Someone else refreshed while we waited: use theirs unless it is already past its exp (a
    // token inside the early margin is still good, and refreshing it again would waste a rotation).
    if (
      tokens.access_token !== replacing &&
      (reason === 'unauthorized' || !isStale(disk, clock.now(), 0))
    ) {
      this.#logger.debug({ profile: name, reason }, 'adopting tokens refreshed elsewhere');
      return credentialsOf(disk);
    }
    const known = this.#permanent.get(name);
    if (known && known.refreshToken === tokens.refresh_token) throw known.error;

    this.#logger.info({ profile: name, reason }, 'refreshing access token');
    let answer;
    try {
      answer = await sendRequest(
        this.#fetch,
        buildRefreshRequest({
          issuer: this.#options.issuer,
          refreshToken: tokens.refresh_token,
          reason: reason === 'unauthorized' ? 'unauthorized_recovery' : 'scheduled',
        }),
        this.#options.requestTimeoutMs ?? 30_000,
        'refresh_transient',
      );
    } catch (error) {
      this.#logger.warn(
        { profile: name, code: isLabError(error) ? error.code : 'unknown' },
        'refresh unreachable',
      );
      throw error;
    }
    const outcome = processRefreshAnswer(answer, name);
    if (!outcome.ok) {
      const { error, permanent } = outcome.failure;
      this.#logger.warn(
        { profile: name, status: answer.status, code: error.code, permanent },
        'refresh failed',
      );
      if (permanent) {
        this.#permanent.set(name, { refreshToken: tokens.refresh_token, error });
        await health.markAuthError(name, error.code, error.message, clock.now());
      }
      throw error;
    }
    const refreshed = outcome.tokens;
    const nextTokens = {
      ...tokens,
      ...(refreshed.idToken === undefined ? {} : { id_token: refreshed.idToken }),
      ...(refreshed.accessToken === undefined ? {} : { access_token: refreshed.accessToken }),
      ...(refreshed.refreshToken === undefined ? {} : { refresh_token: refreshed.refreshToken }),
    };
    const next: AuthDotJson = {
      ...disk,
      tokens: nextTokens,
      last_refresh: new Date(clock.now()).toISOString(),
    };
    if (next.tokens && (next.tokens.account_id === null || next.tokens.account_id === undefined)) {
      next.tokens.account_id = accountIdOf(next);
    }
    // On disk before anyone uses it: a rotated refresh token that is lost cannot be recovered.
    await store.writeAuth(name, next);
    this.#permanent.delete(name);
    const now = clock.now();
    if ((await health.get(name, now)).status === 'auth_error') await health.markOk(name, now);
    this.#logger.info({ profile: name, reason }, 'access token refreshed');
    return credentialsOf(next);
  }
}

/** The tokens of a ChatGPT auth file, or `not_signed_in`. */
function requireTokens(name: string, auth: AuthDotJson) {
  if (!auth.tokens) {
    throw new LabError(
      'not_signed_in',
      `Profile "${name}" holds no ChatGPT tokens. Sign in again with: codex-lab login ${name}`,
    );
  }
  return auth.tokens;
}

/** The account id stored with the tokens, else the id_token's claim. */
function accountIdOf(auth: AuthDotJson): string | null {
  const stored = auth.tokens?.account_id;
  if (typeof stored === 'string' && stored !== '') return stored;
  try {
    return identityFromAuth(auth).accountId ?? null;
  } catch {
    return null;
  }
}

function credentialsOf(auth: AuthDotJson): Credentials {
  return { accessToken: auth.tokens?.access_token ?? '', accountId: accountIdOf(auth) };
}

/** The access token's `exp` in Unix ms, or null when it is not a JWT with `exp`. */
export function accessTokenExpiry(auth: AuthDotJson): number | null {
  const token = auth.tokens?.access_token;
  if (!token) return null;
  try {
    const claims = decodeJwtClaims(token) as Record<string, unknown> | null | undefined;
    const exp = claims?.['exp'];
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * True when the access token should be refreshed now: its `exp` minus `marginMs` has passed, or,
 * without an `exp`, `last_refresh` is older than 8 days (Codex's rule).
 */
export function isStale(auth: AuthDotJson, now: number, marginMs: number): boolean {
  const expiresAt = accessTokenExpiry(auth);
  if (expiresAt !== null) return expiresAt - marginMs <= now;
  const last = auth.last_refresh ? Date.parse(auth.last_refresh) : Number.NaN;
  return Number.isNaN(last) || now - last >= refreshIntervalMs;
}
