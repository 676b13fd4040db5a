/**
 * Composition root of the desktop app: Squirrel events first, one instance, the service
 * in-process, one IPC module per feature, the tray drawn from state, and the settings window on
 * demand. Everything with logic is in a pure module next to it; this file only wires.
 */
import {
  app,
  dialog,
  Menu,
  Notification,
  powerMonitor,
  session,
  shell,
  type BrowserWindow,
  type MenuItemConstructorOptions,
} from 'electron';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { criticalWorkSettled } from '../core/home/critical.ts';
import type { LabState } from '../core/service/contract.ts';
import { useProxyFromEnvironment } from '../core/net/proxy-dispatchers.ts';
import { systemClock } from '../core/ports.ts';
import { keyringBrokerScript, useKeyringBroker } from '../core/profiles/keyring.ts';
import { desktopChannels, userPreferences } from './ipc/desktop-contract.ts';
import { registerDesktopIpc } from './ipc/desktop-ipc.ts';
import { ipcChannels } from './ipc/ipc-contract.ts';
import { sendToWindow, sendWhenLoaded } from './ipc/ipc-main.ts';
import { registerLoginIpc } from './ipc/login-ipc.ts';
import { registerProfilesIpc } from './ipc/profiles-ipc.ts';
import { registerQuotaIpc } from './ipc/quota-ipc.ts';
import { registerSessionsIpc } from './ipc/sessions-ipc.ts';
import { broadcastOffline, broadcastState, registerStateIpc } from './ipc/state-ipc.ts';
import type { IpcTrust } from './ipc/ipc-validation.ts';
import { createLabHost } from './lab-host.ts';
import { electronKeyringBroker } from './keyring-broker-launcher.ts';
import { quitOnSignals } from './lifecycle/quit-on-signals.ts';
import { createQuitSequence, defaultQuitTimeoutMs } from './lifecycle/quit-sequence.ts';
import { openFileLog } from './logging/file-log.ts';
import { diffNotifications } from './notifications/notification-diff.ts';
import { applicationMenuPlan, shouldHideDock } from './platform/platform-conventions.ts';
import { openPreferences } from './preferences.ts';
import {
  applyLoginItemPlan,
  changedPreferences,
  fileEffects,
  loginItemPlan,
  wasOpenedAtLogin,
} from './preferences/apply-preferences.ts';
import { installNavigationGuards } from './security/harden.ts';
import { isAllowedExternalUrl } from './security/navigation-policy.ts';
import { firstMissingFile, missingFileDialog } from './startup/install-check.ts';
import { recordStartupFailure, type StartupLog } from './startup/startup-failure.ts';
import { systemProxyEnvironment, systemProxyProbeUrl } from './startup/system-proxy.ts';
import {
  handleSquirrelEvent,
  squirrelPackageName,
  windowsAppUserModelId,
} from './startup/squirrel-events.ts';
import { createTrayController } from './tray/tray-controller.ts';
import { runTrayAction } from './tray/tray-actions.ts';
import type { TrayAction } from './tray/tray-menu.ts';
import { settingsWindow, showSettingsWindow } from './windows/settings-window.ts';
import {
  closeFinishedPopups,
  closeSignInPopup,
  explainBlockedSignIn,
  openSignInPopup,
  signInContentsIds,
} from './windows/sign-in-popup.ts';

// Squirrel.Windows runs the app to install, update or uninstall it: do the shortcut work and quit
// before anything else starts (no lock, no router, no tray).
const squirrelEvent = handleSquirrelEvent(process.argv, {
  platform: process.platform,
  execPath: process.execPath,
  spawnDetached(command, args, done) {
    const child = spawn(command, [...args], { detached: true, stdio: 'ignore' });
    child.once('close', done);
    child.once('error', done);
  },
  quit: () => app.quit(),
});

