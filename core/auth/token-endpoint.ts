/**
 * Requests to the issuer's token endpoint, each as a pure "build request" function and a pure
 * "process answer" function (docs/codex-protocol.md sections 1.5, 1.6, 2.1 and 2.3).
 */
import { LabError, signInAgainError } from '../errors.ts';
import { scrubSecrets } from '../redact.ts';
import { codexClientHeaders } from './codex-identity.ts';
import { codexClientId, refreshFailureMessage } from './constants.ts';
import { formBody, parseJsonBody, type HttpAnswer, type HttpRequest } from './http.ts';

/** The three tokens a sign-in yields. */
export interface SignInTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
}

/** What a successful refresh returns: only the fields present replace the stored ones. */
export interface RefreshedTokens {
  idToken: string | undefined;
  accessToken: string | undefined;
  refreshToken: string | undefined;
}

/** `{issuer}/oauth/token`. */
export function tokenEndpoint(issuer: string): string {
  return `${issuer}/oauth/token`;
}

/** A form-encoded POST to the token endpoint with `fields` in the given order. */
function formTokenRequest(issuer: string, fields: Array<[string, string]>): HttpRequest {
  return {
    url: tokenEndpoint(issuer),
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: formBody(fields),
  };
}

/** The authorization-code exchange, form-encoded, in Codex's field order (section 1.5). */
export function buildAuthorizationCodeRequest(input: {
  issuer: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
}): HttpRequest {
  return formTokenRequest(input.issuer, [
    ['grant_type', 'authorization_code'],
    ['code', input.code],
    ['redirect_uri', input.redirectUri],
    ['client_id', codexClientId],
    ['code_verifier', input.codeVerifier],
  ]);
}

/**
 * Reads the code exchange's answer: all three tokens are required. A failure becomes
 * `token_exchange_failed` with Codex's wording ("token endpoint returned status …: detail").
 */
export function processAuthorizationCodeAnswer(answer: HttpAnswer): SignInTokens {
  const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
  if (answer.status < 200 || answer.status >= 300) {
    throw new LabError(
      'token_exchange_failed',
      `Sign-in failed: token endpoint returned status ${answer.status}: ${tokenErrorDetail(answer)}.`,
      { details: { status: answer.status } },
    );
  }
  const idToken = json?.['id_token'];
  const accessToken = json?.['access_token'];
  const refreshToken = json?.['refresh_token'];
  if (
    typeof idToken !== 'string' ||
    typeof accessToken !== 'string' ||
    typeof refreshToken !== 'string'
  ) {
    throw new LabError(
      'token_exchange_failed',
      'Sign-in failed: the token endpoint answer lacks an id, access or refresh token.',
    );
  }
  return { idToken, accessToken, refreshToken };
}

/** The optional exchange of the id_token for an API key (section 1.6), form-encoded. */
export function buildApiKeyExchangeRequest(input: {
  issuer: string;
  idToken: string;
}): HttpRequest {
  return formTokenRequest(input.issuer, [
    ['grant_type', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    ['client_id', codexClientId],
    ['requested_token', 'openai-api-key'],
    ['subject_token', input.idToken],
    ['subject_token_type', 'urn:ietf:params:oauth:token-type:id_token'],
  ]);
}

/** The API key from a token-exchange answer, or null (failures are ignored, as Codex does). */
export function processApiKeyExchangeAnswer(answer: HttpAnswer): string | null {
  if (answer.status < 200 || answer.status >= 300) return null;
  const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
  const key = json?.['access_token'];
  return typeof key === 'string' && key !== '' ? key : null;
}

/**
 * Why a refresh happens, as Codex 0.171 says it in `refresh_reason`: `unauthorized_recovery` after
 * a 401, `scheduled` for a token about to expire.
 */
export type RefreshReason = 'unauthorized_recovery' | 'scheduled';

/**
 * The refresh request exactly as Codex 0.171 sends it (docs/codex-0.171-notes.md section 1):
 * JSON with `client_id, grant_type, refresh_reason, refresh_token`, no scope, Codex's headers.
 */
export function buildRefreshRequest(input: {
  issuer: string;
  refreshToken: string;
  reason: RefreshReason;
}): HttpRequest {
  return {
    url: tokenEndpoint(input.issuer),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...codexClientHeaders('application/json') },
    body: JSON.stringify({
      client_id: codexClientId,
      grant_type: 'refresh_token',
      refresh_reason: input.reason,
      refresh_token: input.refreshToken,
    }),
  };
}

