/**
 * Reads the claims Codex reads from its tokens (docs/codex-protocol.md section 3.4). Nothing is
 * verified: like Codex, we only need the identity the issuer put there, never to trust it for
 * access control.
 */
import type { AuthDotJson } from './schema.ts';

/** Who a sign-in belongs to, as decoded from its tokens. */
export interface AuthIdentity {
  /** Lower-cased email, or null when the token has none. */
  email: string | null;
  /** `chatgpt_account_id`: the workspace (personal or team) the tokens act for. */
  accountId: string | null;
  /** `chatgpt_user_id`, falling back to `user_id`. */
  userId: string | null;
  /** `chatgpt_plan_type` (free, plus, pro, team, …). */
  plan: string | null;
  /** The access token's `exp`, in Unix milliseconds. */
  accessTokenExpiresAt: number | null;
}

const authClaim = 'https://api.openai.com/auth';
const profileClaim = 'https://api.openai.com/profile';

/** Decodes a JWT's payload (base64url, no verification); null when it is not a JWT. */
export function decodeJwtClaims(jwt: string): Record<string, unknown> | null {
  if (typeof jwt !== 'string') return null;
  const parts = jwt.split('.');
  if (parts.length < 2 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return isRecord(payload) ? payload : null;
  } catch {
    return null;
  }
}

/** The identity of an auth.json: email, account, user, plan and access-token expiry. */
export function identityFromAuth(auth: AuthDotJson): AuthIdentity {
  const idClaims = auth.tokens ? decodeJwtClaims(auth.tokens.id_token) : null;
  const accessClaims = auth.tokens ? decodeJwtClaims(auth.tokens.access_token) : null;
  const idAuth = record(idClaims?.[authClaim]);
  const accessAuth = record(accessClaims?.[authClaim]);
  const email =
    text(idClaims?.['email']) ??
    text(record(idClaims?.[profileClaim])?.['email']) ??
    text(accessClaims?.['email']) ??
    text(record(accessClaims?.[profileClaim])?.['email']);
  const exp = accessClaims?.['exp'];
  return {
    email: email ? email.trim().toLowerCase() : null,
    // tokens.account_id is what Codex sends; it was copied from the same claim at sign-in.
    accountId:
      text(idAuth?.['chatgpt_account_id']) ??
      text(auth.tokens?.account_id) ??
      text(accessAuth?.['chatgpt_account_id']),
    userId:
      text(idAuth?.['chatgpt_user_id']) ??
      text(idAuth?.['user_id']) ??
      text(accessAuth?.['chatgpt_user_id']) ??
      text(accessAuth?.['user_id']),
    plan: text(idAuth?.['chatgpt_plan_type']) ?? text(accessAuth?.['chatgpt_plan_type']),
    accessTokenExpiresAt: typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown): Record<string, unknown> | null {
  return isRecord(value) ? value : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
