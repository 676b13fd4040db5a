/**
 * What each OS expects of a tray app, as pure decisions main applies: the application menu, what
 * a click on the tray icon does, and whether the Dock icon shows. Unit-tested per platform.
 */

/** A menu item in Electron's template shape (roles only: no callbacks, so it stays pure). */
export interface MenuTemplateItem {
  label?: string;
  role?: string;
  type?: 'separator' | 'submenu';
  accelerator?: string;
  submenu?: MenuTemplateItem[];
}

/** The application menu: Electron's default (development), none, or ours. */
export type ApplicationMenuPlan =
  { kind: 'default' } | { kind: 'none' } | { kind: 'template'; template: MenuTemplateItem[] };

/**
 * macOS always gets our menu: Edit shortcuts (copy and paste in the rename field need it) and
 * Cmd+Q closing the settings window instead of quitting (the tray's "Quit Codex Lab" quits); its
 * View menu with DevTools only in development. Elsewhere a packaged app has no menu at all (the
 * default one carries DevTools), and development keeps Electron's default.
 */
export function applicationMenuPlan(
  platform: NodeJS.Platform,
  isPackaged: boolean,
): ApplicationMenuPlan {
  if (platform !== 'darwin') return isPackaged ? { kind: 'none' } : { kind: 'default' };
  const template: MenuTemplateItem[] = [
    {
      label: 'Codex Lab',
      type: 'submenu',
      submenu: [
        { role: 'about' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { type: 'separator' },
        // The app keeps running in the menu bar; only the tray's Quit ends it.
        { label: 'Close Window', role: 'close', accelerator: 'Command+Q' },
      ],
    },
    { role: 'editMenu' },
    { role: 'windowMenu' },
  ];
  if (!isPackaged) {
    template.push({
      label: 'View',
      type: 'submenu',
      submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }],
    });
  }
  return { kind: 'template', template };
}

/** What a left click on the tray icon does. */
export type TrayClickBehavior = 'native' | 'open-menu';

/**
 * Windows users expect a left click to open the menu (Windows shows it only on right click by
 * itself); macOS opens it on any click, and Linux's StatusNotifier/AppIndicator sends no click at
 * all, only the menu.
 */
export function trayClickBehavior(platform: NodeJS.Platform): TrayClickBehavior {
  return platform === 'win32' ? 'open-menu' : 'native';
}

/**
 * A menu-bar app has no Dock icon: the packaged app says so in Info.plist (`LSUIElement`), so only
 * the development run (plain Electron) hides the Dock icon itself.
 */
export function shouldHideDock(platform: NodeJS.Platform, isPackaged: boolean): boolean {
  return platform === 'darwin' && !isPackaged;
}