if (squirrelEvent) {
  // Nothing else: the handler quits when Update.exe is done.
} else if (!app.requestSingleInstanceLock()) {
  // A second launch only brings the first instance's window forward: two routers on one port and
  // two writers of the same profile files would fight.
  app.quit();
} else {
  // Windows shows toasts only for the AppUserModelID of the Start Menu shortcut Squirrel made.
  if (process.platform === 'win32') {
    app.setAppUserModelId(windowsAppUserModelId(squirrelPackageName, process.execPath));
  }
  // Registered before anything that can fail: a second launch always reaches this instance, and
  // until the settings window can open it is remembered and shown once start-up is done.
  app.on('second-instance', () => onSecondInstance());
  start().catch(async (error: unknown) => {
    // Never an invisible process: the error in the log, then one dialog with one sentence naming
    // the log's folder (the app is about to quit: none of its menus can open it), then quit
    // (releasing the lock).
    const text = recordStartupFailure(
      error,
      startupLog ?? (await openStartupLog()),
      startupSecrets,
    );
    dialog.showErrorBox(text.title, text.content);
    app.quit();
  });
}

/** The app's log once start-up has opened it: where a start-up failure is written. */
let startupLog: StartupLog | null = null;
/** The secrets the host's log lines are scrubbed of, shared so a start-up failure's are too. */
const startupSecrets: string[] = [];

/**
 * Opens the app's log file for start-up (`startupLog`), or null when even the logs folder cannot
 * be named. A log that cannot be written is dropped, never fatal: the app works without it.
 */
async function openStartupLog(): Promise<(StartupLog & { close(): Promise<void> }) | null> {
  try {
    let writable = true;
    const fileLog = await openFileLog({
      folder: app.getPath('logs'),
      onError: () => (writable = false),
    });
    return { ...fileLog, writable: () => writable };
  } catch {
    return null;
  }
}

/** What a second launch does; start-up replaces it once the settings window can open. */
let onSecondInstance = (): void => {
  secondInstanceWaiting = true;
};
let secondInstanceWaiting = false;

