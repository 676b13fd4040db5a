/**
 * The optional OAuth popup: a sandboxed window with no preload and a throwaway session, allowed
 * to show only the issuer and our loopback callback (see navigation-policy.ts).
 */
import { BrowserWindow } from 'electron';
import type { LoginView } from '../../core/service/contract.ts';
import { hardenedWebPreferences } from '../security/harden.ts';

const popups = new Map<string, BrowserWindow>();

/** Ids of the webContents showing a sign-in page (the navigation policy treats them apart). */
export const signInContentsIds = new Set<number>();

/** Opens the authorize page of one login in a popup. */
export function openSignInPopup(login: LoginView, parent: BrowserWindow | null): void {
  const window = new BrowserWindow({
    width: 520,
    height: 720,
    title: 'Sign in to ChatGPT',
    parent: parent ?? undefined,
    autoHideMenuBar: true,
    webPreferences: {
      ...hardenedWebPreferences,
      // In-memory partition: the issuer's cookies never outlive the sign-in.
      partition: `sign-in-${login.id}`,
    },
  });
  const contentsId = window.webContents.id;
  signInContentsIds.add(contentsId);
  popups.set(login.id, window);
  window.on('closed', () => {
    signInContentsIds.delete(contentsId);
    popups.delete(login.id);
  });
  void window.loadURL(login.authorizeUrl);
}

/** Closes the popup of a login when it is finished or cancelled. */
export function closeSignInPopup(loginId: string): void {
  const window = popups.get(loginId);
  if (window && !window.isDestroyed()) window.close();
}

/** Closes popups whose login is no longer waiting. */
export function closeFinishedPopups(logins: readonly LoginView[]): void {
  for (const login of logins) {
    if (login.state !== 'waiting' && login.state !== 'exchanging') closeSignInPopup(login.id);
  }
}
