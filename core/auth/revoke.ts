/**
 * Revoking a profile's tokens at the issuer (research section 9.3), for `remove --revoke`: best
 * effort, 10 s, JSON body; the refresh token with its hint and client id, else the access token.
 */
import { LabError } from '../errors.ts';
import type { AuthDotJson } from '../profiles/schema.ts';
import { codexClientId } from './constants.ts';
import { sendRequest, type FetchLike, type HttpRequest } from './http.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** How revoking ended: never an error, since removing a profile must not depend on the network. */
export type RevokeOutcome = 'revoked' | 'skipped' | 'failed';

/** The revoke request for an auth file, or null when there is nothing to revoke (not ChatGPT auth). */
export function buildRevokeRequest(issuer: string, auth: AuthDotJson): HttpRequest | null {
  const mode = auth.auth_mode ?? (auth.OPENAI_API_KEY ? 'apikey' : 'chatgpt');
  if (mode !== 'chatgpt' || !auth.tokens) return null;
  const body = auth.tokens.refresh_token
    ? {
        token: auth.tokens.refresh_token,
        token_type_hint: 'refresh_token',
        client_id: codexClientId,
      }
    : { token: auth.tokens.access_token, token_type_hint: 'access_token' };
  return {
    url: `${issuer}/oauth/revoke`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  };
}

/**
 * Revokes the profile's tokens at `issuer` (`CODEX_LAB_AUTH_ISSUER`, from `core/config`). Never
 * throws; the outcome says whether the issuer accepted it.
 */
export async function revokeProfileTokens(
  issuer: string,
  auth: AuthDotJson,
  fetch: FetchLike = outboundFetch,
): Promise<RevokeOutcome> {
  const request = buildRevokeRequest(issuer, auth);
  if (!request) return 'skipped';
  try {
    const answer = await sendRequest(fetch, request, 10_000, 'upstream_unreachable');
    return answer.status >= 200 && answer.status < 300 ? 'revoked' : 'failed';
  } catch {
    return 'failed';
  }
}

/**
 * What `remove --revoke` does with the outcome, in one place for every surface: a revoke the
 * issuer did not confirm keeps the profile (its refresh token may still work, and removing it
 * would leave no way to try again) unless `force`. Returns the words for the removal message.
 */
export function revokeVerdict(outcome: RevokeOutcome, profile: string, force: boolean): string {
  if (outcome === 'revoked') return 'its tokens were revoked at the issuer';
  if (outcome === 'skipped') return 'it had no ChatGPT tokens to revoke';
  if (!force) {
    throw new LabError(
      'upstream_error',
      `The issuer did not confirm revoking ${profile}'s tokens, so ${profile} was kept: try again later, or remove it anyway with --force (its tokens then expire on their own).`,
    );
  }
  return 'the issuer did not confirm the revoke; its tokens expire on their own';
}
