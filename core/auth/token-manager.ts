/**
 * Access tokens for the router, refreshed the way refresh tokens demand (research section 2,
 * docs/design.md section 4): refresh tokens are single-use, so per profile there is at most one refresh
 * in flight inside this process and one across processes (`withLock` on `refresh-<name>`); inside
 * the lock the auth file is read again and, if another process already refreshed, its tokens are
 * adopted without calling the endpoint; rotated tokens reach the disk before anyone uses them.
 *
 * Never losing a rotated token (docs/auth.md, "Refresh safety"): the stretch from sending the
 * request to writing the answer runs as critical work (a signalled CLI waits for it); the file is
 * read again right before the request and right before the write, so a lock lost to a pause never
 * spends or overwrites a token another process rotated; a write that fails keeps the tokens in the
 * profile journal for the next load, and says so in the log. Only the issuer's permanent codes mark
 * a profile `auth_error`; transient failures back off and heal by themselves.
 */
import type { LabConfig } from '../config.ts';
import { isLabError, LabError, signInAgainError } from '../errors.ts';
import { runCritical } from '../home/critical.ts';
import { refreshAnswerTimeoutMs } from '../home/lock-waits.ts';
import { withLock, type LockLease } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { day, minute, PendingWork, type Clock, type Logger } from '../ports.ts';
import type { AccountIdentity } from '../profiles/account-stamp.ts';
import { decodeJwtClaims, identityFromAuth } from '../profiles/jwt.ts';
import type { AuthDotJson } from '../profiles/schema.ts';
import type { HealthStore } from '../state/health-store.ts';
import { heldByAnotherAccount } from './account-check.ts';
import { sendRequest, type FetchLike } from './http.ts';
import { buildRefreshRequest, processRefreshAnswer } from './token-endpoint.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** What the router needs to call the upstream for a profile. */
export interface Credentials {
  accessToken: string;
  /** Sent as `ChatGPT-Account-Id`; null when the sign-in carried none. */
  accountId: string | null;
  /** The signed-in user, which tells two seats of one workspace apart; null when not named. */
  userId: string | null;
}

/** The part of the profile store token refresh needs. */
export interface TokenStore {
  /**
   * The profile's registry entry: which account the name is now (renames and reused names
   * included), the account its auth file must still hold for a refresh to run.
   */
  getProfile(name: string): Promise<AccountIdentity>;
  readAuth(name: string): Promise<AuthDotJson>;
  /**
   * Replaces the profile's tokens; `lease` is the refresh lock the write is made under (a write
   * kept waiting by another program stops once the lock is lost).
   */
  writeAuth(name: string, auth: AuthDotJson, options?: { lease?: LockLease }): Promise<void>;
  /**
   * Keeps a refresh's rotated tokens where the next refresh finds them (`adoptUnfinishedWrite`)
   * before they are checked and written, when the write is not atomic (the keychain's), so a
   * process killed meanwhile loses nothing; `writeAuth` then clears them. Never throws.
   */
  keepRotation?(name: string, auth: AuthDotJson, replacedRefreshToken: string): Promise<void>;
  /**
   * Puts in place tokens a killed writer left in a temporary file beside the auth file, or a
   * failed write left in the profile journal (called with the refresh lock held, before the
   * tokens are read to be refreshed); throws when such tokens replace the refresh token the
   * profile holds and cannot be put in place yet, so that no refresh spends it.
   */
  adoptUnfinishedWrite?(name: string): Promise<boolean>;
  /** Keeps tokens a write could not store, for the next load to adopt (ProfileStore's journal). */
  saveRecoveredTokens?(
    name: string,
    auth: AuthDotJson,
    replacedRefreshToken: string,
  ): Promise<unknown>;
}

/**
 * The token manager's settings a home's config gives: the issuer, and how long a caller waits
 * for a refresh (`CODEX_LAB_REFRESH_WAIT_MS`, else the manager's 30 s). The one place they are
 * read, for the router (`LabService`) and a command without one (`cliTokenManager`) alike.
 */
