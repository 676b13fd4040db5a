/**
 * The issuer's authorize URL, built exactly as Codex 0.171 builds it (docs/codex-0.171-notes.md
 * section 1): its parameter order, the scope joined with `+`, a 127.0.0.1 redirect URI.
 */
import { codexClientId, codexOriginator, codexScope } from './constants.ts';

/** Inputs of the authorize URL. */
export interface AuthorizeUrlInput {
  issuer: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  /** Default `codex_cli_rs`. */
  originator?: string;
  /** Restricts the sign-in to one workspace (Codex's `forced_chatgpt_workspace_id`). */
  allowedWorkspaceId?: string | null;
}

/**
 * The redirect URI for a callback port: `http://127.0.0.1:{port}/auth/callback`, as Codex 0.171
 * sends it (the callback server listens on 127.0.0.1 only).
 */
export function callbackRedirectUri(port: number): string {
  return `http://127.0.0.1:${port}/auth/callback`;
}

/**
 * `{issuer}/oauth/authorize?…` with Codex's parameters in Codex 0.171's order, each value
 * percent-encoded like `urlencoding::encode`, the scope's words joined with `+`. It carries no
 * secret.
 */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const parameters: Array<[string, string]> = [
    ['response_type', 'code'],
    ['client_id', codexClientId],
    ['redirect_uri', input.redirectUri],
    ['code_challenge', input.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['state', input.state],
    ['scope', codexScope],
    ['id_token_add_organizations', 'true'],
    ['codex_cli_simplified_flow', 'true'],
    ['originator', input.originator ?? codexOriginator],
  ];
  if (input.allowedWorkspaceId) parameters.push(['allowed_workspace_id', input.allowedWorkspaceId]);
  const query = parameters
    .map(([key, value]) =>
      key === 'scope'
        ? `${key}=${value.split(' ').map(encodeComponent).join('+')}`
        : `${key}=${encodeComponent(value)}`,
    )
    .join('&');
  return `${input.issuer}/oauth/authorize?${query}`;
}

/** RFC 3986 unreserved characters stay, everything else is percent-encoded (urlencoding's rule). */
function encodeComponent(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
