/**
 * `routerUrl`: the one place a client turns `state/router.json` into the address it dials. A
 * router started with `serve --host ::1` listens nowhere else, so dialling 127.0.0.1 finds nothing.
 */
import { describe, expect, it } from 'vitest';
import { routerUrl } from '../../../core/service/router-info.ts';

describe('routerUrl', () => {
  it('dials 127.0.0.1 for a file written before the address was recorded', () => {
    expect(routerUrl({ port: 1456 })).toBe('http://127.0.0.1:1456');
  });

  it('dials the recorded loopback address, an IPv6 one in brackets', () => {
    expect(routerUrl({ port: 17483, address: '::1' })).toBe('http://[::1]:17483');
    expect(routerUrl({ port: 17483, address: '[::1]' })).toBe('http://[::1]:17483');
    expect(routerUrl({ port: 17483, address: '127.0.0.2' })).toBe('http://127.0.0.2:17483');
    expect(routerUrl({ port: 17483, address: 'localhost' })).toBe('http://localhost:17483');
  });

  it('dials loopback for a router listening on every address', () => {
    expect(routerUrl({ port: 1456, address: '0.0.0.0' })).toBe('http://127.0.0.1:1456');
    expect(routerUrl({ port: 1456, address: '::' })).toBe('http://[::1]:1456');
  });
});
