import { describe, expect, it } from 'vitest';
import type { LabState, ProfileView } from '../../../core/service/contract.ts';
import {
  buildTrayMenu,
  buildTrayTooltip,
  trayLabelMax,
  trayTooltipMax,
  trayTopLevelMax,
  type TrayMenuItem,
  type TrayMenuOptions,
} from '../../../electron/tray/tray-menu.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const now = Date.parse('2030-01-01T12:00:00Z');
const options: TrayMenuOptions = {
  now,
  timeZone: 'UTC',
  preferences: { launchAtLogin: false, signIn: 'browser', notifications: true },
};
const at = (hours: number) => new Date(now + hours * 3_600_000).toISOString();

/**
 * `count` accounts as a heavy user holds them: the active one (`acct-03`), one needing a sign-in
 * (`acct-02`), one whose weekly window is used up, a few limited until different times, one with
 * a 64-character label, the rest ready with different quota and resets.
 */
function accounts(count: number): { state: LabState; active: string; signIn: string } {
  const profiles: ProfileView[] = [];
  for (let index = 1; index <= count; index++) {
    const name = `acct-${String(index).padStart(2, '0')}`;
    const quota = {
      primary: { usedPercent: (index * 7) % 90, windowMinutes: 300, resetsAt: at(1 + (index % 5)) },
      secondary: {
        usedPercent: (index * 13) % 95,
        windowMinutes: 10080,
        resetsAt: at(24 + index * 3),
      },
      updatedAt: new Date(now).toISOString(),
    };
    let patch: Partial<ProfileView> = { quota };
    if (index === 2) {
      patch = { ...patch, status: 'auth_error', statusMessage: 'Refresh token expired.' };
    } else if (index === 1 && count > 3) {
      patch = {
        ...patch,
        label: `${'Company workspace for the platform team '.repeat(2)}`.slice(0, 64),
      };
    } else if (index % 6 === 5) {
      patch = {
        ...patch,
        status: 'limited',
        unavailableUntil: at(index % 4 === 0 ? 30 : index / 2),
      };
    } else if (index === 4 && count > 3) {
      patch = {
        ...patch,
        quota: { ...quota, secondary: { ...quota.secondary, usedPercent: 100, resetsAt: at(50) } },
      };
    }
    profiles.push(uiProfile(name, patch));
  }
  return { state: uiState(profiles, { active: 'acct-03' }), active: 'acct-03', signIn: 'acct-02' };
}

/** Every item of the menu, submenus included, with the path of labels leading to it. */
function walk(
  items: readonly TrayMenuItem[],
  path: string[] = [],
): Array<[TrayMenuItem, string[]]> {
  return items.flatMap((item) => [
    [item, path] as [TrayMenuItem, string[]],
    ...(item.submenu ? walk(item.submenu, [...path, item.label ?? '']) : []),
  ]);
}

