import { describe, expect, it } from 'vitest';
import { noAccountsLabel } from '../../../core/format.ts';
import { describePool } from '../../../core/service/quota-text.ts';
import {
  buildTrayMenu,
  buildTrayTitle,
  buildTrayTooltip,
  drawTray,
  traySignature,
  type TrayMenuItem,
} from '../../../electron/tray/tray-menu.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const options = { now: Date.parse('2030-01-01T12:00:00Z'), timeZone: 'UTC' };
const labels = (items: TrayMenuItem[]) => items.map((item) => item.label ?? '—');

/** The menu below the pool summary (its lines and their separator come first). */
function menu(...args: Parameters<typeof buildTrayMenu>): TrayMenuItem[] {
  const items = buildTrayMenu(...args);
  const poolEnd = items.findIndex((item) => !item.id?.startsWith('pool:'));
  return items[poolEnd]?.type === 'separator' && poolEnd > 0 ? items.slice(poolEnd + 1) : items;
}

describe('buildTrayMenu', () => {
  it('lists Auto and every profile as radio items with their quota', () => {
    const items = menu(uiState([uiProfile('work'), uiProfile('home')]), options);
    expect(items[0]).toMatchObject({ type: 'radio', checked: true, label: 'Auto (best account)' });
    expect(items[1]).toMatchObject({
      type: 'radio',
      checked: false,
      label: 'work — 5h 88% · wk 60% left',
    });
    expect(items[2]?.label).toBe('home — 5h 88% · wk 60% left');
    expect(labels(items).slice(3)).toEqual([
      '—',
      'Add account…',
      'Settings…',
      'Priming',
      'Open dashboard',
      '—',
      'Quit Codex Lab',
    ]);
  });

  it('puts files it cannot read first, opening Settings, and never says "No accounts yet" for them', () => {
    const problem = {
      code: 'corrupt_file',
      message: '/home/a/.codex-lab/auth-profiles.json is not valid JSON.',
    };
    const items = buildTrayMenu(uiState([], { problems: [problem] }), options);
    expect(items[0]).toMatchObject({
      id: 'problems',
      label: 'A file Codex Lab cannot read: open Settings',
      action: { kind: 'settings' },
    });
    expect(labels(items)).not.toContain('No accounts yet');
    const two = buildTrayMenu(
      uiState([], { problems: [problem, { ...problem, message: 'x' }] }),
      options,
    );
    expect(two[0]?.label).toBe('2 files Codex Lab cannot read: open Settings');
    expect(labels(buildTrayMenu(uiState([]), options))).toContain('No accounts yet');
  });

  it('a file it cannot read leads the tooltip as it leads the menu, naming the file, with no "no accounts"', () => {
    const problem = {
      code: 'corrupt_file',
      message: '/home/a/.codex-lab/auth-profiles.json is not valid JSON.',
    };
    const state = uiState([], { problems: [problem] });
    const drawing = drawTray(state, { ...options, menuBarTitle: true });
    expect(drawing.items[0]?.label).toBe('A file Codex Lab cannot read: open Settings');
    expect(drawing.tooltip.split('\n')).toEqual([
      'A file Codex Lab cannot read: open Settings',
      '/home/a/.codex-lab/auth-profiles.json is not valid JSON.',
    ]);
    expect(drawing.tooltip).not.toMatch(/no accounts/i);
    expect(drawing.title).toBe('');
    // With accounts listed too (an unreadable auth file), the same line leads, then the pool.
    const withAccounts = uiState([uiProfile('work')], { problems: [problem] });
    const both = drawTray(withAccounts, { ...options, menuBarTitle: true });
    expect(both.items[0]?.label).toBe('A file Codex Lab cannot read: open Settings');
    expect(both.tooltip.split('\n')[0]).toBe('A file Codex Lab cannot read: open Settings');
    expect(both.tooltip.split('\n')[1]).toBe(describePool(withAccounts.pool, options).headline);
    // Offline outranks both, in the tooltip and the menu alike.
    const offline = drawTray(state, { ...options, menuBarTitle: true, offline: 'x' });
    expect(offline.items[0]?.label).toBe(offline.tooltip);
  });

  it('a router not answering: said first, the rest its last answer, no switch it cannot reach', () => {
    const state = uiState([uiProfile('work'), uiProfile('home')], { active: 'home' });
    const offline = { ...options, offline: 'The Codex Lab router at … is not answering.' };
    const items = buildTrayMenu(state, offline);
    expect(items[0]).toEqual({
      id: 'offline',
      label: 'Codex Lab is not answering — showing its last state',
      enabled: false,
    });
    const use = items.filter((item) => item.id?.startsWith('use:'));
    expect(use.map((item) => [item.id, item.checked, item.enabled])).toEqual([
      ['use:auto', false, false],
      ['use:work', false, false],
      ['use:home', true, false],
    ]);
    expect(items.find((item) => item.id === 'priming')?.enabled).toBe(false);
    // Settings, the dashboard and Quit still work.
    for (const id of ['add-account', 'settings', 'dashboard', 'quit']) {
      expect(items.find((item) => item.id === id)?.enabled).not.toBe(false);
    }
    expect(buildTrayTooltip(state, offline)).toBe(
      'Codex Lab is not answering — showing its last state',
    );
    // Back: the same menu as ever, and a different signature so the tray redraws.
    const live = buildTrayMenu(state, options);
    expect(live[0]?.id).not.toBe('offline');
    expect(traySignature(items, buildTrayTooltip(state, offline))).not.toBe(
      traySignature(live, buildTrayTooltip(state, options)),
    );
  });

  it('checks the active profile and not Auto', () => {
    const items = menu(
      uiState([uiProfile('work'), uiProfile('home')], { active: 'home' }),
      options,
    );
    expect(items.filter((item) => item.checked).map((item) => item.id)).toEqual(['use:home']);
    expect(items.find((item) => item.id === 'use:home')?.action).toEqual({
      kind: 'use',
      profile: 'home',
    });
  });

  it('marks a limited profile with ⏸ and its reset time', () => {
    const limited = uiProfile('work', {
      status: 'limited',
      unavailableUntil: '2030-01-01T14:30:00.000Z',
    });
    const items = menu(uiState([limited]), options);
    // Its quota waits with it: in the item's tooltip, with the window's resets.
    expect(items[1]?.label).toBe('⏸ work — limited until 14:30');
    expect(items[1]?.toolTip).toBe(
      'work — limited until 14:30\n5-hour 88% left, resets 15:00\nWeekly 60% left, resets Fri 12:00',
    );
    const later = uiProfile('work', {
      status: 'limited',
      unavailableUntil: '2030-01-03T09:00:00.000Z',
    });
    expect(menu(uiState([later]), options)[1]?.label).toContain('until Thu 09:00');
  });

  it('marks a profile the router skips for failing upstream with ⏸, and names where new sessions go', () => {
    const failing = uiProfile('work', { skippedUntil: '2030-01-01T12:00:40.000Z' });
    const state = uiState([failing, uiProfile('spare')]);
    const all = buildTrayMenu(state, options);
    expect(labels(all)).toContain('⏸ work — failing upstream, tried again in 40s');
    expect(labels(all).join('\n')).not.toMatch(/^work — 5h/m);
    expect(labels(all).find((label) => label.startsWith('New sessions'))).toMatch(
      /^New sessions → spare/,
    );
  });

  it('marks a profile that needs signing in again with ⚠', () => {
    const broken = uiProfile('work', {
      status: 'auth_error',
      statusMessage: 'Refresh token expired.',
    });
    expect(menu(uiState([broken]), options)[1]?.label).toBe('⚠ work — needs sign-in');
  });

  it('says a profile whose auth file cannot be read has that, not that it needs a sign-in', () => {
    const unreadable = uiProfile('work', {
      status: 'auth_error',
      statusCode: 'corrupt_file',
      statusMessage: '/home/a/auth-profiles/work/auth.json is not valid JSON.',
    });
    const state = uiState([unreadable, uiProfile('home')], { active: 'home' });
    expect(menu(state, options)[1]?.label).toBe('⚠ work — auth file unreadable');
    const tooltip = buildTrayTooltip(state, options);
    expect(tooltip).not.toMatch(/sign-in/);
    expect(tooltip).toContain('1 auth file unreadable');
  });

  it('says a profile whose OS keychain is locked has that, in the menu, the pool lines and the tooltip', () => {
    const locked = uiProfile('work', {
      status: 'auth_error',
      statusCode: 'keyring_unavailable',
      statusMessage: 'The OS keychain is locked.',
    });
    const state = uiState([locked, uiProfile('home')], { active: 'home' });
    const items = labels(buildTrayMenu(state, options));
    expect(items).toContain('⚠ work — keychain unavailable');
    expect(items).toContain('Keychain unavailable: work');
    expect(items.join('\n')).not.toMatch(/auth file/i);
    const tooltip = buildTrayTooltip(state, options);
    expect(tooltip).toContain('1 keychain unavailable');
    expect(tooltip).not.toMatch(/auth file|sign-in/);
  });

  it('shows a disabled hint and a disabled priming submenu with no profiles', () => {
    const items = menu(uiState([]), options);
    expect(noAccountsLabel).toBe('No accounts yet');
    expect(items[1]).toMatchObject({ label: noAccountsLabel, enabled: false });
    // The pool's headline on the command line says it in the same words.
    expect(describePool(uiState([]).pool, options).headline).toBe(noAccountsLabel);
    expect(items.find((item) => item.id === 'priming')).toMatchObject({
      enabled: false,
      submenu: [],
    });
    expect(buildTrayTooltip(uiState([]))).toBe('Codex Lab — no accounts yet');
  });

  it('offers a priming toggle per profile that flips its current value', () => {
    const items = menu(uiState([uiProfile('work', { priming: true })]), options);
    const submenu = items.find((item) => item.id === 'priming')?.submenu ?? [];
    expect(submenu[0]).toMatchObject({
      type: 'checkbox',
      checked: true,
      action: { kind: 'priming', profile: 'work', enabled: false },
    });
  });

  it('lists the priming toggles by the name shown, as a person reads names', () => {
    const items = menu(
      uiState([
        uiProfile('acct-10'),
        uiProfile('Work'),
        uiProfile('acct-2'),
        uiProfile('zeta', { label: 'Alpha team' }),
        uiProfile('beta'),
      ]),
      options,
    );
    const submenu = items.find((item) => item.id === 'priming')?.submenu ?? [];
    expect(submenu.map((item) => item.label)).toEqual([
      'acct-2',
      'acct-10',
      'Alpha team',
      'beta',
      'Work',
    ]);
  });

  it('derives the tooltip and a signature that changes only with what is shown', () => {
    const state = uiState(
      [uiProfile('work', { status: 'limited' }), uiProfile('home', { status: 'auth_error' })],
      { active: 'home' },
    );
    expect(buildTrayTooltip(state, options).split('\n')).toEqual([
      // Not "all limited": home is not limited, it needs the user.
      'No account can take a new session: 1 limited, 1 needs a sign-in',
      // No figures for home: it cannot be read, so they are not live (`quotaNotLive`).
      'Codex Lab — home · 1 limited, 1 needs sign-in',
    ]);
    const a = menu(state, options);
    const same = menu({ ...state, sessions: [] }, options);
    expect(traySignature(a, buildTrayTooltip(state))).toBe(
      traySignature(same, buildTrayTooltip(state)),
    );
    const other = menu({ ...state, active: 'auto' }, options);
    expect(traySignature(other, 'x')).not.toBe(traySignature(a, 'x'));
  });

  it('opens with the pool summary: headroom, who a new session gets, the week; title is a percentage', () => {
    const state = uiState([
      uiProfile('work'),
      uiProfile('team', {
        status: 'limited',
        unavailableUntil: '2030-01-01T14:05:00.000Z',
      }),
    ]);
    const items = buildTrayMenu(state, options);
    expect(labels(items.slice(0, 5))).toEqual([
      'Pool 30% left · 1 of 2 ready',
      'New sessions → work: best: 60% left in its tightest window…',
      'Next free: team at 14:05',
      'This week: weekly pace not known yet',
      '—',
    ]);
    // A line cut to fit keeps its whole text as the item's tooltip.
    expect(items[1]?.toolTip).toBe(
      // The router names the moment; the tray words it when drawn, so it counts down.
      'New sessions → work: best: 60% left in its tightest window, weekly resets Fri 12:00 (in 3d)',
    );
    expect(items.slice(0, 4).every((item) => item.enabled === false && !item.action)).toBe(true);
    expect(items[5]).toMatchObject({ id: 'use:auto' });
    const tooltip = buildTrayTooltip(state, options).split('\n');
    // The last line is cut at a word to keep the tooltip within Windows' bound.
    expect([tooltip[0], tooltip.at(-1)]).toEqual([
      'Pool 30% left · 1 of 2 ready',
      'New sessions → work: best: 60% left in its tightest…',
    ]);
    expect(buildTrayTitle(state)).toBe('30%');
    expect(buildTrayTitle(uiState([]))).toBe('');
  });

  it('when every profile is limited, the headline names the next free account and time', () => {
    const state = uiState([
      uiProfile('work', { status: 'limited', unavailableUntil: '2030-01-02T09:00:00.000Z' }),
      uiProfile('team', { status: 'limited', unavailableUntil: '2030-01-01T16:40:00.000Z' }),
    ]);
    expect(buildTrayMenu(state, options)[0]?.label).toBe(
      'All accounts are limited · next free: team at 16:40',
    );
  });
});

