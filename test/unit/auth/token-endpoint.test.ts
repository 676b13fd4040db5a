import { describe, expect, it } from 'vitest';
import { buildAuthorizeUrl, callbackRedirectUri } from '../../../core/auth/authorize-url.ts';
import {
  processDeviceTokenAnswer,
  processUserCodeAnswer,
} from '../../../core/auth/device-login.ts';
import { createPkcePair, createState } from '../../../core/auth/pkce.ts';
import { buildRevokeRequest } from '../../../core/auth/revoke.ts';
import {
  buildAuthorizationCodeRequest,
  buildRefreshRequest,
  processAuthorizationCodeAnswer,
  processRefreshAnswer,
  refreshErrorCode,
  tokenErrorDetail,
} from '../../../core/auth/token-endpoint.ts';
import { isStale } from '../../../core/auth/token-manager.ts';
import { createHash } from 'node:crypto';

const jwt = (claims: object) =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('authorize URL', () => {
  it("matches Codex's URL byte for byte", () => {
    expect(
      buildAuthorizeUrl({
        issuer: 'https://auth.openai.com',
        redirectUri: callbackRedirectUri(1455),
        codeChallenge: 'CHALLENGE',
        state: 'STATE',
      }),
    ).toBe(
      'https://auth.openai.com/oauth/authorize?response_type=code&client_id=app_EMoamEEZ73f0CkXaXp7hrann' +
        '&redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback' +
        '&code_challenge=CHALLENGE&code_challenge_method=S256&state=STATE' +
        '&scope=openid+profile+email+offline_access+api.connectors.read+api.connectors.invoke' +
        '&id_token_add_organizations=true&codex_cli_simplified_flow=true&originator=codex_cli_rs',
    );
  });
});

describe('PKCE', () => {
  it('makes an 86-character verifier, its S256 challenge, and a 43-character state', async () => {
    const pair = await createPkcePair();
    expect(pair.codeVerifier).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(pair.codeChallenge).toBe(
      createHash('sha256').update(pair.codeVerifier).digest('base64url'),
    );
    expect(createState()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createState()).not.toBe(createState());
  });
});

describe('token endpoint', () => {
  it('builds the code exchange form-encoded in Codex order', () => {
    const request = buildAuthorizationCodeRequest({
      issuer: 'https://issuer.test',
      code: 'c o',
      redirectUri: 'http://localhost:1455/auth/callback',
      codeVerifier: 'v',
    });
    expect(request.url).toBe('https://issuer.test/oauth/token');
    expect(request.body).toBe(
      'grant_type=authorization_code&code=c+o&redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback&client_id=app_EMoamEEZ73f0CkXaXp7hrann&code_verifier=v',
    );
  });

  it('requires all three tokens and words failures as Codex does', () => {
    expect(() =>
      processAuthorizationCodeAnswer({ status: 200, body: '{"id_token":"a","access_token":"b"}' }),
    ).toThrow(/lacks/);
    expect(() =>
      processAuthorizationCodeAnswer({
        status: 400,
        body: '{"error":"invalid_grant","error_description":"bad code"}',
      }),
    ).toThrow('token endpoint returned status 400: bad code');
    // An issuer's detail that ends its own sentence does not end ours twice.
    expect(() =>
      processAuthorizationCodeAnswer({
        status: 400,
        body: '{"error":"invalid_grant","error_description":"Invalid or already used code."}',
      }),
    ).toThrow(
      /^Sign-in failed: token endpoint returned status 400: Invalid or already used code\.$/,
    );
  });

  it('builds the refresh request as Codex 0.171 does: JSON with refresh_reason, no scope, Codex headers', () => {
    const request = buildRefreshRequest({
      issuer: 'https://issuer.test',
      refreshToken: 'rt',
      reason: 'unauthorized_recovery',
    });
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['originator']).toBe('codex_cli_rs');
    expect(request.headers['user-agent']).toMatch(/^codex_cli_rs\/0\.171\.0 \(/);
    expect(request.body).toBe(
      '{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann","grant_type":"refresh_token","refresh_reason":"unauthorized_recovery","refresh_token":"rt"}',
    );
    const scheduled = buildRefreshRequest({
      issuer: 'https://issuer.test',
      refreshToken: 'rt',
      reason: 'scheduled',
    });
    expect(JSON.parse(scheduled.body!).refresh_reason).toBe('scheduled');
  });

  it('classifies refresh failures as Codex does', () => {
    const classify = (status: number, body: unknown) => {
      const outcome = processRefreshAnswer({ status, body: JSON.stringify(body) }, 'work');
      if (outcome.ok) throw new Error('expected a failure');
      return {
        code: outcome.failure.error.code,
        permanent: outcome.failure.permanent,
        message: outcome.failure.error.message,
        fix: outcome.failure.error.fix,
      };
    };
    // What is wrong in the sentence; the fix beside it, for each surface to say its own way.
    expect(classify(401, { error: { code: 'refresh_token_reused', message: 'x' } })).toEqual({
      code: 'refresh_token_reused',
      permanent: true,
      message: 'work needs a new sign-in (its refresh token was already used).',
      fix: { action: 'sign_in', profiles: ['work'] },
    });
    expect(classify(400, { error: 'REFRESH_TOKEN_EXPIRED' })).toMatchObject({
      code: 'refresh_token_expired',
      permanent: true,
    });
    expect(classify(401, { code: 'refresh_token_invalidated' })).toMatchObject({
      code: 'refresh_token_invalidated',
    });
    // A 401 without one of the three codes says nothing about the refresh token itself.
    expect(classify(401, { error: 'whatever' })).toMatchObject({
      code: 'refresh_transient',
      permanent: false,
    });
    expect(classify(500, { error: { message: 'boom' } })).toMatchObject({
      code: 'refresh_transient',
      permanent: false,
      message: 'Failed to refresh token: 500: boom. Try again in a moment.',
    });
  });

  it('keeps only the fields a refresh returned', () => {
    expect(processRefreshAnswer({ status: 200, body: '{"access_token":"a"}' }, 'work')).toEqual({
      ok: true,
      tokens: { idToken: undefined, accessToken: 'a', refreshToken: undefined },
    });
  });

  it('reads error codes and details in Codex order', () => {
    expect(refreshErrorCode('not json')).toBeNull();
    expect(tokenErrorDetail({ status: 500, body: 'plain text' })).toBe('plain text');
    expect(tokenErrorDetail({ status: 500, body: '{"error":{"code":"c"}}' })).toBe('c');
  });

  it('never quotes a token an upstream error body echoes', () => {
    const accessToken = jwt({ sub: 'planted' });
    const echoed = JSON.stringify({
      refresh_token: 'rt_planted_secret',
      access_token: accessToken,
    });
    expect(tokenErrorDetail({ status: 500, body: echoed })).toBe('no detail');
    const text = `upstream said: Bearer rt_planted_secret and ${accessToken}`;
    const detail = tokenErrorDetail({ status: 502, body: text });
    expect(detail).not.toContain('rt_planted_secret');
    expect(detail).not.toContain(accessToken);
    expect(detail).toBe('upstream said: Bearer [redacted] and [redacted]');
    const described = tokenErrorDetail({
      status: 400,
      body: JSON.stringify({ error_description: `bad token ${accessToken}` }),
    });
    expect(described).toBe('bad token [redacted]');
  });

  it('never quotes an opaque refresh token from a page that echoes the refused request', () => {
    const opaque = 'v1.MzI4NjQ5ODc2NTQzMjE0NjU0Nzg5';
    for (const body of [
      `<html><pre>grant_type=refresh_token&refresh_token=${opaque}&client_id=app</pre></html>`,
      `proxy error; request was {"refresh_token": "${opaque}"}`,
      `refused token ${opaque} (bad gateway)`,
    ]) {
      const outcome = processRefreshAnswer({ status: 502, body }, 'work', opaque);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) continue;
      expect(outcome.failure.error.code).toBe('refresh_transient');
      expect(outcome.failure.error.message).not.toContain(opaque);
      expect(outcome.failure.error.message).toContain('[redacted]');
    }
    expect(tokenErrorDetail({ status: 400, body: 'access_token=abc123def456&x=1' })).toBe(
      'access_token=[redacted]&x=1',
    );
  });
});