describe('the tray menu with many accounts', () => {
  for (const count of [3, 15, 30]) {
    describe(`${count} accounts`, () => {
      const { state, active, signIn } = accounts(count);
      const items = buildTrayMenu(state, options);

      it(`keeps the top level at ${trayTopLevelMax} items or fewer, even offline with unreadable files`, () => {
        expect(items.length).toBeLessThanOrEqual(trayTopLevelMax);
        const worst = buildTrayMenu(
          { ...state, problems: [{ code: 'corrupt_file', message: 'x is not valid JSON.' }] },
          { ...options, offline: 'The router is not answering.' },
        );
        expect(worst.length).toBeLessThanOrEqual(trayTopLevelMax);
      });

      it('shows the pool headline first, and the account in use and the one needing sign-in at top level', () => {
        expect(items[0]?.label).toMatch(/^Pool \d+% left · /);
        const activeItem = items.find((item) => item.id === `use:${active}`);
        expect(activeItem).toMatchObject({ type: 'radio', checked: true });
        const broken = items.find((item) => item.id?.endsWith(`:${signIn}`));
        expect(broken?.label).toMatch(/^⚠ acct-02 — needs sign-in/);
        // It cannot serve until signed in again: its click opens its card, where that is done.
        expect(broken?.action).toEqual({ kind: 'show-profile', profile: signIn });
      });

      it('reaches every account, each with the action that helps it', () => {
        const all = walk(items);
        for (const profile of state.profiles) {
          const reach = all.filter(
            ([item]) =>
              item.action &&
              'profile' in item.action &&
              item.action.profile === profile.name &&
              item.action.kind !== 'priming',
          );
          expect(reach.length, profile.name).toBeGreaterThan(0);
          const kind = profile.status === 'auth_error' ? 'show-profile' : 'use';
          expect(
            reach.every(([item]) => item.action?.kind === kind),
            profile.name,
          ).toBe(true);
        }
        // Exactly one account is checked, in every place it shows up.
        const checked = all.filter(
          ([item]) => item.type === 'radio' && item.checked && /(use|show):/.test(item.id ?? ''),
        );
        expect(new Set(checked.map(([item]) => item.id?.split(':').at(-1)))).toEqual(
          new Set([active]),
        );
      });

      it(`bounds every label to ${trayLabelMax} characters, the full text in its tooltip`, () => {
        for (const [item] of walk(items)) {
          const label = item.label ?? '';
          expect(label.length, label).toBeLessThanOrEqual(trayLabelMax);
          // "Add account…" and "Settings…" end in an ellipsis of their own (they open a window).
          if (label.endsWith('…') && !['Add account…', 'Settings…'].includes(label)) {
            expect(item.toolTip?.length ?? 0, label).toBeGreaterThan(label.length);
          }
        }
      });

      it('says "left" for an account’s windows, as the dashboard and the pool’s headline do', () => {
        const ready = walk(items).find(([item]) => item.id === `use:${active}`)?.[0];
        expect(ready?.label).toMatch(/^acct-03 — 5h \d+% · wk \d+% left$/);
      });
    });
  }

  it('puts every account in a sorted "All accounts (N)" submenu: ready by most left, then limited by soonest back, then broken', () => {
    const { state } = accounts(30);
    const items = buildTrayMenu(state, options);
    const all = items.find((item) => item.id === 'accounts');
    expect(all?.label).toMatch(/^All accounts \(30\)/);
    const names = all!.submenu!.map((item) => item.id?.split(':').at(-1));
    expect(new Set(names).size).toBe(30);
    const byName = new Map(state.profiles.map((profile) => [profile.name, profile]));
    const rank = (name: string | undefined) => {
      const profile = byName.get(name ?? '')!;
      if (profile.status === 'auth_error') return 2;
      if (profile.status === 'limited' || name === 'acct-04') return 1;
      return 0;
    };
    const ranks = names.map(rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // Limited accounts: the one back soonest first, with the time it is back.
    const limited = all!.submenu!.filter((item) => item.label?.startsWith('⏸'));
    expect(limited.length).toBeGreaterThan(3);
    expect(limited.map((item) => item.label).join('\n')).toMatch(/until/);
    expect(limited.some((item) => item.label === '⏸ acct-04 — wk used up until Thu 14:00')).toBe(
      true,
    );
  });

  it('sorts ready accounts by what their tightest window has left as their labels say it, a window past its reset counting as unused', () => {
    const { state } = accounts(30);
    // acct-06 read 99% used in both windows, but both have reset since: it has everything left.
    const profiles = state.profiles.map((profile): ProfileView =>
      profile.name === 'acct-06'
        ? {
            ...profile,
            quota: {
              ...profile.quota,
              primary: { usedPercent: 99, windowMinutes: 300, resetsAt: at(-1) },
              secondary: { usedPercent: 99, windowMinutes: 10080, resetsAt: at(-2) },
            },
          }
        : profile,
    );
    const items = buildTrayMenu(uiState(profiles, { active: 'acct-03' }), options);
    const submenu = items.find((item) => item.id === 'accounts')!.submenu!;
    const ready = submenu.filter((item) => !/^[⏸⚠]/.test(item.label ?? ''));
    expect(ready[0]?.label).toMatch(/^acct-06 — 5h 100% · wk 100% left$/);
    const tightest = ready.map((item) =>
      Math.min(...[...(item.label ?? '').matchAll(/(\d+)%/g)].map((match) => Number(match[1]))),
    );
    expect(tightest).toEqual([...tightest].sort((a, b) => b - a));
  });

  it('stays under the cap with every pool line there, and says how many not ready it left out', () => {
    const { state } = accounts(30);
    const broken = state.profiles.map((profile, index): ProfileView =>
      index >= 10 && index < 20
        ? {
            ...profile,
            status: 'auth_error',
            ...(index === 19 ? { statusCode: 'keyring_unavailable' } : {}),
          }
        : profile,
    );
    const worst = uiState(broken, {
      active: 'acct-03',
      problems: [{ code: 'corrupt_file', message: 'x is not valid JSON.' }],
    });
    const items = buildTrayMenu(worst, { ...options, offline: 'The router is not answering.' });
    expect(items.length).toBeLessThanOrEqual(trayTopLevelMax);
    expect(items.find((item) => item.id === 'use:acct-03')?.checked).toBe(true);
    const all = items.find((item) => item.id === 'accounts')!;
    const atTop = items.filter((item) => /^(use|show):acct/.test(item.id ?? '')).length;
    // 11 need a sign-in, 4 more wait on a reset; what the top level could not hold is counted.
    const notReady = 15;
    expect(all.label).toBe(`All accounts (30) · ${notReady - (atTop - 1)} more not ready`);
    expect(all.submenu).toHaveLength(30);
  });

  it('shows the account limited the soonest at top level with its reset time', () => {
    const { state } = accounts(30);
    const items = buildTrayMenu(state, options);
    // acct-05 is limited for 2h30: back first of all the limited ones.
    expect(items.find((item) => item.id === 'use:acct-05')?.label).toBe(
      '⏸ acct-05 — limited until 14:30',
    );
  });
});

describe('the tray icon tooltip with many accounts', () => {
  for (const count of [3, 15, 30]) {
    it(`fits Windows' ${trayTooltipMax}-character limit at ${count} accounts, whole lines first`, () => {
      const { state } = accounts(count);
      const long = uiState(
        state.profiles.map((profile) =>
          profile.name === 'acct-03'
            ? { ...profile, label: 'Company workspace '.repeat(6) }
            : profile,
        ),
        { active: 'acct-03' },
      );
      for (const shown of [state, long]) {
        const tooltip = buildTrayTooltip(shown, options);
        expect(tooltip.length, tooltip).toBeLessThanOrEqual(trayTooltipMax);
        // The pool headline always leads; a line is dropped or cut at its end, never mid-line.
        expect(tooltip.split('\n')[0]).toMatch(/^Pool \d+% left/);
        for (const line of tooltip.split('\n')) expect(line.trim()).toBe(line);
      }
    });
  }
});