/** A classified refresh failure: the error to raise and whether it lasts until a new sign-in. */
export interface RefreshFailure {
  error: LabError;
  /** True when retrying with the same refresh token cannot succeed (mark the profile auth_error). */
  permanent: boolean;
}

/**
 * Reads a refresh answer. Success yields the fields present; a failure is classified as Codex does
 * (section 2.3): only the three known codes are permanent, with Codex's exact message; anything
 * else is `refresh_transient` (retried with backoff, heals by itself).
 */
export function processRefreshAnswer(
  answer: HttpAnswer,
  profile: string,
  sentRefreshToken?: string,
): { ok: true; tokens: RefreshedTokens } | { ok: false; failure: RefreshFailure } {
  const fail = (permanent: boolean, error: LabError) =>
    ({ ok: false, failure: { permanent, error } }) as const;
  if (answer.status >= 200 && answer.status < 300) {
    const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
    if (json === undefined || typeof json !== 'object' || json === null) {
      return fail(
        false,
        new LabError(
          'refresh_transient',
          `Failed to refresh token: ${answer.status}: the answer was not JSON. Try again in a moment.`,
        ),
      );
    }
    const pick = (key: string) =>
      typeof json[key] === 'string' ? (json[key] as string) : undefined;
    return {
      ok: true,
      tokens: {
        idToken: pick('id_token'),
        accessToken: pick('access_token'),
        refreshToken: pick('refresh_token'),
      },
    };
  }
  const code = refreshErrorCode(answer.body);
  if (
    code === 'refresh_token_expired' ||
    code === 'refresh_token_reused' ||
    code === 'refresh_token_invalidated'
  ) {
    return fail(true, signInAgainError(code, profile, refreshFailureMessage(code, profile)));
  }
  // Anything else (a 5xx, a 401 without one of those codes, a proxy's error page) says nothing
  // about the refresh token: retry with backoff, never "sign in again" (docs/auth.md).
  return fail(
    false,
    new LabError(
      'refresh_transient',
      `Failed to refresh token: ${answer.status}: ${tokenErrorDetail(answer, sentRefreshToken === undefined ? [] : [sentRefreshToken])}. Try again in a moment.`,
      { details: { status: answer.status } },
    ),
  );
}

/**
 * The error code in a token-endpoint error body: `error.code`, else `error` as a string, else a
 * top-level `code`, lowercased (Codex's `extract_refresh_token_error_code`).
 */
export function refreshErrorCode(body: string): string | null {
  const json = parseJsonBody(body) as Record<string, unknown> | undefined;
  if (!json || typeof json !== 'object') return null;
  const error = json['error'];
  if (error && typeof error === 'object') {
    const code = (error as Record<string, unknown>)['code'];
    if (typeof code === 'string') return code.toLowerCase();
  }
  if (typeof error === 'string') return error.toLowerCase();
  const code = json['code'];
  return typeof code === 'string' ? code.toLowerCase() : null;
}

/**
 * A token-endpoint failure's detail as Codex picks it: `error_description`, `error.message`,
 * `error` (string) or `error.code`, else the raw body when it is not JSON — cut short and with
 * anything token-shaped scrubbed, since it is shown to the user. A JSON body with none of those
 * fields is never quoted: it could echo the tokens that were sent. `secrets` (the token the request
 * carried) are scrubbed wherever they appear, since an opaque token has no shape to match.
 */
export function tokenErrorDetail(answer: HttpAnswer, secrets: readonly string[] = []): string {
  const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
  let detail: string | undefined;
  if (json && typeof json === 'object') {
    detail = '';
    const error = json['error'];
    const description = json['error_description'];
    if (typeof description === 'string') detail = description;
    else if (error && typeof error === 'object') {
      const record = error as Record<string, unknown>;
      if (typeof record['message'] === 'string') detail = record['message'];
      else if (typeof record['code'] === 'string') detail = record['code'];
    } else if (typeof error === 'string') detail = error;
  }
  // Without its closing full stop: every caller ends the sentence it goes into itself.
  const text =
    scrubSecrets((detail ?? answer.body).trim(), secrets).replace(/[\s.]+$/, '') || 'no detail';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
