/**
 * Which proxy outbound traffic takes (core/net/proxy.ts): the environment's, by curl's rules,
 * never for loopback; WebSocket URLs are asked as the HTTP URLs whose variables users set.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLabError } from '../../../core/errors.ts';
import {
  checkProxyVariables,
  loopbackBypass,
  proxyConfigured,
  proxyFor,
} from '../../../core/net/proxy.ts';

const names = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'];

function environment(values: Record<string, string>): void {
  for (const name of names) {
    vi.stubEnv(name, values[name] ?? '');
    vi.stubEnv(name.toLowerCase(), values[name.toLowerCase()] ?? '');
  }
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('proxyFor', () => {
  it('takes HTTPS_PROXY for https and wss, HTTP_PROXY for http and ws', () => {
    environment({ HTTPS_PROXY: 'http://secure.proxy:3128', HTTP_PROXY: 'http://plain.proxy:8080' });
    expect(proxyFor('https://chatgpt.com/backend-api/codex/responses')).toBe(
      'http://secure.proxy:3128',
    );
    expect(proxyFor('wss://chatgpt.com/backend-api/codex/responses')).toBe(
      'http://secure.proxy:3128',
    );
    expect(proxyFor('http://example.test/x')).toBe('http://plain.proxy:8080');
    expect(proxyFor('ws://example.test/x')).toBe('http://plain.proxy:8080');
  });

  it('goes directly with no proxy named, for NO_PROXY hosts, and always for loopback', () => {
    environment({});
    expect(proxyConfigured()).toBe(false);
    expect(proxyFor('https://chatgpt.com/')).toBeNull();
    environment({ https_proxy: 'proxy.corp:3128', NO_PROXY: '.openai.com, internal.test' });
    expect(proxyConfigured()).toBe(true);
    // A bare host:port takes the target's scheme, as curl reads it.
    expect(proxyFor('https://chatgpt.com/')).toBe('https://proxy.corp:3128');
    expect(proxyFor('https://auth.openai.com/oauth/token')).toBeNull();
    expect(proxyFor('https://internal.test/')).toBeNull();
    for (const loopback of [
      'http://127.0.0.1:1456/x',
      'http://127.0.0.2:1456/x',
      'http://localhost:1455/',
      'http://[::1]:1/',
    ]) {
      expect(proxyFor(loopback)).toBeNull();
    }
  });

  it('falls back to ALL_PROXY', () => {
    environment({ ALL_PROXY: 'http://all.proxy:1080' });
    expect(proxyFor('https://chatgpt.com/')).toBe('http://all.proxy:1080');
  });
});

describe('checkProxyVariables', () => {
  it('accepts URLs and bare host:port, and names a broken variable without its value', () => {
    expect(() => checkProxyVariables({ HTTPS_PROXY: 'http://u:p@proxy:3128' })).not.toThrow();
    expect(() => checkProxyVariables({ http_proxy: 'proxy.corp:8080' })).not.toThrow();
    let caught: unknown;
    try {
      checkProxyVariables({ https_proxy: 'http://user:s3cret@[broken' });
    } catch (error) {
      caught = error;
    }
    expect(isLabError(caught) && caught.code).toBe('invalid_config');
    expect(String((caught as Error).message)).toMatch(/^https_proxy is not a proxy URL/);
    expect(String((caught as Error).message)).not.toContain('s3cret');
  });
});

describe('loopbackBypass', () => {
  it('adds loopback to NO_PROXY for a process that talks to the router, only behind a proxy', () => {
    expect(loopbackBypass({})).toEqual({});
    expect(loopbackBypass({ HTTPS_PROXY: 'http://proxy:3128' })).toEqual({
      NO_PROXY: '127.0.0.1,localhost,::1',
      no_proxy: '127.0.0.1,localhost,::1',
    });
    expect(
      loopbackBypass({ http_proxy: 'proxy:3128', no_proxy: 'corp.example, localhost' }),
    ).toEqual({
      NO_PROXY: 'corp.example,localhost,127.0.0.1,::1',
      no_proxy: 'corp.example,localhost,127.0.0.1,::1',
    });
  });
});
