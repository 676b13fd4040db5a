/**
 * Codex's sign-in constants (docs/codex-protocol.md section 1.1): Codex Lab presents itself to
 * the issuer exactly as the Codex CLI does, so the same client id, redirect URI and originator.
 */
import { needsSignInSentence } from '../format.ts';

/** The OAuth client id Codex uses for login, refresh and revoke. */
export const codexClientId = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** Where Codex's sign-in callback goes when 1455 stays busy (the issuer allows only these two). */
export const fallbackCallbackPort = 1457;

/** The scopes Codex asks for, in its order. */
export const codexScope =
  'openid profile email offline_access api.connectors.read api.connectors.invoke';

/** The `originator` Codex sends by default. */
export const codexOriginator = 'codex_cli_rs';

/**
 * Why a refresh failed for good, by our error code (Codex's reasons, research section 2.3).
 * Codex ends these with "Please log out and sign in again", but its logout revokes the tokens:
 * our sentences say what is wrong (`refreshFailureMessage`), and the cure travels beside them as
 * the failure's `fix` (sign in again), which each surface words (the CLI's command, the card's
 * button).
 */
export const refreshFailureReasons = {
  refresh_token_expired: 'its refresh token has expired',
  refresh_token_reused: 'its refresh token was already used',
  refresh_token_invalidated: 'its refresh token was revoked',
  refresh_failed: 'its access token could not be refreshed',
} as const;

/** The one sentence for a permanent refresh failure of `profile` (what is wrong; no command). */
export function refreshFailureMessage(
  code: keyof typeof refreshFailureReasons,
  profile: string,
): string {
  return needsSignInSentence(profile, refreshFailureReasons[code]);
}

/**
 * What a profile's health mark says, under the name the profile has now: a refresh failure's
 * sentence is made again from its code, so a profile renamed after the mark (or while it was
 * kept in `health.json`) is never called by its old name. Other marks say what they were given.
 */
export function healthStatusMessage(
  profile: string,
  health: { code: string | null; message: string | null },
): string | null {
  const { code } = health;
  if (code !== null && Object.hasOwn(refreshFailureReasons, code)) {
    return refreshFailureMessage(code as keyof typeof refreshFailureReasons, profile);
  }
  return health.message;
}

/**
 * The failure codes that mean "this profile must sign in again": the issuer's three permanent
 * refresh codes, an auth file that now holds another account, and no tokens at all. Everything
 * else (timeouts, 5xx, network errors, locks, and an upstream 401 to a token the issuer has just
 * refreshed, `unauthorized`: the issuer still holds the sign-in) is transient and heals by itself;
 * it must never mark a profile `auth_error` (docs/auth.md).
 */
export const signInAgainCodes: ReadonlySet<string> = new Set([
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'refresh_failed',
  'account_mismatch',
  'not_signed_in',
]);

/**
 * True when a "needs sign-in" with `code` was about the auth file itself (missing, holding no
 * tokens, or holding another account's) rather than the tokens in it: it holds only until the
 * file holds the profile's own tokens again (put back from a backup, say), which any successful
 * use of them proves.
 */
export function curedByTokensOnDisk(code: string | null): boolean {
  return code === 'not_signed_in' || code === 'account_mismatch';
}

/**
 * True when a profile's "needs sign-in" mark no longer holds because its auth file holds its own
 * tokens again (`fileHasTokens`: tokens of the account the registry says the profile is, see
 * `heldByAnotherAccount`): the one rule the router (which then marks the profile ok) and the
 * file views (which then show it as not checked yet) both apply.
 */
export function signInMarkLifted(
  health: { status: string; code: string | null },
  fileHasTokens: boolean,
): boolean {
  return health.status === 'auth_error' && curedByTokensOnDisk(health.code) && fileHasTokens;
}

/** True when a failure with `code` lasts until the profile signs in again. */
export function needsSignInAgain(code: string): boolean {
  return signInAgainCodes.has(code);
}
