/**
 * The tray menu as a pure function of `LabState`: the tray is redrawn from state, never patched,
 * so what it shows cannot drift from what the service knows.
 */
import type { LabState, ProfileView } from '../../core/service/contract.ts';
import { describePool } from '../../core/service/quota-text.ts';
import { statusLabel, unreadableFile } from '../../core/format.ts';
import type { UserPreferences } from '../ipc/desktop-contract.ts';
import { displayName, formatUntil, quotaSummary, type FormatOptions } from './tray-format.ts';

/** What a menu item does when clicked; main maps each to a service call or a window. */
export type TrayAction =
  | { kind: 'use'; profile: string }
  | { kind: 'add-account' }
  | { kind: 'settings' }
  | { kind: 'priming'; profile: string; enabled: boolean }
  | { kind: 'dashboard' }
  | { kind: 'preferences'; patch: Partial<UserPreferences> }
  | { kind: 'quit' };

/** A menu item shaped like Electron's `MenuItemConstructorOptions`, plus a typed action. */
export interface TrayMenuItem {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'radio' | 'checkbox' | 'submenu';
  checked?: boolean;
  enabled?: boolean;
  submenu?: TrayMenuItem[];
  action?: TrayAction;
}

/** The name `LabState.active` uses for automatic routing. */
export const autoProfile = 'auto';

/** Options for `buildTrayMenu` and `buildTrayTooltip`. */
export interface TrayMenuOptions extends FormatOptions {
  /** The user's preferences, shown as a Preferences submenu (omitted: no submenu). */
  preferences?: UserPreferences;
  /**
   * Set while the router this app follows is not answering (its sentence): the menu says so
   * first, shows the rest as its last answer, and offers no change that could not reach it.
   */
  offline?: string | null;
}

/** The first line of the menu and the tooltip while the router is not answering. */
export const offlineLabel = 'Codex Lab is not answering — showing its last state';

/** The Preferences submenu: the same three choices as the settings page, applied at once. */
export function preferencesMenu(preferences: UserPreferences): TrayMenuItem {
  return {
    id: 'preferences',
    label: 'Preferences',
    type: 'submenu',
    submenu: [
      {
        id: 'preferences:launch-at-login',
        label: 'Launch at login',
        type: 'checkbox',
        checked: preferences.launchAtLogin,
        action: { kind: 'preferences', patch: { launchAtLogin: !preferences.launchAtLogin } },
      },
      {
        id: 'preferences:notifications',
        label: 'Notifications',
        type: 'checkbox',
        checked: preferences.notifications,
        action: { kind: 'preferences', patch: { notifications: !preferences.notifications } },
      },
      { type: 'separator' },
      {
        id: 'preferences:sign-in-browser',
        label: 'Sign in with my browser',
        type: 'radio',
        checked: preferences.signIn === 'browser',
        action: { kind: 'preferences', patch: { signIn: 'browser' } },
      },
      {
        id: 'preferences:sign-in-popup',
        label: 'Sign in with a small window',
        type: 'radio',
        checked: preferences.signIn === 'popup',
        action: { kind: 'preferences', patch: { signIn: 'popup' } },
      },
      {
        id: 'preferences:sign-in-device',
        label: 'Sign in with a one-time code',
        type: 'radio',
        checked: preferences.signIn === 'device',
        action: { kind: 'preferences', patch: { signIn: 'device' } },
      },
    ],
  };
}

/** "work — 5h 12% · wk 40%", with ⏸/⚠ marks for limited and needs-sign-in profiles. */
export function profileMenuLabel(profile: ProfileView, options: TrayMenuOptions): string {
  const name = displayName(profile);
  const quota = quotaSummary(profile);
  if (profile.status === 'auth_error')
    return `⚠ ${name} — ${statusLabel(profile.status, profile.statusCode)}`;
  if (profile.status === 'limited') {
    const until = profile.unavailableUntil
      ? ` until ${formatUntil(profile.unavailableUntil, options)}`
      : '';
    return `⏸ ${name} — limited${until}${quota ? ` · ${quota}` : ''}`;
  }
  return quota ? `${name} — ${quota}` : name;
}

/**
 * The pool summary as the menu's first lines (disabled items: they inform, they do not act):
 * the headline, then who new sessions get, the next free time and the week's forecast.
 */
export function poolMenuItems(state: LabState, options: TrayMenuOptions): TrayMenuItem[] {
  if (state.profiles.length === 0) return [];
  const text = describePool(state.pool, options);
  return [
    { id: 'pool:headline', label: text.headline, enabled: false },
    ...text.lines.map((line, index) => ({ id: `pool:${index}`, label: line, enabled: false })),
    { type: 'separator' as const },
  ];
}

