/**
 * Codex's sign-in constants (research/codex-protocol.md section 1.1): Codex Lab presents itself to
 * the issuer exactly as the Codex CLI does, so the same client id, redirect URI and originator.
 */

/** The OAuth client id Codex uses for login, refresh and revoke. */
export const codexClientId = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** Where Codex's sign-in callback goes when 1455 stays busy (the issuer allows only these two). */
export const fallbackCallbackPort = 1457;

/** The scopes Codex asks for, in its order. */
export const codexScope =
  'openid profile email offline_access api.connectors.read api.connectors.invoke';

/** The `originator` Codex sends by default. */
export const codexOriginator = 'codex_cli_rs';

/** The user-facing messages Codex shows for refresh failures (section 2.3), by our error code. */
export const refreshFailureMessages = {
  refresh_token_expired:
    'Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.',
  refresh_token_reused:
    'Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.',
  refresh_token_invalidated:
    'Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.',
  refresh_failed: 'Your access token could not be refreshed. Please log out and sign in again.',
  account_mismatch:
    'Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.',
} as const;
