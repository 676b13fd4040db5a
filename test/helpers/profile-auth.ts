/**
 * Builds Codex-shaped auth.json values for profile tests, with planted token strings that tests
 * search every output for.
 */
import { makeJwt } from '../fakes/jwt.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';

/** Who a test sign-in belongs to. */
export interface TestAccount {
  email: string;
  accountId: string;
  plan?: string;
  userId?: string;
  /** Distinguishes two sign-ins of one account (fresh tokens; a later one signed in later). */
  generation?: number;
}

/** The refresh token planted for an account and generation (never printed by anything). */
export function plantedRefreshToken(account: TestAccount): string {
  return `rt-PLANTED-${account.accountId}-${account.generation ?? 1}-SECRET`;
}

/** An auth.json for `account`, as Codex would have written it after sign-in. */
export function makeAuth(account: TestAccount): AuthDotJson {
  const auth = {
    chatgpt_account_id: account.accountId,
    chatgpt_plan_type: account.plan ?? 'plus',
    chatgpt_user_id: account.userId ?? `user-${account.accountId}`,
  };
  return {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: {
      id_token: makeJwt({ email: account.email, 'https://api.openai.com/auth': auth }),
      access_token: makeJwt({
        exp: 2_000_000_000 + (account.generation ?? 1),
        'https://api.openai.com/auth': auth,
        marker: `at-PLANTED-${account.accountId}-${account.generation ?? 1}`,
      }),
      refresh_token: plantedRefreshToken(account),
      account_id: account.accountId,
    },
    last_refresh: new Date(
      Date.parse('2026-01-01T00:00:00.000Z') + ((account.generation ?? 1) - 1) * 1000,
    ).toISOString(),
  };
}

/** Every secret string in `auth` (the three tokens), for leak checks. */
export function secretsOf(auth: AuthDotJson): string[] {
  if (!auth.tokens) return [];
  const { id_token, access_token, refresh_token } = auth.tokens;
  // Also each JWT's signature and payload alone: a partial leak is still a leak.
  const parts = [id_token, access_token].flatMap((jwt) => jwt.split('.').slice(1));
  return [id_token, access_token, refresh_token, ...parts];
}
