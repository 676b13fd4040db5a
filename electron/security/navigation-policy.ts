/**
 * Pure navigation and `shell.openExternal` policy (Electron security checklist items 13–15):
 * our windows may show only our own page, the sign-in popup may show only the issuer and the
 * loopback callback, and only allow-listed https URLs are handed to the operating system.
 */
import { defaultIssuer } from '../../core/config.ts';
import { isLoopbackAddress } from '../../core/net/loopback.ts';

/** The https origins the system browser may be asked to open. */
export const defaultExternalOrigins: readonly string[] = [
  new URL(defaultIssuer).origin,
  'https://chatgpt.com',
  'https://platform.openai.com',
  'https://github.com',
];

/** What a window is allowed to show. */
export interface NavigationOptions {
  /** Which window is navigating: the settings page or the sign-in popup. */
  window: 'settings' | 'sign-in';
  /** Our page (e.g. `file:///…/dist/renderer/index.html`); settings windows may show only this. */
  appPageUrl: string;
  /** The OAuth issuer's origin (`CODEX_LAB_AUTH_ISSUER`). */
  issuerOrigin: string;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function samePage(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
}

function isLoopbackCallback(url: URL): boolean {
  return (
    url.protocol === 'http:' &&
    (url.hostname === 'localhost' || url.hostname === '127.0.0.1') &&
    // The callback server answers /auth/callback, then shows its own /success page.
    (url.pathname === '/auth/callback' || url.pathname === '/success')
  );
}

/**
 * True when a window may navigate to `url`. Origins are compared with a URL parser, never by
 * string prefix (`https://auth.openai.com.evil.test` is a different host).
 */
export function isAllowedNavigation(url: string, options: NavigationOptions): boolean {
  const target = parse(url);
  if (!target) return false;
  if (options.window === 'settings') {
    const page = parse(options.appPageUrl);
    return page !== null && samePage(target, page);
  }
  const issuer = parse(options.issuerOrigin);
  if (issuer && target.origin === issuer.origin && target.origin !== 'null') return true;
  // The issuer redirects the popup to our loopback callback to finish the sign-in.
  return isLoopbackCallback(target);
}

/**
 * True when `url` may be handed to `shell.openExternal`: https only, and only to an allow-listed
 * origin (the OS would otherwise run whatever handler a scheme names). `extraOrigins` adds the
 * configured issuer; a loopback http issuer is allowed there because it is a local test server.
 */
export function isAllowedExternalUrl(url: string, extraOrigins: readonly string[] = []): boolean {
  const target = parse(url);
  if (!target) return false;
  if (target.username !== '' || target.password !== '') return false;
  if (target.protocol === 'https:' && defaultExternalOrigins.includes(target.origin)) return true;
  return extraOrigins.some((origin) => {
    const allowed = parse(origin);
    if (!allowed || allowed.origin !== target.origin) return false;
    // The router's dashboard too, wherever on loopback it listens (`serve --host ::1`: `[::1]`).
    const loopback = isLoopbackAddress(allowed.hostname);
    return allowed.protocol === 'https:' || (allowed.protocol === 'http:' && loopback);
  });
}