describe('staleness', () => {
  const auth = (exp: number | null, lastRefresh?: string) => ({
    tokens: {
      id_token: 'x',
      access_token: exp === null ? 'opaque' : jwt({ exp }),
      refresh_token: 'r',
    },
    ...(lastRefresh ? { last_refresh: lastRefresh } : {}),
  });
  it('refreshes within the margin of exp', () => {
    const now = 1_000_000_000_000;
    expect(isStale(auth(now / 1000 + 600), now, 5 * 60_000)).toBe(false);
    expect(isStale(auth(now / 1000 + 200), now, 5 * 60_000)).toBe(true);
    expect(isStale(auth(now / 1000 + 200), now, 0)).toBe(false);
  });
  it('falls back to an 8-day last_refresh without exp', () => {
    const now = Date.parse('2026-05-10T00:00:00Z');
    expect(isStale(auth(null, '2026-05-05T00:00:00Z'), now, 0)).toBe(false);
    expect(isStale(auth(null, '2026-05-01T00:00:00Z'), now, 0)).toBe(true);
  });
});

describe('device code', () => {
  it('reads the user code (either spelling), pending polls and a 404', () => {
    expect(
      processUserCodeAnswer({
        status: 200,
        body: '{"device_auth_id":"d","usercode":"AB-CD","interval":"7"}',
      }),
    ).toEqual({
      deviceAuthId: 'd',
      userCode: 'AB-CD',
      intervalSeconds: 7,
    });
    expect(() => processUserCodeAnswer({ status: 404, body: '' })).toThrow(/not enabled/);
    expect(processDeviceTokenAnswer({ status: 403, body: '' })).toEqual({ pending: true });
    expect(processDeviceTokenAnswer({ status: 404, body: '' })).toEqual({ pending: true });
  });
});

describe('revoke', () => {
  it('uses the refresh token with its hint and client id, else the access token without client id', () => {
    const full = buildRevokeRequest('https://issuer.test', {
      auth_mode: 'chatgpt',
      tokens: { id_token: 'i', access_token: 'a', refresh_token: 'r' },
    });
    expect(JSON.parse(full!.body!)).toEqual({
      token: 'r',
      token_type_hint: 'refresh_token',
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
    });
    const accessOnly = buildRevokeRequest('https://issuer.test', {
      tokens: { id_token: 'i', access_token: 'a', refresh_token: '' },
    });
    expect(JSON.parse(accessOnly!.body!)).toEqual({ token: 'a', token_type_hint: 'access_token' });
    expect(
      buildRevokeRequest('https://issuer.test', { auth_mode: 'apikey', OPENAI_API_KEY: 'sk' }),
    ).toBeNull();
  });
});
