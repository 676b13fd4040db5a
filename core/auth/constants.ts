/**
 * Codex's sign-in constants (research/codex-protocol.md section 1.1): Codex Lab presents itself to
 * the issuer exactly as the Codex CLI does, so the same client id, redirect URI and originator.
 */

/** The OAuth client id Codex uses for login, refresh and revoke. */
export const codexClientId = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** The upstream base when `CODEX_LAB_CHATGPT_BASE_URL` is not set (Codex's `chatgpt_base_url`). */
export const defaultChatGptBaseUrl = 'https://chatgpt.com/backend-api';

/** The issuer when `CODEX_LAB_AUTH_ISSUER` is not set. */
export const defaultIssuer = 'https://auth.openai.com';

/** The loopback callback port when `CODEX_LAB_CALLBACK_PORT` is not set. */
export const defaultCallbackPort = 1455;

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

/** Reads the issuer from the environment (`CODEX_LAB_AUTH_ISSUER`), without a trailing slash. */
export function resolveIssuer(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['CODEX_LAB_AUTH_ISSUER']?.trim();
  return (configured && configured !== '' ? configured : defaultIssuer).replace(/\/+$/, '');
}

/**
 * Reads the ChatGPT backend base URL from the environment (`CODEX_LAB_CHATGPT_BASE_URL`), without
 * a trailing slash.
 */
export function resolveChatGptBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['CODEX_LAB_CHATGPT_BASE_URL']?.trim();
  return (configured && configured !== '' ? configured : defaultChatGptBaseUrl).replace(/\/+$/, '');
}

/**
 * Reads the callback port from the environment (`CODEX_LAB_CALLBACK_PORT`; `0` picks a free one).
 * Returns undefined for a value that is not a port, so the caller can report it.
 */
export function resolveCallbackPort(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const configured = env['CODEX_LAB_CALLBACK_PORT']?.trim();
  if (!configured) return defaultCallbackPort;
  if (!/^\d{1,5}$/.test(configured)) return undefined;
  const port = Number(configured);
  return port <= 65_535 ? port : undefined;
}
