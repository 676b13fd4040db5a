import { describe, expect, it } from 'vitest';
import {
  buildTrayMenu,
  buildTrayTooltip,
  traySignature,
  type TrayMenuItem,
} from '../../../electron/tray/tray-menu.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const options = { now: Date.parse('2030-01-01T12:00:00Z'), timeZone: 'UTC' };
const labels = (items: TrayMenuItem[]) => items.map((item) => item.label ?? '—');

describe('buildTrayMenu', () => {
  it('lists Auto and every profile as radio items with their quota', () => {
    const items = buildTrayMenu(uiState([uiProfile('work'), uiProfile('home')]), options);
    expect(items[0]).toMatchObject({ type: 'radio', checked: true, label: 'Auto (best account)' });
    expect(items[1]).toMatchObject({
      type: 'radio',
      checked: false,
      label: 'work — 5h 12% · wk 40%',
    });
    expect(items[2]?.label).toBe('home — 5h 12% · wk 40%');
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

  it('checks the active profile and not Auto', () => {
    const items = buildTrayMenu(
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
    const items = buildTrayMenu(uiState([limited]), options);
    expect(items[1]?.label).toBe('⏸ work — limited until 14:30 · 5h 12% · wk 40%');
    const later = uiProfile('work', {
      status: 'limited',
      unavailableUntil: '2030-01-03T09:00:00.000Z',
    });
    expect(buildTrayMenu(uiState([later]), options)[1]?.label).toContain('until Thu 09:00');
  });

  it('marks a profile that needs signing in again with ⚠', () => {
    const broken = uiProfile('work', {
      status: 'auth_error',
      statusMessage: 'Refresh token expired.',
    });
    expect(buildTrayMenu(uiState([broken]), options)[1]?.label).toBe('⚠ work — sign in again');
  });

  it('shows a disabled hint and a disabled priming submenu with no profiles', () => {
    const items = buildTrayMenu(uiState([]), options);
    expect(items[1]).toMatchObject({ label: 'No accounts yet', enabled: false });
    expect(items.find((item) => item.id === 'priming')).toMatchObject({
      enabled: false,
      submenu: [],
    });
    expect(buildTrayTooltip(uiState([]))).toBe('Codex Lab — no accounts yet');
  });

  it('offers a priming toggle per profile that flips its current value', () => {
    const items = buildTrayMenu(uiState([uiProfile('work', { priming: true })]), options);
    const submenu = items.find((item) => item.id === 'priming')?.submenu ?? [];
    expect(submenu[0]).toMatchObject({
      type: 'checkbox',
      checked: true,
      action: { kind: 'priming', profile: 'work', enabled: false },
    });
  });

  it('derives the tooltip and a signature that changes only with what is shown', () => {
    const state = uiState(
      [uiProfile('work', { status: 'limited' }), uiProfile('home', { status: 'auth_error' })],
      { active: 'home' },
    );
    expect(buildTrayTooltip(state)).toBe(
      'Codex Lab — home (5h 12% · wk 40%) · 1 limited, 1 needs sign-in',
    );
    const a = buildTrayMenu(state, options);
    const same = buildTrayMenu({ ...state, sessions: [] }, options);
    expect(traySignature(a, buildTrayTooltip(state))).toBe(
      traySignature(same, buildTrayTooltip(state)),
    );
    const other = buildTrayMenu({ ...state, active: 'auto' }, options);
    expect(traySignature(other, 'x')).not.toBe(traySignature(a, 'x'));
  });
});