describe('the Preferences submenu', () => {
  it('shows the three preferences and toggles each from the tray', () => {
    const items = buildTrayMenu(uiState([uiProfile('work')]), {
      ...options,
      preferences: { launchAtLogin: false, signIn: 'browser', notifications: true },
    });
    const menu = items.find((item) => item.id === 'preferences');
    expect(items.indexOf(menu!)).toBe(items.findIndex((item) => item.id === 'quit') - 2);
    const entries = menu!.submenu!.filter((item) => item.type !== 'separator');
    expect(entries.map((item) => [item.label, item.checked, item.action])).toEqual([
      ['Launch at login', false, { kind: 'preferences', patch: { launchAtLogin: true } }],
      ['Notifications', true, { kind: 'preferences', patch: { notifications: false } }],
      ['Sign in with my browser', true, { kind: 'preferences', patch: { signIn: 'browser' } }],
      ['Sign in with a small window', false, { kind: 'preferences', patch: { signIn: 'popup' } }],
      ['Sign in with a one-time code', false, { kind: 'preferences', patch: { signIn: 'device' } }],
    ]);
  });

  it('is left out when no preferences are given', () => {
    const items = buildTrayMenu(uiState([uiProfile('work')]), options);
    expect(items.some((item) => item.id === 'preferences')).toBe(false);
  });
});