export function tokenSettings(
  config: Pick<LabConfig, 'issuer' | 'refreshWaitMs'>,
): Pick<TokenManagerOptions, 'issuer' | 'requestTimeoutMs'> {
  return {
    issuer: config.issuer,
    ...(config.refreshWaitMs === null ? {} : { requestTimeoutMs: config.refreshWaitMs }),
  };
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
  /**
   * How long a caller waits for a refresh before it is told the issuer is slow (a transient
   * failure). The refresh itself goes on: see `answerTimeoutMs`. Default 30 s.
   */
  requestTimeoutMs?: number;
  /**
   * How long the refresh request itself may take. The issuer may rotate the token and answer
   * late; cutting the request short would drop the only live refresh token and leave the spent one
   * to be sent again (a reuse, which ends the sign-in), so it runs well past what callers wait.
   * Default `refreshAnswerTimeoutMs` (2 minutes), which changes to a profile wait for.
   */
  answerTimeoutMs?: number;
  /**
   * How long an early refresh (the access token still valid) may hold the request that set it
   * off; past it the request goes out with the current token and the refresh finishes on its own
   * (a token that expired meanwhile waits on for it, as an expired one does). Default 2 s.
   */
  earlyRefreshWaitMs?: number;
  /**
   * The level of the log line of a refresh failure that is also thrown to the caller (the issuer
   * refused, could not be reached, the file holds another account). Default `warn`, for the
   * service log; a command says the failure as its own sentence, so it asks for `debug` and the
   * user reads it once. Warnings of what the caller never hears (an early refresh that failed
   * while the current token still works, a lock, tokens another process wrote) stay warnings.
   */
  rethrownFailureLevel?: 'warn' | 'debug';
}

/** Why a refresh runs. */
type RefreshReason = 'proactive' | 'unauthorized';

