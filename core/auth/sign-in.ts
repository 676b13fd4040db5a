/**
 * What every sign-in flow does once it holds an authorization code: exchange it, optionally
 * exchange the id_token for an API key, build Codex's `auth.json`, and save it as a profile. A
 * sign-in never touches any other profile's tokens (unlike newer Codex, which revokes the previous
 * login: research section 1.8).
 */
import { isLabError, LabError, type ErrorCode } from '../errors.ts';
import { withoutSentenceEnd } from '../format.ts';
import type { LabPaths } from '../home/paths.ts';
import { minute, second, type Clock, type Logger } from '../ports.ts';
import { identityFromAuth } from '../profiles/jwt.ts';
import type { AuthDotJson, StoreKind } from '../profiles/schema.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import { readNewProfileName } from '../profiles/names.ts';
import { sendRequest, type FetchLike } from './http.ts';
import { revokeProfileTokens } from './revoke.ts';
import {
  buildApiKeyExchangeRequest,
  buildAuthorizationCodeRequest,
  processApiKeyExchangeAnswer,
  processAuthorizationCodeAnswer,
  type SignInTokens,
} from './token-endpoint.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** The part of the profile store a sign-in needs. */
export interface SignInStore {
  saveSignIn(input: {
    auth: AuthDotJson;
    requestedName?: string | null;
    store?: StoreKind;
  }): Promise<{ name: string; created: boolean; setAside?: string }>;
}

/** What a finished sign-in saved. */
export interface SignInResult {
  /** The profile name the tokens were saved under. */
  name: string;
  /** False when an existing profile of the same account was re-authenticated in place. */
  created: boolean;
  email: string | null;
  plan: string | null;
  accountId: string | null;
  /**
   * Where the profile's auth file that could not be read was kept (renamed beside it) before the
   * fresh tokens took its place; null when there was none.
   */
  setAside: string | null;
}

/** Effects and settings shared by the browser and device-code flows. */
export interface SignInEnvironment {
  paths: LabPaths;
  issuer: string;
  clock: Clock;
  logger: Logger;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Default: the profile store from `createProfileStore` on `paths`. */
  profiles?: SignInStore;
  /** Where to keep the tokens (file or OS keyring). Default: the store's default. */
  store?: StoreKind;
}

/**
 * A sign-in's time limit in words, as the user gave it (`10 minutes`, `90 seconds`, `1 second`):
 * the browser and device-code flows both say how long they waited with it.
 */
