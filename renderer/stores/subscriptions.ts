/**
 * Every side effect that follows the store, started once: mirror main's state (first answer plus
 * live pushes), open Add account when the desktop tray asks and start it from the desktop's sign-in
 * preference, tick the clock for countdowns, apply and remember the theme, and remember the
 * accounts' layout. Returns one cleanup that undoes all of it.
 */
import type { LabApi } from '../../core/service/contract.ts';
import type { UserPreferences } from '../../electron/ipc/desktop-contract.ts';
import { accountsViewOf } from './accounts-view.ts';
import { signInFlowOf } from './sign-in-method.ts';
import { useLabStore } from './use-lab-store.ts';
import type { ThemeChoice } from './types.ts';

const themeKey = 'codex-lab.theme';
const accountsViewKey = 'codex-lab.accounts-view';

/** A value this page saved, or null where storage is unavailable (private mode). */
function saved(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Saves a page choice; where storage is unavailable the choice still holds for this page. */
function save(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Nothing to do: the store keeps the choice while the page is open.
  }
}

function savedTheme(): ThemeChoice {
  const value = saved(themeKey);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** Starts the subscriptions for one API; call the returned function to stop them. */
export function initializeStoreSubscriptions(api: LabApi, host: 'electron' | 'web'): () => void {
  const store = useLabStore.getState();
  const desktop = window.codexLabDesktop ?? null;
  store.attach(api, host, desktop);
  store.setTheme(savedTheme());
  store.setAccountsView(accountsViewOf(saved(accountsViewKey)));

  const applyTheme = (theme: ThemeChoice) => {
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    save(themeKey, theme);
  };
  applyTheme(useLabStore.getState().theme);
  const stopTheme = useLabStore.subscribe((state) => state.theme, applyTheme);
  const stopAccountsView = useLabStore.subscribe(
    (state) => state.accountsView,
    (view) => save(accountsViewKey, view),
  );

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
    stopAccountsView();
    unsubscribe();
    stopAddAccount();
    stopPreference();
    window.clearInterval(clock);
  };
}
