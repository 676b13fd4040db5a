/**
 * The tray menu as a pure function of `LabState`: the tray is redrawn from state, never patched,
 * so what it shows cannot drift from what the service knows.
 */
import type { LabState, ProfileView } from '../../core/service/contract.ts';
import { describePool } from '../../core/service/quota-text.ts';
import {
  capitalize,
  cutAtWord,
  failingUpstreamChangesAt,
  failingUpstreamText,
  formatClockTime,
  formatWindowLeftAt,
  hasNoAccounts,
  lastKnownText,
  noAccountsLabel,
  poolLeftParts,
  quotaAmountText,
  quotaNotLive,
  windowLeft,
  statusLabel,
  unreadableFile,
  usedUpWindow,
  windowName as longWindowName,
} from '../../core/format.ts';
import type { UserPreferences } from '../ipc/desktop-contract.ts';
import {
  displayName,
  formatUntil,
  quotaSummary,
  windowName,
  type FormatOptions,
} from './tray-format.ts';

/** What a menu item does when clicked; main maps each to a service call or a window. */
export type TrayAction =
  | { kind: 'use'; profile: string }
  /** Opens the settings on the profile's card: where it is signed in again, or its file mended. */
  | { kind: 'show-profile'; profile: string }
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
  /** The item's whole text, where a label is cut short (hover text; macOS shows it). */
  toolTip?: string;
}

/**
 * The most items the menu's top level holds, separators included, however many accounts there
 * are: macOS and Windows cut off a tray menu taller than the screen, and 24 rows fit a 1366×768
 * screen at 125% scaling with the taskbar.
 */
export const trayTopLevelMax = 24;

/** The longest label, in characters: a longer one widens the whole menu, or is cut by the OS. */
export const trayLabelMax = 60;

/** The longest account name in a label, so the account's state after it always shows. */
const nameMax = 24;

/**
 * Up to this many accounts are listed one by one at the top level; with more, the top level
 * keeps the accounts in use and those needing attention, and "All accounts (N)" has them all.
 */
export const trayAccountsFlatUpTo = 6;

/** The most accounts shown as in use at the top level (the active one first). */
const inUseMax = 3;

/** The most accounts waiting on a reset shown at the top level (the soonest back). */
const waitingMax = 3;

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

/**
 * What the tray leads with, decided once from state for its menu, tooltip, menu-bar title and
 * countdowns, so none of them can disagree: a router not answering, then files Codex Lab cannot
 * read, then "No accounts yet" (only for a home with neither accounts nor such a file).
 */
export interface TrayLead {
  /** The router this app follows is not answering: what shows is its last state. */
  offline: boolean;
  /** "A file Codex Lab cannot read: open Settings" ("2 files …"), or null when every file reads. */
  problems: string | null;
  /** The accounts listed: the pool lines, its figure and their countdowns are shown for them. */
  accounts: boolean;
  /** A first launch (`hasNoAccounts`): the menu says `noAccountsLabel`. */
  noAccounts: boolean;
}

/** The tray's lead for `state` (see `TrayLead`): the one precedence every part of it follows. */
export function trayLead(state: LabState, options?: Pick<TrayMenuOptions, 'offline'>): TrayLead {
  const count = state.problems.length;
  return {
    offline: Boolean(options?.offline),
    problems:
      count === 0
        ? null
        : `${count === 1 ? 'A file' : `${count} files`} Codex Lab cannot read: open Settings`,
    accounts: state.profiles.length > 0,
    noAccounts: hasNoAccounts(state),
  };
}

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

/**
 * "work — 5h 88% · wk 60% left", "⏸ work — limited until 14:30", "⏸ work — wk used up until
 * Thu 09:00", "⚠ work — needs sign-in": at most `trayLabelMax` characters, the name cut first.
 */
export function profileMenuLabel(profile: ProfileView, options: TrayMenuOptions): string {
  const name = cutAtWord(displayName(profile), nameMax);
  const mark = profileMark(profile, options.now);
  return cutAtWord(`${mark}${name} — ${profileState(profile, options)}`, trayLabelMax);
}

