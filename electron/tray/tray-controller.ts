/**
 * Owns the Electron `Tray`: maps the pure menu template to a real `Menu`, and redraws only when
 * what the tray shows actually changed (state pushes are frequent; menus are not cheap to rebuild).
 */
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import type { LabState } from '../../core/service/contract.ts';
import type { UserPreferences } from '../ipc/desktop-contract.ts';
import { trayClickBehavior } from '../platform/platform-conventions.ts';
import {
  buildTrayMenu,
  buildTrayTitle,
  buildTrayTooltip,
  traySignature,
  type TrayAction,
  type TrayMenuItem,
} from './tray-menu.ts';

/** A tray drawn from state. */
export interface TrayController {
  /**
   * Draws the menu from a new state (and the current preferences; `offline`, the sentence saying
   * the router is not answering, while it is not).
   */
  render(state: LabState, preferences?: UserPreferences, offline?: string | null): void;
  /**
   * Rebuilds the menu from what was last drawn even though nothing changed: after an action that
   * failed, Electron's menu still shows the click (a radio item moved), not the state.
   */
  redraw(): void;
  /** The template last drawn (the smoke test reads it; the menu object has no public view). */
  items(): readonly TrayMenuItem[];
  destroy(): void;
}

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
  let lastSignature = '';
  let lastItems: TrayMenuItem[] = [];
  let last: [LabState, UserPreferences | undefined, string | null | undefined] | null = null;
  const draw = (
    state: LabState,
    preferences: UserPreferences | undefined,
    offline: string | null | undefined,
    force: boolean,
  ) => {
    last = [state, preferences, offline];
    const now = Date.now();
    const options = { now, offline: offline ?? null, ...(preferences ? { preferences } : {}) };
    const tooltip = buildTrayTooltip(state, options);
    const items = buildTrayMenu(state, options);
    // The macOS menu bar shows the pool's headroom beside the icon ("47%"): not a stale one.
    const title = process.platform === 'darwin' && !offline ? buildTrayTitle(state) : '';
    const signature = traySignature(items, `${title}\n${tooltip}`);
    if (signature === lastSignature && !force) return;
    lastSignature = signature;
    lastItems = items;
    if (process.platform === 'darwin') tray.setTitle(title);
    tray.setToolTip(tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(toElectron(items, onAction)));
  };
  return {
    render(state, preferences, offline) {
      draw(state, preferences, offline, false);
    },
    redraw() {
      if (last) draw(...last, true);
    },
    items: () => lastItems,
    destroy() {
      tray.destroy();
    },
  };
}
