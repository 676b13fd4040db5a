/**
 * Loopback names for the `Host` and `Origin` checks of every local server (router, control API,
 * dashboard, sign-in callback): a page on another site that makes its name resolve to 127.0.0.1
 * (DNS rebinding) still sends its own name in `Host`, so checking it keeps such a page out even
 * when it holds a leaked router token (docs/security.md).
 */
import type { IncomingHttpHeaders } from 'node:http';

const loopbackNames = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host part of a `Host` header value (`name:port`, `[v6]:port`), lower-cased. */
function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']');
    return end === -1 ? trimmed : trimmed.slice(0, end + 1);
  }
  const colon = trimmed.lastIndexOf(':');
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

/** True for `localhost`, `127.0.0.1` and `[::1]` (with or without a port), or one of `extra`. */
export function isAllowedHost(host: string | undefined, extra: readonly string[] = []): boolean {
  if (host === undefined || host === '') return false;
  const name = hostnameOf(host);
  return loopbackNames.has(name) || extra.some((allowed) => allowed.toLowerCase() === name);
}

/**
 * True when a request's `Host` names this machine's loopback (or `extra`), and its `Origin`, when
 * there is one, is an http(s) page on such a host as well.
 */
export function isLocalRequest(
  headers: IncomingHttpHeaders,
  extra: readonly string[] = [],
): boolean {
  if (!isAllowedHost(headers.host, extra)) return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    const url = new URL(origin);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && isAllowedHost(url.host, extra)
    );
  } catch {
    return false;
  }
}

/** True for an address that only this machine can reach (`127.x`, `::1`, `localhost`). */
export function isLoopbackAddress(address: string): boolean {
  const lower = address.trim().toLowerCase();
  return (
    lower === 'localhost' ||
    lower === '::1' ||
    lower === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(lower)
  );
}
