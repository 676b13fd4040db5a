/**
 * Every side effect that follows the store, started once: mirror main's state (first answer plus
 * live pushes), open Add account when the desktop tray asks and start it from the desktop's sign-in
 * preference, tick the clock for countdowns, and
 * apply and remember the theme. Returns one cleanup that undoes all of it.
 */
import type { LabApi } from '../../core/service/contract.ts';
import type { UserPreferences } from '../../electron/ipc/desktop-contract.ts';
import { signInFlowOf } from './sign-in-method.ts';
import { useLabStore } from './use-lab-store.ts';
import type { ThemeChoice } from './types.ts';

const themeKey = 'codex-lab.theme';

function savedTheme(): ThemeChoice {
  try {
    const value = window.localStorage.getItem(themeKey);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/** Starts the subscriptions for one API; call the returned function to stop them. */
export function initializeStoreSubscriptions(api: LabApi, host: 'electron' | 'web'): () => void {
  const store = useLabStore.getState();
  const desktop = window.codexLabDesktop ?? null;
  store.attach(api, host, desktop);
  store.setTheme(savedTheme());

  const applyTheme = (theme: ThemeChoice) => {
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    try {
      window.localStorage.setItem(themeKey, theme);
    } catch {
      // Storage may be unavailable (private mode); the choice still applies for this page.
    }
  };
  applyTheme(useLabStore.getState().theme);
  const stopTheme = useLabStore.subscribe((state) => state.theme, applyTheme);

  let stopped = false;
  // Back after an outage is the next state: `receive` sees the page was offline and drops what
  // the outage made stale.
  const unsubscribe = api.subscribe(
    (lab) => useLabStore.getState().receive(lab),
    (message) => useLabStore.getState().setConnection('offline', message),
  );
  api.getState().then(
    (lab) => {
      if (!stopped) useLabStore.getState().receive(lab);
    },
    (error: unknown) => {
      // Only while nothing else has spoken: a state (live) or the API's own word that the
      // service is not answering (the desktop app's push, the stream's sentence) says more than a
      // first answer that failed later.
      if (!stopped && useLabStore.getState().connection === 'connecting') {
        useLabStore
          .getState()
          .setConnection('offline', error instanceof Error ? error.message : String(error));
      }
    },
  );

  // The desktop tray's Add account… opens this page's dialog, which runs the sign-in and says why
  // it could not start; one already open is left as it is (it may be waiting for a sign-in).
  const stopAddAccount =
    window.codexLabDesktop?.onAddAccount(() => {
      if (!useLabStore.getState().signIn.open) useLabStore.getState().openSignIn();
    }) ?? (() => undefined);

  // In the desktop app, Add account starts from the one sign-in preference (the tray's, the
  // settings section's, the dialog's own last choice), and follows it when it changes anywhere.
  const followPreference = (preferences: UserPreferences) => {
    if (!stopped) useLabStore.getState().updateSignIn(signInFlowOf(preferences.signIn));
  };
  void desktop?.getPreferences().then(followPreference);
  const stopPreference = desktop?.onPreferencesChanged(followPreference) ?? (() => undefined);

  const clock = window.setInterval(() => useLabStore.getState().tick(Date.now()), 1000);

  return () => {
    stopped = true;
    stopTheme();
    unsubscribe();
    stopAddAccount();
    stopPreference();
    window.clearInterval(clock);
  };
}
