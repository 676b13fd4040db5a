import { describe, expect, it } from 'vitest';
import {
  cookieOrigin,
  createCloudflareCookieJars,
  isCloudflareCookieName,
} from '../../../core/net/cloudflare-cookies.ts';

describe('Cloudflare cookie jars', () => {
  it('keeps only Codex’s Cloudflare names, per account, and returns them as a Cookie header', () => {
    let now = 1_000_000;
    const jars = createCloudflareCookieJars();
    jars.remember(
      'acct-a',
      [
        '__cf_bm=bm1; path=/; Max-Age=1800; HttpOnly; Secure',
        '_cfuvid=uv1; path=/; HttpOnly; Secure',
        'oai-did=device; path=/; Secure',
        '__Secure-next-auth.session-token=secret; path=/',
        'cf_chl_rc_m=challenge; path=/',
      ],
      now,
    );
    expect(jars.cookieHeader('acct-a', now)).toBe(
      '__cf_bm=bm1; _cfuvid=uv1; cf_chl_rc_m=challenge',
    );
    expect(jars.cookieHeader('acct-b', now)).toBeUndefined();
    // A newer value replaces the kept one; an expiry in the past deletes it.
    jars.remember('acct-a', ['__cf_bm=bm2; Max-Age=60', 'cf_chl_rc_m=gone; Max-Age=0'], now);
    expect(jars.cookieHeader('acct-a', now)).toBe('__cf_bm=bm2; _cfuvid=uv1');
    now += 61_000;
    expect(jars.cookieHeader('acct-a', now)).toBe('_cfuvid=uv1');
    jars.remember('acct-a', `_cfuvid=x; Expires=${new Date(now - 1000).toUTCString()}`, now);
    expect(jars.cookieHeader('acct-a', now)).toBeUndefined();
  });

  it('names the allowlist Codex 0.171 keeps', () => {
    for (const name of ['__cf_bm', '__cflb', '_cfuvid', 'cf_clearance', 'cf_chl_x']) {
      expect(isCloudflareCookieName(name)).toBe(true);
    }
    for (const name of ['oai-did', 'not_cf_clearance', '__Secure-next-auth.session-token']) {
      expect(isCloudflareCookieName(name)).toBe(false);
    }
  });

  it('keeps a handshake’s and the HTTP requests’ cookies in one origin’s jar', () => {
    expect(cookieOrigin('wss://chatgpt.com/backend-api/codex/responses')).toBe(
      'https://chatgpt.com',
    );
    expect(cookieOrigin('ws://127.0.0.1:8080/backend-api/codex/responses')).toBe(
      'http://127.0.0.1:8080',
    );
    expect(cookieOrigin('https://chatgpt.com')).toBe('https://chatgpt.com');
    expect(cookieOrigin('https://chatgpt.com/backend-api/wham/usage?x=1')).toBe(
      'https://chatgpt.com',
    );
    expect(cookieOrigin(new URL('https://chatgpt.com:443/a'))).toBe('https://chatgpt.com');
  });
});
