/**
 * The optional OAuth popup (the system browser is the default): a sandboxed window with no
 * preload, a throwaway session that grants no permission, allowed to show only the issuer and our
 * loopback callback (see navigation-policy.ts). When it refuses a page (Google, Microsoft, Apple,
 * a company's single sign-on) it says why once and offers the same sign-in in the browser.
 */
import { BrowserWindow, dialog } from 'electron';
import type { LoginView } from '../../core/service/contract.ts';
import { hardenedWebPreferences } from '../security/harden.ts';
import { blockedSignInMessage } from './sign-in-blocked.ts';

interface Popup {
  window: BrowserWindow;
  login: LoginView;
  /** True while the explanation is showing, so a burst of redirects asks once. */
  explaining: boolean;
}

const popups = new Map<string, Popup>();

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
  // A sign-in page needs no camera, microphone, notifications, clipboard or location.
  const session = window.webContents.session;
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  const contentsId = window.webContents.id;
  signInContentsIds.add(contentsId);
  popups.set(login.id, { window, login, explaining: false });
  window.on('closed', () => {
    signInContentsIds.delete(contentsId);
    popups.delete(login.id);
  });
  void window.loadURL(login.authorizeUrl);
}

/**
 * Called by the navigation guard when a popup was refused `url`: explains why and, if the user
 * agrees, opens the login's authorize page in the system browser and closes the popup. The login
 * keeps waiting, so the sign-in finishes in the browser.
 */
export function explainBlockedSignIn(
  contentsId: number,
  url: string,
  openInBrowser: (url: string) => Promise<boolean>,
): void {
  const popup = [...popups.values()].find(
    (each) => !each.window.isDestroyed() && each.window.webContents.id === contentsId,
  );
  if (!popup || popup.explaining) return;
  popup.explaining = true;
  const text = blockedSignInMessage(url);
  void dialog
    .showMessageBox(popup.window, {
      type: 'info',
      title: text.title,
      message: text.message,
      detail: text.detail,
      buttons: text.buttons,
      defaultId: 0,
      cancelId: 1,
    })
    .then(async ({ response }) => {
      popup.explaining = false;
      if (response !== 0) return;
      if (await openInBrowser(popup.login.authorizeUrl)) {
        if (!popup.window.isDestroyed()) popup.window.close();
      }
    });
}

/** Closes the popup of a login when it is finished or cancelled. */
export function closeSignInPopup(loginId: string): void {
  const popup = popups.get(loginId);
  if (popup && !popup.window.isDestroyed()) popup.window.close();
}

/** Closes popups whose login is no longer waiting. */
export function closeFinishedPopups(logins: readonly LoginView[]): void {
  for (const login of logins) {
    if (login.state !== 'waiting' && login.state !== 'exchanging') closeSignInPopup(login.id);
  }
}