/** Without a JWT `exp`, Codex refreshes tokens older than 8 days. */
const refreshIntervalMs = 8 * day;
/** First wait after a transient refresh failure; doubles per failure up to `maxBackoffMs`. */
const firstBackoffMs = 2_000;
const maxBackoffMs = 5 * minute;
/** A wait's timer firing later than this past its time means the process was paused. */
const pauseToleranceMs = 1_000;

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
  /** Every refresh flight, until its lock is given back (`settled`). */
  readonly #flights = new PendingWork();
  /** A permanent failure, remembered for the refresh token that caused it (as Codex does). */
  readonly #permanent = new Map<string, { refreshToken: string; error: LabError }>();
  /** A transient failure: no new request for the same refresh token before `until`. */
  readonly #transient = new Map<
    string,
    { refreshToken: string; error: LabError; failures: number; until: number }
  >();

  constructor(options: TokenManagerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'token-manager' });
    this.#fetch = options.fetch ?? outboundFetch;
    this.#marginMs = options.marginMs ?? 5 * minute;
  }

  /**
   * The profile's current credentials, refreshed first when the access token expires within the
   * margin. An early refresh (the token still valid) holds the caller only briefly: still running
   * past that, the current token goes out and the refresh lands on its own; failed, the current
   * token goes out too (Codex only logs it). A token that expires during that brief wait is an
   * expired one: the caller waits for the refresh under way as long as for one expired before.
   */
  async getCredentials(name: string): Promise<Credentials> {
    const auth = await this.#options.store.readAuth(name);
    const tokens = requireTokens(name, auth);
    // Checked on every read of the file, not only before a refresh: tokens of another account
    // are never handed out as this profile's (callers cache what this returns, not the file).
    await this.#refuseAnotherAccount(name, auth);
    const { clock } = this.#options;
    const now = clock.now();
    if (!isStale(auth, now, this.#marginMs)) return credentialsOf(auth);
    const expiresAt = accessTokenExpiry(auth);
    const flight = this.#flight(name, tokens.access_token, 'proactive');
    if (expiresAt === null || expiresAt <= now)
      return this.#waitFor(name, flight, this.#longWaitMs);
    // Still valid: the request waits only briefly for the refresh, never on a slow issuer.
    const validUntil = expiresAt;
    try {
      return await this.#waitFor(name, flight, this.#options.earlyRefreshWaitMs ?? 2_000, () => {
        // Merely slow, which is no failure: nothing for anyone to act on, so no warning.
        if (validUntil > clock.now()) {
          this.#logger.debug(
            { profile: name },
            'early refresh still running; using the current token',
          );
          return credentialsOf(auth);
        }
        // It expired while we waited: sending it would be refused, and the refresh that replaces
        // it is already running (another profile would cost the session its account).
        return this.#waitFor(name, flight, this.#longWaitMs);
      });
    } catch (error) {
      const usable = validUntil > clock.now();
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

  /** How long a caller waits for a refresh it cannot do without (`requestTimeoutMs`). */
  get #longWaitMs(): number {
    return this.#options.requestTimeoutMs ?? 30_000;
  }

  /**
   * Throws `account_mismatch` (and marks the profile so, once) when `auth`, just read from the
   * profile's file, holds another account than the registry says the name is now.
   */
  async #refuseAnotherAccount(name: string, auth: AuthDotJson): Promise<void> {
    const { store, clock } = this.#options;
    const mismatch = heldByAnotherAccount(name, await store.getProfile(name), auth);
    if (mismatch === null) return;
    const now = clock.now();
    // One read-modify-write: a mark already saying so is not written again (`markAuthError`).
    await this.#markHealth((h) => h.markAuthError(name, 'account_mismatch', mismatch.message, now));
    this.#logRethrown({ profile: name }, 'auth file holds another account than its profile');
    throw mismatch;
  }

  /**
   * Records a refresh's outcome in `state/health.json`, which is bookkeeping: a health file that
   * does not read or write (corrupt, read-only) never turns a refresh into a failure of the
   * profile's tokens. It is logged here and named where file problems are said (the router's
   * state problems, `list`), once.
   */
  async #markHealth(write: (health: HealthStore) => Promise<void>): Promise<void> {
    try {
      await write(this.#options.health);
    } catch (error) {
      if (!isLabError(error)) throw error;
      this.#logger.warn(
        { path: this.#options.paths.health, code: error.code },
        'could not save profile health',
      );
    }
  }

  /** Logs a refresh failure that is thrown to the caller too, at `rethrownFailureLevel`. */
  #logRethrown(fields: object, message: string): void {
    if (this.#options.rethrownFailureLevel === 'debug') this.#logger.debug(fields, message);
    else this.#logger.warn(fields, message);
  }

  /**
   * New credentials after the upstream answered 401 to `rejectedAccessToken`: adopts tokens another
   * process already wrote, else refreshes once.
   */
  async refreshAfterUnauthorized(name: string, rejectedAccessToken: string): Promise<Credentials> {
    return this.#refresh(name, rejectedAccessToken, 'unauthorized');
  }

  /**
   * Joins the profile's refresh in flight, or starts one; the caller waits at most `waitMs`
   * (default `requestTimeoutMs`), while the refresh itself runs on under its lock until the
   * issuer answers and the answer is on disk (later callers join it, never start a second).
   */
  #refresh(
    name: string,
    replacing: string,
    reason: RefreshReason,
    waitMs?: number,
  ): Promise<Credentials> {
    return this.#waitFor(name, this.#flight(name, replacing, reason), waitMs ?? this.#longWaitMs);
  }

  /** The profile's refresh in flight, or a new one (`#refresh` without the caller's wait). */
  #flight(name: string, replacing: string, reason: RefreshReason): Promise<Credentials> {
    let flight = this.#inFlight.get(name);
    if (flight === undefined) {
      flight = withLock(
        this.#options.paths.locksDir,
        `refresh-${name}`,
        (lease) => this.#refreshLocked(name, replacing, reason, lease),
        { warn: (message) => this.#logger.warn({ profile: name }, message) },
      ).finally(() => this.#inFlight.delete(name));
      // Its failure reaches whoever still waits; one nobody waits for any more is not unhandled.
      flight.catch(() => undefined);
      this.#inFlight.set(name, flight);
      void this.#flights.track(flight);
    }
    return flight;
  }

  /**
   * Resolves once every refresh started so far has ended, its answer on disk and its lock given
   * back: a caller may have stopped waiting for one (`waitMs`), the flight goes on regardless.
   */
  settled(): Promise<void> {
    return this.#flights.settled();
  }

  /**
   * The profile's refresh in flight (the issuer not yet answered, or its answer not yet on disk),
   * or null: a caller told "slow" may still wait for it when it has nothing else to do.
   */
  refreshInFlight(name: string): Promise<Credentials> | null {
    return this.#inFlight.get(name) ?? null;
  }

  /**
   * `flight`, or, once `waitMs` passes first (the flight goes on), what `onTimeout` gives: by
   * default a transient failure saying the issuer is slow. A timer that fires far later than asked
   * means this process did not run meanwhile (a laptop asleep, a SIGSTOP), not that the issuer is
   * slow: the answer may be waiting on the socket, so the caller gets a fresh `waitMs` instead.
   */
  #waitFor(
    name: string,
    flight: Promise<Credentials>,
    waitMs: number,
    onTimeout?: () => Credentials | Promise<Credentials>,
  ): Promise<Credentials> {
    const { clock } = this.#options;
    return new Promise<Credentials>((resolve, reject) => {
      let cancel = arm();
      function arm(): () => void {
        const due = clock.now() + waitMs;
        return clock.setTimeout(() => {
          if (clock.now() - due > pauseToleranceMs) {
            cancel = arm();
            return;
          }
          if (onTimeout !== undefined) {
            resolve(onTimeout());
            return;
          }
          reject(
            new LabError(
              'refresh_transient',
              `The issuer has not answered the token refresh of ${name} within ${Math.round(waitMs / 1000)} s; Codex Lab keeps waiting for it, so that its new tokens reach the disk.`,
              { namedProfile: name },
            ),
          );
        }, waitMs);
      }
      flight.then(
        (credentials) => {
          cancel();
          resolve(credentials);
        },
        (error: unknown) => {
          cancel();
          reject(error as Error);
        },
      );
    });
  }

  async #refreshLocked(
    name: string,
    replacing: string,
    reason: RefreshReason,
    lease: LockLease,
  ): Promise<Credentials> {
    const { store, clock } = this.#options;
    // A refresh killed between writing its answer and putting it in place, or whose write
    // failed, left the only live refresh token beside the profile (a temporary file, the
    // journal); refreshing from what the profile holds would spend a dead one.
    await store.adoptUnfinishedWrite?.(name);
    // Which account the name is comes from the registry, read now, never from what this process
    // saw under the name before: a rename, a removal or a sign-in of another account under a
    // reused name (the refresh lock held here keeps them out until this refresh is done) change
    // it, and a long-lived router must follow. What the registry does not say is a file that
    // holds another account than its profile (copied over by hand): its tokens are never spent
    // or written as that profile's.
    const disk = await store.readAuth(name);
    const tokens = requireTokens(name, disk);
    await this.#refuseAnotherAccount(name, disk);
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
    const waiting = this.#transient.get(name);
    if (waiting && waiting.refreshToken === tokens.refresh_token && clock.now() < waiting.until) {
      throw waiting.error;
    }
    // From here until the answer is on disk a kill or exit loses the account: critical work.
    return runCritical(() => this.#spend(name, disk, reason, lease));
  }

  /** Sends the refresh request for the tokens in `disk` and stores the answer. */
  async #spend(
    name: string,
    disk: AuthDotJson,
    reason: RefreshReason,
    lease: LockLease,
  ): Promise<Credentials> {
    const { store, clock } = this.#options;
    const tokens = requireTokens(name, disk);
    // Read again right before spending the token: a holder paused past the stale time may have
    // lost the lock to a process that already rotated it (then its tokens are adopted).
    const latest = await store.readAuth(name);
    if (latest.tokens?.refresh_token !== tokens.refresh_token) {
      this.#logger.warn({ profile: name, reason }, 'tokens changed on disk before the refresh');
      return credentialsOf(latest);
    }
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
        this.#options.answerTimeoutMs ?? refreshAnswerTimeoutMs,
        'refresh_transient',
      );
    } catch (error) {
      this.#logRethrown(
        { profile: name, code: isLabError(error) ? error.code : 'unknown' },
        'refresh unreachable',
      );
      if (isLabError(error)) this.#backOff(name, tokens.refresh_token, error);
      throw error;
    }
    const outcome = processRefreshAnswer(answer, name, tokens.refresh_token);
    if (!outcome.ok) {
      const { error, permanent } = outcome.failure;
      this.#logRethrown(
        { profile: name, status: answer.status, code: error.code, permanent },
        'refresh failed',
      );
      if (permanent) {
        this.#permanent.set(name, { refreshToken: tokens.refresh_token, error });
        await this.#markHealth((h) =>
          h.markAuthError(name, error.code, error.message, clock.now()),
        );
      } else {
        this.#backOff(name, tokens.refresh_token, error);
      }
      throw error;
    }
    this.#transient.delete(name);
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
    const stored = await this.#store(name, next, tokens.refresh_token, lease);
    if (stored !== next) return credentialsOf(stored);
    this.#permanent.delete(name);
    const now = clock.now();
    // Decided on the file as read under its lock: a limit mark made meanwhile stays.
    await this.#markHealth((h) => h.clearAuthError(name, now));
    this.#logger.info({ profile: name, reason }, 'access token refreshed');
    return credentialsOf(next);
  }

  /**
   * Writes refreshed tokens, unless the file no longer holds the token that was spent (the lock
   * was lost and another process wrote newer tokens: those win). A failed write keeps the tokens
   * in the profile journal and logs an error. Returns what the profile now uses.
   */
  async #store(
    name: string,
    next: AuthDotJson,
    spent: string,
    lease: LockLease,
  ): Promise<AuthDotJson> {
    const { store } = this.#options;
    // First of all, before the read below (for a keychain, a round trip as long as the write).
    await store.keepRotation?.(name, next, spent);
    try {
      const onDisk = await store.readAuth(name);
      if (onDisk.tokens?.refresh_token !== spent) {
        this.#logger.warn(
          { profile: name, compromised: lease.compromised },
          'another process refreshed these tokens meanwhile; keeping its tokens',
        );
        return onDisk;
      }
      await store.writeAuth(name, next, { lease });
      return next;
    } catch (error) {
      this.#logger.error(
        { profile: name, code: isLabError(error) ? error.code : 'unknown' },
        'could not save refreshed tokens; keeping them in the profile journal',
      );
      try {
        await store.saveRecoveredTokens?.(name, next, spent);
      } catch (saveError) {
        this.#logger.error(
          { profile: name, code: isLabError(saveError) ? saveError.code : 'unknown' },
          'could not keep the refreshed tokens anywhere; this sign-in may need to be redone',
        );
      }
      // The tokens are valid at the issuer: this process can still use them.
      return next;
    }
  }

  /** Remembers a transient failure: the same refresh token waits before it is tried again. */
  #backOff(name: string, refreshToken: string, error: LabError): void {
    const previous = this.#transient.get(name);
    const failures = previous?.refreshToken === refreshToken ? previous.failures + 1 : 1;
    const wait = Math.min(firstBackoffMs * 2 ** (failures - 1), maxBackoffMs);
    this.#transient.set(name, {
      refreshToken,
      error,
      failures,
      until: this.#options.clock.now() + wait,
    });
  }
}

/** The tokens of a ChatGPT auth file, or `not_signed_in`. */
function requireTokens(name: string, auth: AuthDotJson) {
  if (!auth.tokens) {
    throw signInAgainError('not_signed_in', name, `Profile "${name}" holds no ChatGPT tokens.`);
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
  return {
    accessToken: auth.tokens?.access_token ?? '',
    accountId: accountIdOf(auth),
    userId: userIdOf(auth),
  };
}

/** The user the tokens were issued to (decoded once per read of the file, not per turn). */
function userIdOf(auth: AuthDotJson): string | null {
  try {
    return identityFromAuth(auth).userId ?? null;
  } catch {
    return null;
  }
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