export function describeSignInLimit(ms: number): string {
  if (ms % minute === 0) return `${ms / minute} minute${ms === minute ? '' : 's'}`;
  const seconds = Math.round(ms / second);
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/**
 * The failures a sign-in started again can cure: declined or interrupted at the issuer, the code
 * refused or unreachable, too slow. Others carry their own cure in their sentence (a name taken, a
 * workspace without Codex) or were the user's choice (cancelled).
 */
const retryableSignInFailures: ReadonlySet<ErrorCode> = new Set([
  'auth_denied',
  'auth_missing_code',
  'auth_timeout',
  'token_exchange_failed',
  'io_error',
]);

/**
 * `error` with the fix "start this sign-in again" beside its sentence when starting again cures it,
 * so each surface says how in its own way (the CLI its command, the dashboard its Try again, the
 * browser's page where to go back to); the sentence itself names no command.
 */
export function withRetryFix(
  error: LabError,
  requestedName: string | null,
  method: 'browser' | 'device',
): LabError {
  // A sign-in kept in the journal is saved by the next command: signing in again is not the cure.
  if (
    error.fix !== undefined ||
    !retryableSignInFailures.has(error.code) ||
    error.details?.['kept'] === true
  ) {
    return error;
  }
  return new LabError(error.code, error.message, {
    cause: error.cause,
    ...(error.details === undefined ? {} : { details: { ...error.details } }),
    fix: { action: 'retry_sign_in', name: requestedName, method },
  });
}

/** Token-endpoint requests give up after this long. */
export const tokenRequestTimeoutMs = 30_000;

/**
 * The name a sign-in asked for as it will be saved (read by the names rule: `WORK` is `work`), or
 * null for none. Throws `invalid_name` when it could never be saved (bad shape, too long,
 * reserved), before the user is sent through a sign-in that would then be thrown away. Uses the
 * store's own check, so both give the same message.
 */
export function readRequestedName(name: string | null | undefined): string | null {
  return name === null || name === undefined ? null : readNewProfileName(name, []);
}

/** Exchanges an authorization code for tokens (research section 1.5). */
export async function exchangeAuthorizationCode(
  environment: SignInEnvironment,
  input: { code: string; redirectUri: string; codeVerifier: string },
): Promise<SignInTokens> {
  const fetch = environment.fetch ?? outboundFetch;
  const answer = await sendRequest(
    fetch,
    buildAuthorizationCodeRequest({ issuer: environment.issuer, ...input }),
    tokenRequestTimeoutMs,
    'token_exchange_failed',
  );
  return processAuthorizationCodeAnswer(answer);
}

/** The optional API-key exchange (research section 1.6); any failure yields null. */
export async function obtainApiKey(
  environment: SignInEnvironment,
  idToken: string,
): Promise<string | null> {
  const fetch = environment.fetch ?? outboundFetch;
  try {
    const answer = await sendRequest(
      fetch,
      buildApiKeyExchangeRequest({ issuer: environment.issuer, idToken }),
      tokenRequestTimeoutMs,
      'token_exchange_failed',
    );
    const key = processApiKeyExchangeAnswer(answer);
    if (key === null)
      environment.logger.debug({ status: answer.status }, 'API-key exchange declined');
    return key;
  } catch {
    environment.logger.debug({}, 'API-key exchange unreachable; continuing without an API key');
    return null;
  }
}

/** Codex's `auth.json` for fresh sign-in tokens (research section 3.2). */
export function buildSignInAuth(
  tokens: SignInTokens,
  apiKey: string | null,
  now: number,
): AuthDotJson {
  const base: AuthDotJson = {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: apiKey,
    tokens: {
      id_token: tokens.idToken,
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      account_id: null,
    },
    last_refresh: new Date(now).toISOString(),
  };
  const identity = identityFromAuth(base);
  if (base.tokens) base.tokens.account_id = identity.accountId ?? null;
  return base;
}

/**
 * Saves fresh tokens as a profile (the store re-authenticates the same account in place and
 * clears its "needs sign-in" mark). Nothing else is touched. Tokens that could be neither saved
 * nor kept (`revokeUnsaved`) are revoked at the issuer, never left live and unknown.
 */
export async function saveSignIn(
  environment: SignInEnvironment,
  tokens: SignInTokens,
  apiKey: string | null,
  requestedName: string | null,
): Promise<SignInResult> {
  const auth = buildSignInAuth(tokens, apiKey, environment.clock.now());
  const identity = identityFromAuth(auth);
  const profiles =
    environment.profiles ??
    createProfileStore({ paths: environment.paths, logger: environment.logger });
  const saved = await profiles
    .saveSignIn({
      auth,
      requestedName,
      ...(environment.store === undefined ? {} : { store: environment.store }),
    })
    .catch((error: unknown) => revokeUnsaved(environment, auth, error));
  environment.logger.info(
    { profile: saved.name, created: saved.created, plan: identity.plan ?? null },
    'signed in',
  );
  return {
    name: saved.name,
    created: saved.created,
    email: identity.email ?? null,
    plan: identity.plan ?? null,
    accountId: identity.accountId ?? null,
    setAside: saved.setAside ?? null,
  };
}

/**
 * After a save that failed before writing anything (`io_error` with `details.nothingWritten`: a
 * folder it writes in cannot be written) and could not keep the sign-in in the journal either (a
 * kept one carries `details.kept`): the tokens exist only in this process, so they are revoked at
 * the issuer rather than dropped live, and the error says so. Other failures (a name
 * refused, another account's profile) are thrown as they are. Always throws.
 */
async function revokeUnsaved(
  environment: SignInEnvironment,
  auth: AuthDotJson,
  error: unknown,
): Promise<never> {
  // Only tokens written nowhere are revoked: a write that failed half way (the auth file written,
  // the registry not) may have left them as the profile's only sign-in.
  if (
    !isLabError(error) ||
    error.code !== 'io_error' ||
    error.details?.['kept'] === true ||
    error.details?.['nothingWritten'] !== true
  ) {
    throw error;
  }
  const outcome = await revokeProfileTokens(
    environment.issuer,
    auth,
    environment.fetch ?? outboundFetch,
  );
  environment.logger.warn({ outcome }, 'a sign-in that could not be saved or kept was revoked');
  const what =
    outcome === 'revoked'
      ? 'so it was revoked at the issuer (nothing stays signed in unseen)'
      : 'and the issuer did not confirm revoking it (its tokens expire on their own)';
  throw new LabError(
    'io_error',
    `The sign-in could not be saved or kept (${withoutSentenceEnd(error.message)}), ${what}: fix that, then sign in again.`,
    { cause: error, ...(error.details === undefined ? {} : { details: { ...error.details } }) },
  );
}