/**
 * "⚠ " for a profile that cannot be used until mended, "⏸ " for one waiting on a reset or skipped
 * for failing upstream.
 */
function profileMark(profile: ProfileView, now: number): string {
  if (profile.status === 'auth_error') return '⚠ ';
  if (profile.status === 'limited' || usedUpWindow(profile, now)) return '⏸ ';
  if (failingUpstreamText(profile.status, profile.skippedUntil, now) !== null) return '⏸ ';
  return '';
}

/** The state part of a label; a limited profile's quota is left to the tooltip (it waits). */
function profileState(profile: ProfileView, options: TrayMenuOptions): string {
  if (profile.status === 'auth_error') return statusLabel(profile.status, profile.statusCode);
  const failing = failingUpstreamText(profile.status, profile.skippedUntil, options.now);
  if (failing !== null) return failing;
  if (profile.status === 'limited') {
    return profile.unavailableUntil
      ? `limited until ${formatUntil(profile.unavailableUntil, options)}`
      : 'limited';
  }
  const usedUp = usedUpWindow(profile, options.now);
  if (usedUp) {
    return `${windowName(usedUp.window)} ${quotaAmountText(100)} until ${formatClockTime(usedUp.until, options)}`;
  }
  return quotaSummary(profile, options.now) || statusLabel(profile.status, profile.statusCode);
}

/**
 * An account item's whole text: its name (and label), its state and both windows with their
 * resets as clock times (the menu is redrawn by itself only while a countdown shows), and what a
 * click does when it does not make it active.
 */
export function profileToolTip(profile: ProfileView, options: TrayMenuOptions): string {
  const who = profile.label ? `${profile.label} (${profile.name})` : profile.name;
  // Figures that are not live are said as last known, with when they were read (a clock time:
  // the menu is not redrawn as an age grows), after the state that stops the reading.
  const notLive = quotaNotLive(profile);
  const windows = [profile.quota.primary, profile.quota.secondary]
    .filter((window) => window !== null)
    .map(
      (window) =>
        `${capitalize(longWindowName(window.windowMinutes))} ${formatWindowLeftAt(window, options)}`,
    );
  const lastKnown =
    notLive && windows.length > 0
      ? [`${capitalize(lastKnownText(notLive, options, 'clock'))}:`]
      : [];
  const lines = [`${who} — ${profileState(profile, options)}`, ...lastKnown, ...windows];
  if (profile.status === 'auth_error') {
    lines.push(
      unreadableFile(profile.statusCode)
        ? 'Click to open its card in Settings, which says what to mend'
        : 'Click to open its card in Settings and sign in again',
    );
  }
  return lines.join('\n');
}

/**
 * The pool summary as the menu's first lines (disabled items: they inform, they do not act):
 * the headline, then who new sessions get, the next free time and the week's forecast.
 */
export function poolMenuItems(state: LabState, options: TrayMenuOptions): TrayMenuItem[] {
  if (!trayLead(state, options).accounts) return [];
  const text = describePool(state.pool, options);
  return [
    infoItem('pool:headline', text.headline),
    ...text.lines.map((line, index) => infoItem(`pool:${index}`, line)),
    { type: 'separator' as const },
  ];
}

/** A line that informs (disabled), cut to `trayLabelMax` with its whole text as the tooltip. */
function infoItem(id: string, text: string): TrayMenuItem {
  const label = cutAtWord(text, trayLabelMax);
  return { id, label, enabled: false, ...(label === text ? {} : { toolTip: text }) };
}

/**
 * One account as a menu item (`prefix` tells apart its copy in "All accounts"): a radio that
 * makes it active, or for one that cannot serve until mended, an item opening its card there.
 */
function accountItem(
  profile: ProfileView,
  state: LabState,
  options: TrayMenuOptions,
  prefix = '',
): TrayMenuItem {
  const active = state.active !== autoProfile && state.active === profile.name;
  const shown = {
    label: profileMenuLabel(profile, options),
    toolTip: profileToolTip(profile, options),
  };
  if (profile.status === 'auth_error') {
    // Making it active would not make it serve; its card signs it in again (or says what to
    // mend). Opening Settings works with the router not answering too. The active one keeps its
    // check, so the menu still says where new sessions are sent.
    return {
      id: `${prefix}show:${profile.name}`,
      ...shown,
      ...(active ? { type: 'radio' as const, checked: true } : {}),
      action: { kind: 'show-profile', profile: profile.name },
    };
  }
  return {
    id: `${prefix}use:${profile.name}`,
    ...shown,
    type: 'radio',
    checked: active,
    ...(options.offline ? { enabled: false } : {}),
    action: { kind: 'use', profile: profile.name },
  };
}

