import { describe, expect, it } from 'vitest';
import type { ContractResult } from '../../../core/view-types.ts';
import { runTrayAction, type TrayActionEffects } from '../../../electron/tray/tray-actions.ts';

/** Effects that record what the tray did; the lab answers with `answer`. */
function recording(answer: ContractResult<null>) {
  const did: unknown[] = [];
  const effects: TrayActionEffects = {
    lab: {
      setActive: async (input) => (did.push(['setActive', input]), answer),
      setPriming: async (input) => (did.push(['setPriming', input]), answer),
    },
    openSettings: () => did.push(['openSettings']),
    openProfile: (profile) => did.push(['openProfile', profile]),
    openAddAccount: () => did.push(['openAddAccount']),
    openDashboard: async () => (did.push(['openDashboard']), false),
    updatePreferences: (patch) => (
      did.push(['updatePreferences', patch]),
      { ok: false, code: 'bad_request', message: 'That preference change was not understood.' }
    ),
    quit: () => did.push(['quit']),
    showFailure: (title, message) => did.push(['showFailure', title, message]),
    redraw: () => did.push(['redraw']),
  };
  return { did, effects };
}

const stopped: ContractResult<null> = {
  ok: false,
  code: 'router_unavailable',
  message:
    'The router at http://127.0.0.1:1456 stopped answering while making work the active profile; it applies a change fully or not at all.',
};

describe('runTrayAction', () => {
  it('an account needing a sign-in opens the settings on its card, changing nothing', async () => {
    const { did, effects } = recording({ ok: true, value: null });
    await runTrayAction({ kind: 'show-profile', profile: 'work' }, effects);
    expect(did).toEqual([['openProfile', 'work']]);
  });

  it('a switch that works shows nothing and leaves the redraw to the new state', async () => {
    const { did, effects } = recording({ ok: true, value: null });
    await runTrayAction({ kind: 'use', profile: 'work' }, effects);
    expect(did).toEqual([['setActive', { profile: 'work' }]]);
  });

  it('a switch that fails: shown with the tray’s own way out (no command), then the menu redrawn', async () => {
    const { did, effects } = recording(stopped);
    await runTrayAction({ kind: 'use', profile: 'auto' }, effects);
    expect(did).toEqual([
      ['setActive', { profile: 'auto' }],
      [
        'showFailure',
        'Codex Lab could not switch to Auto',
        'The router at http://127.0.0.1:1456 stopped answering while making work the active profile; it applies a change fully or not at all. Look at the tray menu once Codex Lab answers again, and try again if it did not change.',
      ],
      ['redraw'],
    ]);
    expect(JSON.stringify(did)).not.toMatch(/codex-lab /);
  });

  it('priming that fails keeps its own sentence when it is not the router', async () => {
    const { did, effects } = recording({
      ok: false,
      code: 'not_found',
      message: 'There is no profile named work.',
    });
    await runTrayAction({ kind: 'priming', profile: 'work', enabled: true }, effects);
    expect(did.slice(1)).toEqual([
      [
        'showFailure',
        'Codex Lab could not turn priming on for work',
        'There is no profile named work.',
      ],
      ['redraw'],
    ]);
  });

  it('Add account… asks the page for its dialog; it never starts a sign-in of its own', async () => {
    const { did, effects } = recording(stopped);
    await runTrayAction({ kind: 'add-account' }, effects);
    expect(did).toEqual([['openAddAccount']]);
  });

  it('a dashboard or a preference that cannot be had is said too', async () => {
    const { did, effects } = recording(stopped);
    await runTrayAction({ kind: 'dashboard' }, effects);
    await runTrayAction({ kind: 'preferences', patch: { notifications: false } }, effects);
    expect(did).toEqual([
      ['openDashboard'],
      [
        'showFailure',
        'The dashboard could not be opened',
        'Codex Lab has no router to show yet. Open Settings… instead.',
      ],
      ['redraw'],
      ['updatePreferences', { notifications: false }],
      [
        'showFailure',
        'The preference could not be changed',
        'That preference change was not understood.',
      ],
      ['redraw'],
    ]);
  });
});
