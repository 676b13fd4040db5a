import { describe, expect, it } from 'vitest';
import {
  isAllowedExternalUrl,
  isAllowedNavigation,
} from '../../../electron/security/navigation-policy.ts';

const base = {
  appPageUrl: 'file:///opt/codex-lab/resources/app.asar/dist/renderer/index.html',
  issuerOrigin: 'https://auth.openai.com',
};

describe('isAllowedNavigation', () => {
  it('keeps the settings window on our own page', () => {
    const settings = { ...base, window: 'settings' as const };
    expect(isAllowedNavigation(`${base.appPageUrl}#profiles`, settings)).toBe(true);
    for (const url of [
      'https://auth.openai.com/oauth/authorize',
      'file:///etc/passwd',
      'file:///opt/codex-lab/resources/app.asar/dist/renderer/index.html.evil',
      'javascript:alert(1)',
      'not a url',
    ]) {
      expect(isAllowedNavigation(url, settings), url).toBe(false);
    }
  });

  it('lets the sign-in popup show only the issuer and the loopback callback', () => {
    const popup = { ...base, window: 'sign-in' as const };
    expect(isAllowedNavigation('https://auth.openai.com/oauth/authorize?x=1', popup)).toBe(true);
    expect(isAllowedNavigation('http://localhost:1455/auth/callback?code=c&state=s', popup)).toBe(
      true,
    );
    expect(isAllowedNavigation('http://127.0.0.1:50123/auth/callback', popup)).toBe(true);
    expect(isAllowedNavigation('http://localhost:1455/success', popup)).toBe(true);
    for (const url of [
      'https://auth.openai.com.evil.test/oauth/authorize',
      'http://auth.openai.com/oauth/authorize',
      'https://evil.test/?https://auth.openai.com',
      'http://localhost:1455/other',
      'http://192.168.1.5/auth/callback',
      base.appPageUrl,
    ]) {
      expect(isAllowedNavigation(url, popup), url).toBe(false);
    }
  });
});

describe('isAllowedExternalUrl', () => {
  it('opens only allow-listed https origins', () => {
    expect(isAllowedExternalUrl('https://auth.openai.com/oauth/authorize?client_id=x')).toBe(true);
    expect(isAllowedExternalUrl('https://chatgpt.com/codex')).toBe(true);
    for (const url of [
      'http://auth.openai.com/',
      'https://auth.openai.com.evil.test/',
      'https://user:pass@auth.openai.com/',
      'file:///bin/sh',
      'smb://host/share',
      'ms-settings:',
      'javascript:alert(1)',
      '',
    ]) {
      expect(isAllowedExternalUrl(url), url).toBe(false);
    }
  });

  it('accepts a configured issuer when it is https or a loopback test server', () => {
    expect(
      isAllowedExternalUrl('http://127.0.0.1:4000/oauth/authorize', ['http://127.0.0.1:4000']),
    ).toBe(true);
    expect(isAllowedExternalUrl('https://sso.example.com/a', ['https://sso.example.com'])).toBe(
      true,
    );
    expect(isAllowedExternalUrl('http://example.com/a', ['http://example.com'])).toBe(false);
    // The dashboard of a router attached on IPv6 loopback (`serve --host ::1`).
    expect(isAllowedExternalUrl('http://[::1]:17483/ui/#token=x', ['http://[::1]:17483'])).toBe(
      true,
    );
    expect(isAllowedExternalUrl('http://127.0.0.1:4001/', ['http://127.0.0.1:4000'])).toBe(false);
  });
});
