/**
 * Picks the renderer's `LabApi`: the preload's `window.codexLab` inside Electron, else the web
 * bridge over the control API (reading and wiping the token from the URL fragment).
 */
import type { LabApi } from '../../core/service/contract.ts';
import type { DesktopApi } from '../../electron/ipc/desktop-contract.ts';
import { createWebBridge, readTokenFromHash } from './web-bridge.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in the web dashboard. */
    codexLab?: LabApi;
    /** The desktop-only preferences and logs folder, from the same preload. */
    codexLabDesktop?: DesktopApi;
  }
}

/** Where the API came from, for the few places that differ (e.g. the sign-in wording). */
export type LabHostKind = 'electron' | 'web';

/** The API plus its host kind. */
export interface ResolvedLabApi {
  api: LabApi;
  host: LabHostKind;
}

/** Where the dashboard keeps the router token for this browser tab (never across tabs). */
const tokenKey = 'codex-lab-router-token';
/** '1' when the kept token was pasted into the page, not taken from a dashboard link. */
const pastedKey = 'codex-lab-router-token-pasted';

function sessionStore(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/**
 * The dashboard's router token: the link's `#token=…` (then kept for this tab, so a reload stays
 * connected), else the one this tab kept, else null (the page offers a field to paste one).
 */
export function resolveDashboardToken(
  hash: string,
  storage: Pick<Storage, 'getItem' | 'setItem'> | null,
): string | null {
  const fromLink = readTokenFromHash(hash);
  try {
    if (fromLink) {
      storage?.setItem(tokenKey, fromLink);
      storage?.setItem(pastedKey, '0');
      return fromLink;
    }
    return storage?.getItem(tokenKey) ?? null;
  } catch {
    // Storage refused (a privacy setting): the token lives as long as the page.
    return fromLink;
  }
}

/** Keeps a pasted token for this tab; the page then reloads and connects with it. */
export function rememberDashboardToken(token: string): void {
  sessionStore()?.setItem(tokenKey, token);
  sessionStore()?.setItem(pastedKey, '1');
}

/** Whether the token `resolveDashboardToken` gave was pasted into the page (see `pastedKey`). */
function dashboardTokenSource(storage: Pick<Storage, 'getItem'> | null): 'link' | 'pasted' {
  try {
    return storage?.getItem(pastedKey) === '1' ? 'pasted' : 'link';
  } catch {
    return 'link';
  }
}

/** True in the web dashboard (no Electron preload). */
export function isWebDashboard(): boolean {
  return !window.codexLab;
}

/** Resolves the API once at start-up. */
export function resolveLabApi(): ResolvedLabApi {
  if (window.codexLab) return { api: window.codexLab, host: 'electron' };
  const token = resolveDashboardToken(window.location.hash, sessionStore());
  if (window.location.hash) {
    // Wipe the fragment so the token is not left in the address bar, history or a bookmark.
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  const api = createWebBridge({
    token,
    tokenSource: dashboardTokenSource(sessionStore()),
    origin: window.location.origin,
    openSignIn(url, popup) {
      window.open(
        url,
        popup ? 'codex-lab-sign-in' : '_blank',
        popup ? 'popup,noopener,width=520,height=720' : 'noopener',
      );
    },
  });
  return { api, host: 'web' };
}
