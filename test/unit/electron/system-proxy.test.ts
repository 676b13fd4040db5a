/** The desktop app's system proxy (electron/startup/system-proxy.ts), from Chromium's answers. */
import { describe, expect, it } from 'vitest';
import {
  proxyFromResolved,
  systemProxyEnvironment,
} from '../../../electron/startup/system-proxy.ts';

describe('proxyFromResolved', () => {
  it('takes the first usable proxy of a resolveProxy answer, or none for DIRECT', () => {
    expect(proxyFromResolved('DIRECT')).toBeNull();
    expect(proxyFromResolved('')).toBeNull();
    expect(proxyFromResolved('PROXY proxy.corp:3128')).toBe('http://proxy.corp:3128');
    expect(proxyFromResolved('HTTPS secure.corp:443; DIRECT')).toBe('https://secure.corp:443');
    expect(proxyFromResolved('SOCKS5 socks.corp:1080; PROXY proxy.corp:8080')).toBe(
      'http://proxy.corp:8080',
    );
    expect(proxyFromResolved('DIRECT; PROXY proxy.corp:3128')).toBeNull();
    expect(proxyFromResolved('SOCKS5 socks.corp:1080')).toBeNull();
  });
});

describe('systemProxyEnvironment', () => {
  it('sets HTTPS_PROXY from the system only when the environment names no proxy', () => {
    expect(systemProxyEnvironment({}, 'PROXY proxy.corp:3128')).toEqual({
      HTTPS_PROXY: 'http://proxy.corp:3128',
    });
    expect(systemProxyEnvironment({}, 'DIRECT')).toEqual({});
    expect(
      systemProxyEnvironment({ https_proxy: 'http://mine:1' }, 'PROXY proxy.corp:3128'),
    ).toEqual({});
  });
});
