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

/** Resolves the API once at start-up. */
export function resolveLabApi(): ResolvedLabApi {
  if (window.codexLab) return { api: window.codexLab, host: 'electron' };
  const token = readTokenFromHash(window.location.hash);
  if (window.location.hash) {
    // Wipe the fragment so the token is not left in the address bar, history or a bookmark.
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  const api = createWebBridge({
    token,
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