async function start(): Promise<void> {
  await app.whenReady();
  // Log to a rotating file: a packaged GUI app has no usable stderr. Opened first, so a failure
  // of anything below is in it.
  const opened = await openStartupLog();
  if (opened === null) throw new Error("the app's logs folder cannot be named");
  startupLog = opened;
  const fileLog = opened;
  const logsFolder = opened.folder;
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
  // A broken install: one dialog naming the file, then quit (never an invisible process).
  const missing = firstMissingFile(
    // The keychain broker too: without it every keychain call starts a helper that exits 1.
    [paths.indexHtml, paths.preload, paths.trayIcon, keyringBrokerScript()],
    existsSync,
  );
  if (missing) {
    const text = missingFileDialog(missing);
    dialog.showErrorBox(text.title, text.content);
    app.quit();
    return;
  }

  const menuPlan = applicationMenuPlan(process.platform, app.isPackaged);
  if (menuPlan.kind === 'none') Menu.setApplicationMenu(null);
  else if (menuPlan.kind === 'template') {
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(menuPlan.template as MenuItemConstructorOptions[]),
    );
  }
  if (shouldHideDock(process.platform, app.isPackaged)) app.dock?.hide();

  const pageUrl = pathToFileURL(paths.indexHtml).href;
  // Sign-in, usage, priming and the router reach OpenAI through the environment's proxy, else
  // through the one the system's network settings name (an app opened from the desktop has no
  // HTTPS_PROXY of its own).
  const systemProxy = await session.defaultSession
    .resolveProxy(systemProxyProbeUrl)
    .catch(() => 'DIRECT');
  Object.assign(process.env, systemProxyEnvironment(process.env, systemProxy));
  useProxyFromEnvironment(process.env);
  // The packaged app cannot run its binary as Node: its keychain broker is a utility process.
  useKeyringBroker(electronKeyringBroker);
  // Attaches to a `codex-lab serve` already running for this home, else hosts the router.
  const host = await createLabHost({
    env: process.env,
    logDestination: fileLog.destination,
    rendererDir: join(appRoot, 'dist', 'renderer'),
    // `codex-lab stop` asked the router this app hosts to stop: the app quits.
    onStopRequest: () => app.quit(),
    secrets: startupSecrets,
  });
  const logger = host.logger.child({ component: 'desktop' });
  const lab = host.lab;
  const preferences = openPreferences((message) => {
    logger.warn({}, message);
    void dialog.showMessageBox({ type: 'warning', title: 'Codex Lab', message, buttons: ['OK'] });
  });
  const windowIds = new Set<number>();
  const windows = new Map<number, BrowserWindow>();
  const trust = (): IpcTrust => ({ webContentsIds: windowIds, pageUrls: [pageUrl] });
  const externalOrigins = () => [host.issuerOrigin, host.routerOrigin()];
  const openInBrowser = async (url: string): Promise<boolean> => {
    if (!isAllowedExternalUrl(url, externalOrigins())) return false;
    await shell.openExternal(url);
    return true;
  };

  installNavigationGuards(
    (id) => (signInContentsIds.has(id) ? 'sign-in' : 'settings'),
    { appPageUrl: pageUrl, issuerOrigin: host.issuerOrigin },
    externalOrigins,
    (id, kind, url) => {
      if (kind === 'sign-in') explainBlockedSignIn(id, url, openInBrowser);
    },
  );

  const context = { lab, trust };
  registerStateIpc(context);
  registerProfilesIpc(context);
  registerSessionsIpc(context);
  registerQuotaIpc(context);
  registerLoginIpc(context, {
    openInBrowser,
    openPopup: (login) => openSignInPopup(login, settingsWindow()),
    closePopup: closeSignInPopup,
  });
  registerDesktopIpc(context, {
    preferences,
    async openLogsFolder() {
      const problem = await shell.openPath(logsFolder);
      return problem === ''
        ? null
        : `The logs folder ${logsFolder} could not be opened: ${problem}`;
    },
  });

  const openSettings = (): BrowserWindow =>
    showSettingsWindow(paths, preferences, (window) => {
      const id = window.webContents.id;
      windowIds.add(id);
      windows.set(id, window);
      window.on('closed', () => {
        windowIds.delete(id);
        windows.delete(id);
      });
      // Opened while the router is not answering: the page says so rather than wait for it.
      if (offline !== null) sendWhenLoaded(window, ipcChannels.offline, offline);
    });
  // A notification click opens the settings on the profile it is about.
  const showProfile = (profile: string): void => {
    sendWhenLoaded(openSettings(), desktopChannels.focusProfile, profile);
  };

  // The tray's Add account… opens the page's dialog: the page runs the sign-in (the preferred
  // method, a name, the device code) and shows why it could not start.
  const openAddAccount = (): void => {
    sendWhenLoaded(openSettings(), desktopChannels.addAccount, null);
  };
  const onTrayAction = (action: TrayAction): void => {
    void runTrayAction(action, {
      lab,
      openSettings: () => void openSettings(),
      openProfile: showProfile,
      openAddAccount,
      async openDashboard() {
        const url = await host.dashboardUrl();
        return url !== null && (await openInBrowser(url));
      },
      updatePreferences: (patch) => {
        const result = preferences.update(patch);
        if (!result.ok) logger.warn({ code: result.code }, result.message);
        return result;
      },
      quit: () => app.quit(),
      showFailure(title, message) {
        void dialog.showMessageBox({
          type: 'warning',
          title: 'Codex Lab',
          message: title,
          detail: message,
          buttons: ['OK'],
        });
      },
      redraw: () => tray.redraw(),
    });
  };

  const tray = createTrayController(paths.trayIcon, onTrayAction);
  let previous: LabState | null = null;
  let latest: LabState | null = null;
  // The router this app follows is not answering (its sentence), until its next state.
  let offline: string | null = null;
  // Windows drops a notification's click handler when the object is collected: keep each alive.
  const shown = new Set<Notification>();
  const onState = (state: LabState): void => {
    latest = state;
    offline = null;
    tray.render(state, userPreferences(preferences.all()));
    broadcastState(
      [...windows.values()].map((window) => window.webContents),
      state,
    );
    closeFinishedPopups(state.logins);
    if (preferences.get('notifications') && Notification.isSupported()) {
      for (const notice of diffNotifications(previous, state, { now: Date.now() })) {
        const notification = new Notification({ title: notice.title, body: notice.body });
        shown.add(notification);
        notification.on('click', () => showProfile(notice.profile));
        notification.on('close', () => shown.delete(notification));
        notification.show();
      }
    }
    previous = state;
  };
  // A frozen `serve` (attached app) is said in the tray and on the page, not shown as live.
  const onOffline = (message: string): void => {
    offline = message;
    if (latest) tray.render(latest, userPreferences(preferences.all()), offline);
    broadcastOffline(
      [...windows.values()].map((window) => window.webContents),
      message,
    );
  };
  lab.subscribe(onState, onOffline);
  onState(await lab.getState());

  // Launch at login follows the preference on every OS; any change applies at once.
  const launchFacts = {
    platform: process.platform,
    command: app.isPackaged ? [process.execPath] : [process.execPath, appRoot],
    configFolder: app.getPath('appData'),
  };
  const applyLaunchAtLogin = (enabled: boolean): void => {
    try {
      applyLoginItemPlan(loginItemPlan(enabled, launchFacts), {
        ...fileEffects,
        setLoginItemSettings: (settings) => app.setLoginItemSettings(settings),
      });
    } catch (error) {
      logger.warn({ err: error }, 'launch at login could not be changed');
    }
  };
  applyLaunchAtLogin(preferences.get('launchAtLogin'));
  preferences.onChange((next, before) => {
    const changed = changedPreferences(before, next);
    if (changed.includes('launchAtLogin')) applyLaunchAtLogin(next.launchAtLogin);
    if (changed.every((key) => key === 'settingsBounds')) return;
    if (latest) tray.render(latest, userPreferences(next), offline);
    for (const window of windows.values()) {
      sendToWindow(window.webContents, desktopChannels.preferencesChanged, userPreferences(next));
    }
  });

  // After sleep every token may be past its exp and every window may have reset: a usage refresh
  // asks for fresh credentials first (TokenManager refreshes stale tokens) and then new numbers.
  powerMonitor.on('resume', () => void lab.refreshUsage({ profile: null }));

  onSecondInstance = () => openSettings();
  if (secondInstanceWaiting) openSettings();
  // macOS: clicking the app in Finder or Launchpad while it runs reopens the settings.
  app.on('activate', () => openSettings());
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => undefined);
  // Quit waits for the service to stop (health and quota writes, the router), with a limit, and
  // then for the refreshes in flight to write their rotated tokens, with none: a locked keychain
  // at logout holds a write for 11 s, an issuer's answer up to its own timeout.
  const quitSequence = createQuitSequence({
    beforeStop: () => tray.destroy(),
    stop: () => host.close(),
    criticalWork: async () => {
      await criticalWorkSettled();
      // Last, so what the refreshes log lands in it.
      await fileLog.close();
    },
    timeoutMs: defaultQuitTimeoutMs,
    clock: systemClock,
    quit: () => app.quit(),
    logger,
  });
  app.on('before-quit', (event) => quitSequence.onBeforeQuit(event));
  // A signal quits the same way (refreshes finished first), however often it is sent.
  quitOnSignals(process, () => app.quit());

  if (!app.isPackaged) {
    // Development and the smoke test only: what the tray shows and where the router listens (the
    // tray menu has no public view in Electron's API).
    Object.assign(globalThis, {
      codexLabTestView: { trayItems: () => tray.items(), routerOrigin: () => host.routerOrigin() },
    });
  }

  if (
    process.argv.includes('--show-settings') ||
    !wasOpenedAtLogin(process.platform, process.argv, () => app.getLoginItemSettings())
  ) {
    openSettings();
  }
}