/**
 * How soon an account can serve, for sorting: ready ones by most quota left, then the ones
 * waiting on a reset by the soonest back, then the ones needing a sign-in, then unreadable ones.
 */
function readiness(profile: ProfileView, now: number): [number, number] {
  if (profile.status === 'auth_error') return [unreadableFile(profile.statusCode) ? 3 : 2, 0];
  if (profile.status === 'limited') {
    const until = profile.unavailableUntil ? Date.parse(profile.unavailableUntil) : Number.NaN;
    return [1, Number.isNaN(until) ? Number.POSITIVE_INFINITY : until];
  }
  const usedUp = usedUpWindow(profile, now);
  if (usedUp) return [1, usedUp.until];
  const windows = [profile.quota.primary, profile.quota.secondary].filter((w) => w !== null);
  // Most left first; an account whose quota is not known yet after every known one.
  if (windows.length === 0) return [0, 1];
  // What the tightest window has left, as its label says it (a window past its reset is unused).
  return [0, -Math.min(...windows.map((window) => windowLeft(window, now).left ?? 0))];
}

/** The profiles sorted by `readiness`, then by name. */
function byReadiness(profiles: readonly ProfileView[], now: number): ProfileView[] {
  const keyed = profiles.map((profile) => ({ profile, key: readiness(profile, now) }));
  keyed.sort(
    (a, b) =>
      a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.profile.name.localeCompare(b.profile.name),
  );
  return keyed.map((entry) => entry.profile);
}

/** Reads names as a person does: case aside, "acct-2" before "acct-10". */
const nameOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * The accounts by the name the tray shows, for a list read to find one account (the priming
 * checklist): with 30 accounts, the order they were added in says nothing.
 */
function byDisplayName(profiles: ProfileView[]): ProfileView[] {
  return [...profiles].sort(
    (a, b) => nameOrder.compare(displayName(a), displayName(b)) || a.name.localeCompare(b.name),
  );
}

/** The accounts in use: the active one, those with live sessions, the one new sessions get. */
function accountsInUse(state: LabState): string[] {
  const names: string[] = [];
  if (state.active !== autoProfile) names.push(state.active);
  const sessions = new Map<string, number>();
  for (const session of state.sessions) {
    sessions.set(session.profile, (sessions.get(session.profile) ?? 0) + 1);
  }
  names.push(...[...sessions].sort((a, b) => b[1] - a[1]).map(([name]) => name));
  if (state.pool.next.profile) names.push(state.pool.next.profile);
  const known = new Set(state.profiles.map((profile) => profile.name));
  return [...new Set(names)].filter((name) => known.has(name)).slice(0, inUseMax);
}

/**
 * The accounts at the top level, in at most `room` items: all of them when few, else the ones in
 * use, then those needing attention (a sign-in first, then the soonest back), then "All accounts
 * (N)" with every account sorted by how soon it can serve.
 */
