/** The issuer's authorize URL, built exactly as Codex builds it (research section 1.2). */
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

/** The redirect URI for a callback port: `http://localhost:{port}/auth/callback`. */
export function callbackRedirectUri(port: number): string {
  return `http://localhost:${port}/auth/callback`;
}

/**
 * `{issuer}/oauth/authorize?…` with Codex's parameters in Codex's order, each value
 * percent-encoded like `urlencoding::encode` (spaces as `%20`). It carries no secret.
 */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const parameters: Array<[string, string]> = [
    ['response_type', 'code'],
    ['client_id', codexClientId],
    ['redirect_uri', input.redirectUri],
    ['scope', codexScope],
    ['code_challenge', input.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['id_token_add_organizations', 'true'],
    ['codex_cli_simplified_flow', 'true'],
    ['state', input.state],
    ['originator', input.originator ?? codexOriginator],
  ];
  if (input.allowedWorkspaceId) parameters.push(['allowed_workspace_id', input.allowedWorkspaceId]);
  const query = parameters.map(([key, value]) => `${key}=${encodeComponent(value)}`).join('&');
  return `${input.issuer}/oauth/authorize?${query}`;
}

/** RFC 3986 unreserved characters stay, everything else is percent-encoded (urlencoding's rule). */
function encodeComponent(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
