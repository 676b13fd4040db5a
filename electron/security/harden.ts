/**
 * Applies the navigation policy to every webContents the app ever creates (checklist items
 * 13 and 14), and the shared hardened `webPreferences`.
 */
import { app, shell, type WebPreferences } from 'electron';
import {
  isAllowedExternalUrl,
  isAllowedNavigation,
  type NavigationOptions,
} from './navigation-policy.ts';

/** The webPreferences every window starts from: isolated, sandboxed, no Node. */
export const hardenedWebPreferences: WebPreferences = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  spellcheck: false,
};

/** How a webContents is classified for the policy. */
export type WindowKind = NavigationOptions['window'];

/**
 * Installs the policy once: every navigation is checked against the window's kind, new windows are
 * always denied (allow-listed https links go to the system browser instead), webviews are refused.
 * `onBlocked` hears of every refused navigation (the sign-in popup explains its own).
 */
export function installNavigationGuards(
  kindOf: (webContentsId: number) => WindowKind,
  base: Omit<NavigationOptions, 'window'>,
  extraExternalOrigins: () => readonly string[],
  onBlocked: (webContentsId: number, kind: WindowKind, url: string) => void = () => undefined,
): void {
  app.on('web-contents-created', (_event, contents) => {
    const guard = (event: { preventDefault(): void }, url: string) => {
      const kind = kindOf(contents.id);
      if (!isAllowedNavigation(url, { ...base, window: kind })) {
        event.preventDefault();
        onBlocked(contents.id, kind, url);
      }
    };
    contents.on('will-navigate', (event) => guard(event, event.url));
    contents.on('will-redirect', (event) => guard(event, event.url));
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternalUrl(url, extraExternalOrigins())) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}
