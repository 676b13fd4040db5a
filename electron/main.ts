/**
 * Composition root of the desktop app: one instance, the service in-process, one IPC module per
 * feature, the tray drawn from state, and the settings window on demand. Everything with logic is
 * in a pure module next to it; this file only wires.
 */
import { app, Notification, powerMonitor, shell, type BrowserWindow } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LabState } from '../core/service/contract.ts';
import { registerLoginIpc } from './ipc/login-ipc.ts';
import { registerProfilesIpc } from './ipc/profiles-ipc.ts';
import { registerQuotaIpc } from './ipc/quota-ipc.ts';
import { registerSessionsIpc } from './ipc/sessions-ipc.ts';
import { broadcastState, registerStateIpc } from './ipc/state-ipc.ts';
import type { IpcTrust } from './ipc/ipc-validation.ts';
import { createLabHost } from './lab-host.ts';
import { diffNotifications } from './notifications/notification-diff.ts';
import { openPreferences } from './preferences.ts';
import { installNavigationGuards } from './security/harden.ts';
import { isAllowedExternalUrl } from './security/navigation-policy.ts';
import { createTrayController } from './tray/tray-controller.ts';
import type { TrayAction } from './tray/tray-menu.ts';
import { settingsWindow, showSettingsWindow } from './windows/settings-window.ts';
import {
  closeFinishedPopups,
  closeSignInPopup,
  openSignInPopup,
  signInContentsIds,
} from './windows/sign-in-popup.ts';

// A second launch only brings the first instance's window forward: two routers on one port and
// two writers of the same profile files would fight.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start();
}

async function start(): Promise<void> {
  await app.whenReady();
  const appRoot = app.getAppPath();
  const paths = {
    indexHtml: join(appRoot, 'dist', 'renderer', 'index.html'),
    preload: join(appRoot, 'dist', 'electron', 'preload.cjs'),
    trayIcon: join(
      appRoot,
      'build',
      process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png',
    ),
  };
  const pageUrl = pathToFileURL(paths.indexHtml).href;
  const preferences = openPreferences();
  const host = await createLabHost();
  const lab = host.lab;
  const windowIds = new Set<number>();
  const windows = new Map<number, BrowserWindow>();
  const trust = (): IpcTrust => ({ webContentsIds: windowIds, pageUrls: [pageUrl] });
  const externalOrigins = () => [host.issuerOrigin, host.routerOrigin()];

  installNavigationGuards(
    (id) => (signInContentsIds.has(id) ? 'sign-in' : 'settings'),
    { appPageUrl: pageUrl, issuerOrigin: host.issuerOrigin },
    externalOrigins,
  );

  const context = { lab, trust };
  registerStateIpc(context);
  registerProfilesIpc(context);
  registerSessionsIpc(context);
  registerQuotaIpc(context);
  registerLoginIpc(context, {
    async openInBrowser(url) {
      if (!isAllowedExternalUrl(url, externalOrigins())) return false;
      await shell.openExternal(url);
      return true;
    },
    openPopup: (login) => openSignInPopup(login, settingsWindow()),
    closePopup: closeSignInPopup,
  });

  const openSettings = () =>
    showSettingsWindow(paths, preferences, (window) => {
      const id = window.webContents.id;
      windowIds.add(id);
      windows.set(id, window);
      window.on('closed', () => {
        windowIds.delete(id);
        windows.delete(id);
      });
    });

  const onTrayAction = (action: TrayAction): void => {
    switch (action.kind) {
      case 'use':
        void lab.setActive({ profile: action.profile });
        return;
      case 'add-account': {
        openSettings();
        void lab
          .startLogin({ name: null, popup: preferences.get('signIn') === 'popup' })
          .then(async (result) => {
            if (!result.ok) return;
            if (preferences.get('signIn') === 'popup')
              openSignInPopup(result.value, settingsWindow());
            else if (isAllowedExternalUrl(result.value.authorizeUrl, externalOrigins())) {
              await shell.openExternal(result.value.authorizeUrl);
            }
          });
        return;
      }
      case 'settings':
        openSettings();
        return;
      case 'priming':
        void lab.setPriming({ profile: action.profile, enabled: action.enabled });
        return;
      case 'dashboard':
        void host.dashboardUrl().then((url) => {
          if (url && isAllowedExternalUrl(url, externalOrigins())) void shell.openExternal(url);
        });
        return;
      case 'quit':
        app.quit();
        return;
    }
  };

  const tray = createTrayController(paths.trayIcon, onTrayAction);
  let previous: LabState | null = null;
  const onState = (state: LabState): void => {
    tray.render(state);
    broadcastState(
      [...windows.values()].map((window) => window.webContents),
      state,
    );
    closeFinishedPopups(state.logins);
    if (preferences.get('notifications') && Notification.isSupported()) {
      for (const notice of diffNotifications(previous, state, { now: Date.now() })) {
        new Notification({ title: notice.title, body: notice.body }).show();
      }
    }
    previous = state;
  };
  lab.subscribe(onState);
  onState(await lab.getState());

  // After sleep, quotas and tokens are stale: refresh now instead of waiting for the next timer.
  // After sleep every token may be past its exp and every window may have reset: a usage refresh
  // asks for fresh credentials first (TokenManager refreshes stale tokens) and then new numbers.
  powerMonitor.on('resume', () => void lab.refreshUsage({ profile: null }));

  app.setLoginItemSettings({ openAtLogin: preferences.get('launchAtLogin') });
  app.on('second-instance', () => openSettings());
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', () => {
    tray.destroy();
    void host.close();
  });
  if (process.argv.includes('--show-settings') || !app.getLoginItemSettings().wasOpenedAtLogin) {
    openSettings();
  }
}
