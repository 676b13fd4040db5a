/**
 * Owns the Electron `Tray`: shows the host's drawings (`tray-host.ts`, which redraws only when
 * what the tray shows changed, and while a countdown in it ticks over) as a real `Menu`.
 */
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { systemClock } from '../../core/ports.ts';
import { trayClickBehavior } from '../platform/platform-conventions.ts';
import { createTrayHost, type TrayController } from './tray-host.ts';
import type { TrayAction, TrayMenuItem } from './tray-menu.ts';

export type { TrayController } from './tray-host.ts';

function toElectron(
  items: readonly TrayMenuItem[],
  onAction: (action: TrayAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((item) => {
    const options: MenuItemConstructorOptions = {};
    if (item.id !== undefined) options.id = item.id;
    if (item.label !== undefined) options.label = item.label;
    if (item.type !== undefined) options.type = item.type;
    if (item.checked !== undefined) options.checked = item.checked;
    if (item.enabled !== undefined) options.enabled = item.enabled;
    // Hover text (macOS): the whole text of a label cut to fit, an account's windows and resets.
    if (item.toolTip !== undefined) options.toolTip = item.toolTip;
    if (item.submenu) options.submenu = toElectron(item.submenu, onAction);
    const action = item.action;
    if (action) options.click = () => onAction(action);
    return options;
  });
}

/** Creates the tray with its icon; `render` draws it from each new state. */
export function createTrayController(
  iconPath: string,
  onAction: (action: TrayAction) => void,
): TrayController {
  const icon = nativeImage.createFromPath(iconPath);
  // A "…Template.png" icon follows the macOS menu bar's light/dark appearance.
  if (process.platform === 'darwin') icon.setTemplateImage(true);
  const tray = new Tray(icon);
  // Windows shows the menu only on a right click by itself; users expect the left click to work.
  if (trayClickBehavior(process.platform) === 'open-menu') {
    tray.on('click', () => tray.popUpContextMenu());
  }
  const menuBarTitle = process.platform === 'darwin';
  const host: TrayController = createTrayHost(
    {
      show(drawing) {
        if (menuBarTitle) tray.setTitle(drawing.title);
        tray.setToolTip(drawing.tooltip);
        const menu = Menu.buildFromTemplate(toElectron(drawing.items, onAction));
        // Replacing an open menu closes it (macOS, Windows): the host waits while it is open.
        menu.on('menu-will-show', () => host.menuOpened());
        menu.on('menu-will-close', () => host.menuClosed());
        tray.setContextMenu(menu);
      },
      destroy: () => tray.destroy(),
    },
    { clock: systemClock, menuBarTitle },
  );
  return host;
}