/** Builds the whole tray menu from state. */
export function buildTrayMenu(state: LabState, options: TrayMenuOptions): TrayMenuItem[] {
  const isAuto = state.active === autoProfile;
  const problems = state.problems.length;
  const offline = Boolean(options.offline);
  const items: TrayMenuItem[] = [
    // A frozen router: what follows is its last answer, and no switch can reach it.
    ...(offline
      ? [{ id: 'offline', label: offlineLabel, enabled: false }, { type: 'separator' as const }]
      : []),
    // What the router cannot read is missing from every line below: say so first.
    ...(problems > 0
      ? [
          {
            id: 'problems',
            label: `${problems === 1 ? 'A file' : `${problems} files`} Codex Lab cannot read: open Settings`,
            enabled: true,
            action: { kind: 'settings' as const },
          },
          { type: 'separator' as const },
        ]
      : []),
    ...poolMenuItems(state, options),
    {
      id: 'use:auto',
      label: 'Auto (best account)',
      type: 'radio',
      checked: isAuto,
      ...(offline ? { enabled: false } : {}),
      action: { kind: 'use', profile: autoProfile },
    },
  ];
  for (const profile of state.profiles) {
    items.push({
      id: `use:${profile.name}`,
      label: profileMenuLabel(profile, options),
      type: 'radio',
      checked: !isAuto && state.active === profile.name,
      ...(offline ? { enabled: false } : {}),
      action: { kind: 'use', profile: profile.name },
    });
  }
  if (state.profiles.length === 0 && problems === 0) {
    items.push({ id: 'no-profiles', label: 'No accounts yet', enabled: false });
  }
  items.push(
    { type: 'separator' },
    { id: 'add-account', label: 'Add account…', action: { kind: 'add-account' } },
    { id: 'settings', label: 'Settings…', action: { kind: 'settings' } },
    {
      id: 'priming',
      label: 'Priming',
      type: 'submenu',
      enabled: state.profiles.length > 0 && !offline,
      submenu: state.profiles.map((profile) => ({
        id: `priming:${profile.name}`,
        label: displayName(profile),
        type: 'checkbox' as const,
        checked: profile.priming,
        action: { kind: 'priming' as const, profile: profile.name, enabled: !profile.priming },
      })),
    },
    { id: 'dashboard', label: 'Open dashboard', action: { kind: 'dashboard' } },
    ...(options.preferences ? [preferencesMenu(options.preferences)] : []),
    { type: 'separator' },
    { id: 'quit', label: 'Quit Codex Lab', action: { kind: 'quit' } },
  );
  return items;
}

/**
 * The tray tooltip: the pool's headline and who new sessions get, then what routes new sessions
 * and how many accounts need attention; while the router is not answering, only that (the rest
 * would read as live).
 */
export function buildTrayTooltip(state: LabState, options?: TrayMenuOptions): string {
  if (options?.offline) return offlineLabel;
  if (state.profiles.length === 0) return 'Codex Lab — no accounts yet';
  const pool = describePool(state.pool, options ?? { now: Date.now() });
  return [pool.headline, pool.lines[0] ?? '', routingTooltip(state)]
    .filter((line) => line !== '')
    .join('\n');
}

/** The macOS menu-bar title: the pool's headroom as a short percentage ("47%"), or "". */
export function buildTrayTitle(state: LabState): string {
  return state.profiles.length === 0 || state.pool.headroomPercent === null
    ? ''
    : `${state.pool.headroomPercent}%`;
}

function routingTooltip(state: LabState): string {
  const active = state.profiles.find((profile) => profile.name === state.active);
  const head = active
    ? `Codex Lab — ${displayName(active)}${quotaSummary(active) ? ` (${quotaSummary(active)})` : ''}`
    : `Codex Lab — Auto, ${state.profiles.length} account${state.profiles.length === 1 ? '' : 's'}`;
  const limited = state.profiles.filter((profile) => profile.status === 'limited').length;
  const failing = state.profiles.filter((profile) => profile.status === 'auth_error');
  // An auth file that cannot be read needs mending, a locked keychain unlocking, not a sign-in:
  // each counted apart.
  const unreadable = failing.filter((profile) => unreadableFile(profile.statusCode));
  const keychain = unreadable.filter((profile) => profile.statusCode === 'keyring_unavailable');
  const files = unreadable.length - keychain.length;
  const signIn = failing.length - unreadable.length;
  const notes: string[] = [];
  if (limited > 0) notes.push(`${limited} limited`);
  if (signIn > 0) notes.push(`${signIn} need${signIn === 1 ? 's' : ''} sign-in`);
  if (files > 0) notes.push(`${files} auth file${files === 1 ? '' : 's'} unreadable`);
  if (keychain.length > 0) notes.push(`${keychain.length} keychain unavailable`);
  return notes.length > 0 ? `${head} · ${notes.join(', ')}` : head;
}

/** A cheap fingerprint of what the tray shows, so an unchanged state skips the redraw. */
export function traySignature(items: readonly TrayMenuItem[], tooltip: string): string {
  return JSON.stringify([tooltip, items]);
}