function accountItems(state: LabState, options: TrayMenuOptions, room: number): TrayMenuItem[] {
  const { profiles } = state;
  if (profiles.length <= Math.min(trayAccountsFlatUpTo, room)) {
    return profiles.map((profile) => accountItem(profile, state, options));
  }
  const sorted = byReadiness(profiles, options.now);
  const byName = new Map(profiles.map((profile) => [profile.name, profile]));
  const inUse = accountsInUse(state)
    .slice(0, Math.max(0, room - 1))
    .map((name) => byName.get(name)!);
  const rest = sorted.filter((profile) => !inUse.includes(profile));
  const rank = (profile: ProfileView) => readiness(profile, options.now)[0];
  // A sign-in (or a file to mend) is for the user to do now: all of them, before any wait. Of
  // the accounts waiting on a reset, the few back soonest (the rest only wait).
  const broken = rest.filter((profile) => rank(profile) >= 2);
  const waiting = rest.filter((profile) => rank(profile) === 1);
  const attention = [...broken, ...waiting.slice(0, waitingMax)];
  const shown = attention.slice(0, Math.max(0, room - 1 - inUse.length));
  const hidden = broken.length + waiting.length - shown.length;
  return [
    ...[...inUse, ...shown].map((profile) => accountItem(profile, state, options)),
    {
      id: 'accounts',
      label: `All accounts (${profiles.length})${hidden > 0 ? ` · ${hidden} more not ready` : ''}`,
      type: 'submenu',
      submenu: sorted.map((profile) => accountItem(profile, state, options, 'accounts:')),
    },
  ];
}

