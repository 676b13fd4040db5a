import { describe, expect, it } from 'vitest';
import { decodeJwtClaims, identityFromAuth } from '../../../core/profiles/jwt.ts';
import { makeJwt } from '../../fakes/jwt.ts';

const tokens = (id: Record<string, unknown>, access: Record<string, unknown>) => ({
  OPENAI_API_KEY: null,
  tokens: { id_token: makeJwt(id), access_token: makeJwt(access), refresh_token: 'rt' },
});

describe('decodeJwtClaims', () => {
  it('decodes a base64url payload without verifying', () => {
    expect(decodeJwtClaims(makeJwt({ email: 'a@b.c', n: 1 }))).toEqual({ email: 'a@b.c', n: 1 });
  });
  it('returns null for strings that are not JWTs', () => {
    expect(decodeJwtClaims('not-a-jwt')).toBeNull();
    expect(decodeJwtClaims('a.%%%.c')).toBeNull();
    expect(decodeJwtClaims(`x.${Buffer.from('[1]').toString('base64url')}.y`)).toBeNull();
  });
});

describe('identityFromAuth', () => {
  it('reads email, account, user, plan and access-token expiry', () => {
    const identity = identityFromAuth(
      tokens(
        {
          email: 'Alice@Example.com',
          'https://api.openai.com/auth': {
            chatgpt_account_id: 'acct-1',
            chatgpt_user_id: 'user-1',
            chatgpt_plan_type: 'pro',
          },
        },
        { exp: 1_800_000_000 },
      ),
    );
    expect(identity).toEqual({
      email: 'alice@example.com',
      accountId: 'acct-1',
      userId: 'user-1',
      plan: 'pro',
      accessTokenExpiresAt: 1_800_000_000_000,
    });
  });

  it('falls back to the profile email claim, user_id and the access token plan', () => {
    const identity = identityFromAuth(
      tokens(
        {
          'https://api.openai.com/profile': { email: 'bob@example.com' },
          'https://api.openai.com/auth': { chatgpt_account_id: 'acct-2', user_id: 'u-2' },
        },
        { 'https://api.openai.com/auth': { chatgpt_plan_type: 'team' } },
      ),
    );
    expect(identity.email).toBe('bob@example.com');
    expect(identity.userId).toBe('u-2');
    expect(identity.plan).toBe('team');
    expect(identity.accessTokenExpiresAt).toBeNull();
  });

  it('has no identity without tokens', () => {
    expect(identityFromAuth({ OPENAI_API_KEY: 'sk-x' })).toEqual({
      email: null,
      accountId: null,
      userId: null,
      plan: null,
      accessTokenExpiresAt: null,
    });
  });
});
