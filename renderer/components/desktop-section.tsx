/**
 * The desktop app's own section of the settings page: launch at login, how Add account opens the
 * sign-in page, notifications, and "Open logs folder". Shown only when the Electron preload
 * provides `window.codexLabDesktop` (the web dashboard has none of these). Changes apply at once
 * in main; the tray's Preferences submenu and the Add account dialog change the same values and
 * this section follows (the store's subscriptions start Add account from the sign-in method).
 */
import { useEffect, useState } from 'react';
import type { DesktopApi, UserPreferences } from '../../electron/ipc/desktop-contract.ts';
import { focusWhenShown, profileCard } from '../focus.ts';
import { showsList } from '../stores/accounts-view.ts';
import { useLabStore } from '../stores/use-lab-store.ts';

/** Props of `DesktopSection`. */
export interface DesktopSectionProps {
  desktop: DesktopApi;
}

/**
 * Scrolls to a profile's card (a clicked notification asks for it), opening it first when the
 * accounts are shown as the dense list, where only the cards its rows opened are on the page.
 */
function showProfileCard(profile: string): void {
  const { lab, accountsView, cardKeys, setCardOpen } = useLabStore.getState();
  if (lab && showsList(accountsView, lab.profiles.length)) {
    setCardOpen(cardKeys[profile] ?? profile, true);
  }
  focusWhenShown(() => {
    const card = profileCard(profile);
    card?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    return card;
  });
}

/** The "This computer" card. */
export function DesktopSection({ desktop }: DesktopSectionProps) {
  const [preferences, setPreferences] = useState<UserPreferences | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let active = true;
    const apply = (next: UserPreferences) => {
      if (!active) return;
      setPreferences(next);
    };
    void desktop.getPreferences().then(apply);
    const stopPreferences = desktop.onPreferencesChanged(apply);
    const stopFocus = desktop.onFocusProfile(showProfileCard);
    return () => {
      active = false;
      stopPreferences();
      stopFocus();
    };
  }, [desktop]);

  const change = async (patch: Partial<UserPreferences>) => {
    const result = await desktop.setPreferences(patch);
    if (result.ok) {
      setPreferences(result.value);
      setProblem(null);
    } else {
      setProblem(result.message);
    }
  };
  const openLogs = async () => {
    const result = await desktop.openLogsFolder();
    setProblem(result.ok ? null : result.message);
  };

  return (
    <section className="card" aria-labelledby="desktop-title">
      <div className="section-head">
        <h2 id="desktop-title">This computer</h2>
        <button type="button" className="button" onClick={() => void openLogs()}>
          Open logs folder
        </button>
      </div>
      {preferences && (
        <div className="stack">
          <label className="radio">
            <input
              type="checkbox"
              checked={preferences.launchAtLogin}
              onChange={(event) => void change({ launchAtLogin: event.target.checked })}
            />
            Start Codex Lab when I sign in to this computer
          </label>
          <label className="radio">
            <input
              type="checkbox"
              checked={preferences.notifications}
              onChange={(event) => void change({ notifications: event.target.checked })}
            />
            Notify me when an account reaches its limit or needs signing in again
          </label>
          <fieldset className="field">
            <legend>Add account opens the sign-in page</legend>
            <label className="radio">
              <input
                type="radio"
                name="preferred-sign-in"
                checked={preferences.signIn === 'browser'}
                onChange={() => void change({ signIn: 'browser' })}
              />
              In my browser (works with Google, Microsoft, Apple and company sign-in)
            </label>
            <label className="radio">
              <input
                type="radio"
                name="preferred-sign-in"
                checked={preferences.signIn === 'popup'}
                onChange={() => void change({ signIn: 'popup' })}
              />
              In a small sign-in window (ChatGPT email and password only)
            </label>
            <label className="radio">
              <input
                type="radio"
                name="preferred-sign-in"
                checked={preferences.signIn === 'device'}
                onChange={() => void change({ signIn: 'device' })}
              />
              With a one-time code (a browser on another computer)
            </label>
          </fieldset>
        </div>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
