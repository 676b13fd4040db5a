/**
 * The page's notices go when what they are about changes: a "needs a new sign-in" once that
 * profile is signed in again (or gone), a failed form's once the form is cancelled, any failure
 * once the same action works; and they point at the page's own controls, never at a command.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ContractResult, LabApi, LoginView } from '../../../core/service/contract.ts';
import { defaultLabStoreState } from '../../../renderer/stores/defaults.ts';
import { useLabStore } from '../../../renderer/stores/use-lab-store.ts';
import { uiProfile, uiState } from '../../helpers/ui-lab-state.ts';

const signInFailure: ContractResult<null> = {
  ok: false,
  code: 'upstream_error',
  message: 'signedout: signedout needs a new sign-in (its refresh token was revoked).',
  fix: { action: 'sign_in', profiles: ['signedout'] },
};

function attach(): void {
  useLabStore.setState({ ...defaultLabStoreState });
  useLabStore.getState().attach({} as LabApi, 'web');
}

const signedOut = () =>
  uiState([uiProfile('work'), uiProfile('signedout', { status: 'auth_error' })]);

function login(state: LoginView['state']): LoginView {
  return {
    id: 'login-1',
    state,
    method: 'browser',
    authorizeUrl: 'http://127.0.0.1/authorize',
    userCode: null,
    proposedName: 'signedout',
    profile: state === 'done' ? 'signedout' : null,
    email: null,
    error: null,
  };
}

describe('notices', () => {
  beforeEach(attach);

  it('a sign-in notice goes once that profile is signed in again, and says no command', async () => {
    const store = useLabStore.getState();
    store.receive(signedOut());
    await store.run('Refresh quota', async () => signInFailure);
    const notice = useLabStore.getState().notice;
    expect(notice?.text).not.toMatch(/codex-lab/);
    expect(notice?.fix).toEqual({ action: 'sign_in', profiles: ['signedout'] });
    // Still signed out (another state push, a sign-in under way): it stays.
    store.receive(signedOut());
    store.receive(uiState(signedOut().profiles, { logins: [login('waiting')] }));
    expect(useLabStore.getState().notice).not.toBeNull();
    // The card's "Sign in again" finished: the profile is ready again, and the notice goes.
    store.receive(
      uiState([uiProfile('work'), uiProfile('signedout')], { logins: [login('done')] }),
    );
    expect(useLabStore.getState().notice).toBeNull();
  });

  it('goes when the profile went from needing a sign-in to anything else, or is gone', async () => {
    const store = useLabStore.getState();
    store.receive(signedOut());
    await store.run('Refresh quota', async () => signInFailure);
    store.receive(uiState([uiProfile('work'), uiProfile('signedout')]));
    expect(useLabStore.getState().notice).toBeNull();

    store.receive(signedOut());
    await store.run('Refresh quota', async () => signInFailure);
    store.receive(uiState([uiProfile('work')]));
    expect(useLabStore.getState().notice).toBeNull();
  });

  it('a failed action’s notice goes when that action works, not when another does', async () => {
    const store = useLabStore.getState();
    store.receive(signedOut());
    await store.run('Priming', async () => ({
      ok: false,
      code: 'io_error',
      message: 'state/priming.json cannot be written.',
    }));
    await store.run('Make active', async () => ({ ok: true, value: null }));
    expect(useLabStore.getState().notice?.text).toBe(
      'Priming: state/priming.json cannot be written.',
    );
    await store.run('Priming', async () => ({ ok: true, value: null }));
    expect(useLabStore.getState().notice).toBeNull();
  });
});