/** Builds the whole tray menu from state. */
export function buildTrayMenu(state: LabState, options: TrayMenuOptions): TrayMenuItem[] {
  const isAuto = state.active === autoProfile;
  const lead = trayLead(state, options);
  const offline = lead.offline;
  const items: TrayMenuItem[] = [
    // A frozen router: what follows is its last answer, and no switch can reach it.
    ...(offline
      ? [{ id: 'offline', label: offlineLabel, enabled: false }, { type: 'separator' as const }]
      : []),
    // What the router cannot read is missing from every line below: say so first.
    ...(lead.problems !== null
      ? [
          {
            id: 'problems',
            label: lead.problems,
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
  const tail: TrayMenuItem[] = [
    { type: 'separator' },
    { id: 'add-account', label: 'Add account…', action: { kind: 'add-account' } },
    { id: 'settings', label: 'Settings…', action: { kind: 'settings' } },
    {
      id: 'priming',
      label: 'Priming',
      type: 'submenu',
      enabled: lead.accounts && !offline,
      submenu: byDisplayName(state.profiles).map((profile) => ({
        id: `priming:${profile.name}`,
        label: cutAtWord(displayName(profile), trayLabelMax),
        ...(displayName(profile).length > trayLabelMax ? { toolTip: displayName(profile) } : {}),
        type: 'checkbox' as const,
        checked: profile.priming,
        action: { kind: 'priming' as const, profile: profile.name, enabled: !profile.priming },
      })),
    },
    { id: 'dashboard', label: 'Open dashboard', action: { kind: 'dashboard' } },
    ...(options.preferences ? [preferencesMenu(options.preferences)] : []),
    { type: 'separator' },
    { id: 'quit', label: 'Quit Codex Lab', action: { kind: 'quit' } },
  ];
  if (lead.noAccounts) items.push({ id: 'no-profiles', label: noAccountsLabel, enabled: false });
  if (lead.accounts) {
    items.push(...accountItems(state, options, trayTopLevelMax - items.length - tail.length));
  }
  return [...items, ...tail];
}

/**
 * The longest tray icon tooltip shown whole: Windows keeps 127 characters of it (the notification
 * area's `szTip`), and macOS and Linux show a long one badly anyway.
 */
export const trayTooltipMax = 127;

/**
 * The tray tooltip, led as the menu is (`trayLead`): while the router is not answering, only
 * that (the rest would read as live); files Codex Lab cannot read first, by the menu's words;
 * then the pool's headline, what routes new sessions and how many accounts need attention, and
 * who new sessions go to; with no account listed, the first unreadable file's sentence (it names
 * the file), or "no accounts yet" on a first launch.
 */
export function buildTrayTooltip(state: LabState, options?: TrayMenuOptions): string {
  const lead = trayLead(state, options);
  if (lead.offline) return offlineLabel;
  const lines: string[] = lead.problems !== null ? [lead.problems] : [];
  if (lead.accounts) {
    const pool = describePool(state.pool, options ?? { now: Date.now() });
    // What needs the user (the routing line's notes) before who new sessions go to.
    lines.push(
      pool.headline,
      routingTooltip(state, options?.now ?? Date.now()),
      pool.lines[0] ?? '',
    );
  } else if (lead.noAccounts) {
    lines.push(`Codex Lab — ${noAccountsLabel.toLowerCase()}`);
  } else {
    lines.push(state.problems[0]?.message ?? '');
  }
  return joinWithin(
    lines.filter((line) => line !== ''),
    trayTooltipMax,
  );
}

/**
 * `lines` joined by newlines within `max` characters: whole lines while they fit, then the next one
 * cut with "…" when a useful part of it fits (else left out), so the first lines always show.
 */
function joinWithin(lines: readonly string[], max: number): string {
  let text = '';
  for (const line of lines) {
    const room = max - (text === '' ? 0 : text.length + 1);
    // A line cut to a few characters says nothing: it is left out instead.
    const shown = line.length <= room ? line : room >= 24 ? cutAtWord(line, room) : '';
    if (shown === '') break;
    text = text === '' ? shown : `${text}\n${shown}`;
    if (shown !== line) break;
  }
  return text === '' ? cutAtWord(lines[0] ?? '', max) : text;
}

/**
 * The macOS menu-bar title: what the pool has left as a short percentage ("47%", the headline's
 * figure), or "" with no accounts, while it is not known, or while the router is not answering
 * (a stale figure would read as live).
 */
export function buildTrayTitle(
  state: LabState,
  options?: Pick<TrayMenuOptions, 'offline'>,
): string {
  const lead = trayLead(state, options);
  if (lead.offline || !lead.accounts || state.pool.headroomPercent === null) return '';
  return poolLeftParts(state.pool).figure;
}

function routingTooltip(state: LabState, now: number): string {
  const active = state.profiles.find((profile) => profile.name === state.active);
  const head = active
    ? // A long label is cut, so the notes after it stay in the tooltip's bound.
      `Codex Lab — ${cutAtWord(displayName(active), 32)}${quotaSummary(active, now) ? ` (${quotaSummary(active, now)})` : ''}`
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

/** Options for `drawTray`. */
export interface TrayDrawOptions extends TrayMenuOptions {
  /** True where the tray has a menu-bar title beside its icon (macOS). */
  menuBarTitle: boolean;
}

/** The tray as drawn from one state at one moment. */
export interface TrayDrawing {
  items: TrayMenuItem[];
  tooltip: string;
  /** The menu-bar title (`buildTrayTitle`), "" where none is drawn or while offline. */
  title: string;
  /** `traySignature` of all of it: an equal one needs no redraw. */
  signature: string;
  /**
   * The first moment after `now` at which the same state is drawn differently because a
   * countdown it shows ticks over ("tried again in 40s", a reason's "(in 2h 3m)"), or null when
   * it shows none: when the host draws it again without a new state.
   */
  redrawAt: number | null;
}

/**
 * The tray and its menu drawn from state: the one function the host calls, for a new state and
 * for a countdown that ticked over alike.
 */
export function drawTray(state: LabState, options: TrayDrawOptions): TrayDrawing {
  const tooltip = buildTrayTooltip(state, options);
  const items = buildTrayMenu(state, options);
  // The macOS menu bar shows the pool's headroom beside the icon ("47%"): not a stale one.
  const title = options.menuBarTitle ? buildTrayTitle(state, options) : '';
  return {
    items,
    tooltip,
    title,
    signature: traySignature(items, `${title}\n${tooltip}`),
    redrawAt: countdownsChangeAt(state, options),
  };
}

/**
 * When the countdowns `buildTrayMenu` and `buildTrayTooltip` show next tick over: the pool lines'
 * reasons, and every account's "tried again in …" (each account is drawn, at the top level or
 * under All accounts, with its tooltip).
 */
function countdownsChangeAt(state: LabState, options: TrayMenuOptions): number | null {
  // A router that is not answering has its last state on show: counting it down would claim
  // what the router no longer says ("tried again in 40s" reaching "ready").
  const lead = trayLead(state, options);
  if (!lead.accounts || lead.offline) return null;
  let soonest = describePool(state.pool, options).changesAt;
  for (const profile of state.profiles) {
    const changes = failingUpstreamChangesAt(profile.status, profile.skippedUntil, options.now);
    if (changes !== null && (soonest === null || changes < soonest)) soonest = changes;
  }
  return soonest;
}
