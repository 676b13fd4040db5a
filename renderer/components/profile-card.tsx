/**
 * One profile: name (renamed in place), status, both quota windows, history, priming, actions.
 */
import { Fragment, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ProfileView } from '../../core/service/contract.ts';
import { capitalize, formatResetCredits, humanizeTimes, statusLabel } from '../../core/format.ts';
import {
  cardStatusMessage,
  formatAgo,
  formatLimitedUntil,
  formatAt,
  formatReset,
  removalQuestion,
} from '../format.ts';
import { useLabStore } from '../stores/use-lab-store.ts';
import { HistoryChart } from './history-chart.tsx';
import { QuotaBar } from './quota-bar.tsx';

/** Props of `ProfileCard`. */
export interface ProfileCardProps {
  profile: ProfileView;
  /** True when this profile is the tray's choice (not Auto). */
  isActive: boolean;
  now: number;
}

/** "Ready", "Limited", "Needs sign-in", "Not checked yet": the shared words, as a badge. */
const statusText = (status: ProfileView['status']) => capitalize(statusLabel(status));

/** "At this pace: runs out Tue 18:00", "At this pace: fine until reset", … */
function forecastText(profile: ProfileView, now: number): string {
  const forecast = profile.forecast;
  if (!forecast) return 'Weekly pace: not known yet.';
  const pace = `${forecast.percentPerHour.toFixed(1)}%/h`;
  if (forecast.outlook === 'exhausted') {
    return forecast.resetsAt
      ? `Weekly quota used up until ${formatAt(forecast.resetsAt, now)}.`
      : 'Weekly quota used up.';
  }
  if (forecast.outlook === 'runs_out' && forecast.runsOutAt) {
    return `At this pace (${pace}): runs out ${formatAt(forecast.runsOutAt, now)}.`;
  }
  return `At this pace (${pace}): fine until reset.`;
}

/** The card. */
export function ProfileCard({ profile, isActive, now }: ProfileCardProps) {
  const run = useLabStore((state) => state.run);
  // A failed rename's notice is about this card's form: cancelling the form clears it.
  const renameScope = `rename ${profile.name}`;
  const cancelRename = () => {
    setDraft(profile.name);
    setRenaming(false);
    useLabStore.getState().clearNotice(renameScope);
  };
  const [renaming, setRenaming] = useState(false);
  const [draft, setDraft] = useState(profile.name);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [busy, setBusy] = useState(false);
  const pinCount = useLabStore(
    (state) => state.lab?.pins.filter((pin) => pin.profile === profile.name).length ?? 0,
  );
  // Keyboard focus follows the confirmation: onto Keep (the safe choice) when it opens, back to
  // Remove… when it is kept, rather than to the top of the page with the button that vanished.
  const removeButton = useRef<HTMLButtonElement>(null);
  const refocusRemove = useRef(false);
  useEffect(() => {
    if (!confirmRemove && refocusRemove.current) {
      refocusRemove.current = false;
      removeButton.current?.focus();
    }
  }, [confirmRemove]);
  const keep = () => {
    refocusRemove.current = true;
    setConfirmRemove(false);
  };

  const submitRename = async (event: FormEvent) => {
    event.preventDefault();
    const to = draft.trim();
    if (to === '' || to === profile.name) {
      setRenaming(false);
      return;
    }
    setBusy(true);
    const result = await run(
      'Rename',
      (api) => api.renameProfile({ from: profile.name, to }),
      renameScope,
    );
    setBusy(false);
    if (result.ok) setRenaming(false);
  };
  const onRenameKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') cancelRename();
  };
  const limitedFor =
    profile.status === 'limited' ? formatLimitedUntil(profile.unavailableUntil, now) : null;
  const signInAgain = () => {
    // The Add account dialog, titled for this profile with its name fixed, so the user still
    // chooses how to sign in (a one-time code from another computer included).
    useLabStore.getState().openSignIn();
    useLabStore.getState().updateSignIn({ name: profile.name, reauth: profile.name });
  };

  return (
    <article
      className={`card profile ${isActive ? 'profile-active' : ''} status-${profile.status}`}
      aria-label={`Profile ${profile.name}`}
      data-profile={profile.name}
    >
      <header className="profile-head">
        <div className="profile-title">
          {renaming ? (
            <form onSubmit={submitRename} className="rename">
              <input
                aria-label={`New name for ${profile.name}`}
                value={draft}
                autoFocus
                disabled={busy}
                onChange={(event) => setDraft(event.target.value)}
                onKeyDown={onRenameKey}
              />
              <button type="submit" className="button small-button" disabled={busy}>
                Save
              </button>
              <button type="button" className="button ghost small-button" onClick={cancelRename}>
                Cancel
              </button>
            </form>
          ) : (
            <h3>
              {profile.name}
              <button
                type="button"
                className="icon-button"
                aria-label={`Rename ${profile.name}`}
                title="Rename"
                onClick={() => {
                  setDraft(profile.name);
                  setRenaming(true);
                }}
              >
                ✎
              </button>
            </h3>
          )}
          <p className="muted small" title={profile.email ?? undefined}>
            {profile.email ?? 'email unknown'}
            {profile.plan ? ` · ${profile.plan}` : ''}
            {profile.legacy ? ' · legacy auth.json' : ''}
          </p>
        </div>
        <div className="badges">
          {isActive && <span className="badge badge-active">Active</span>}
          <span
            className={`badge badge-${profile.status}`}
            aria-label={`Status: ${statusText(profile.status)}`}
          >
            {statusText(profile.status)}
          </span>
        </div>
      </header>

      {(limitedFor || (profile.statusMessage && profile.status !== 'ok')) && (
        <p className={`status-line status-line-${profile.status}`} role="status">
          {profile.statusMessage
            ? cardStatusMessage(profile.statusMessage, profile.status === 'auth_error', now)
            : statusText(profile.status)}
          {limitedFor && (
            <>
              {' '}
              <strong className="status-until">({limitedFor})</strong>
            </>
          )}
        </p>
      )}

      <div className="quotas">
        <QuotaBar
          profile={profile.name}
          window={profile.quota.primary}
          fallbackTitle="5-hour"
          now={now}
        />
        <QuotaBar
          profile={profile.name}
          window={profile.quota.secondary}
          fallbackTitle="Weekly"
          now={now}
        />
        <p className="small muted">Updated {formatAgo(profile.quota.updatedAt, now)}</p>
        <p
          className={`small forecast forecast-${profile.forecast?.outlook ?? 'unknown'}`}
          data-testid="forecast"
        >
          {forecastText(profile, now)}
        </p>
      </div>

      {(profile.credits || profile.resetCredits || profile.limits) && (
        <dl className="extras small" aria-label={`${profile.name} credits and other limits`}>
          {profile.credits && (
            <>
              <dt>Credits</dt>
              <dd data-testid="credits">
                {profile.credits.unlimited
                  ? 'unlimited'
                  : `balance ${profile.credits.balance ?? 'unknown'}`}
              </dd>
            </>
          )}
          {profile.resetCredits && (
            <>
              <dt title="Banked rate-limit resets this account can redeem">Reset credits</dt>
              <dd data-testid="reset-credits">
                {formatResetCredits(profile.resetCredits, { now })}
              </dd>
            </>
          )}
          {profile.limits?.map((family) => (
            <Fragment key={family.id}>
              <dt>{family.name ?? family.id}</dt>
              <dd data-testid="limit-family">
                {[
                  family.primary &&
                    `5-hour ${Math.round(family.primary.usedPercent)}% (${formatReset(family.primary.resetsAt, now)})`,
                  family.secondary &&
                    `weekly ${Math.round(family.secondary.usedPercent)}% (${formatReset(family.secondary.resetsAt, now)})`,
                ]
                  .filter(Boolean)
                  .join(' · ') || 'no window reported'}
              </dd>
            </Fragment>
          ))}
        </dl>
      )}

      <HistoryChart
        profile={profile.name}
        history={profile.history}
        quota={profile.quota}
        forecast={profile.forecast}
        now={now}
      />

      <div className="priming">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            aria-label={`Priming for ${profile.name}`}
            checked={profile.priming}
            onChange={(event) =>
              void run('Priming', (api) =>
                api.setPriming({ profile: profile.name, enabled: event.target.checked }),
              )
            }
          />
          <span className="switch-track" aria-hidden="true" />
          <span>Prime idle weekly window</span>
        </label>
        <p className="small muted" data-testid="priming-last">
          {profile.primingLast
            ? `Last: ${profile.primingLast.outcome} (${formatAgo(profile.primingLast.at, now)}) — ${humanizeTimes(profile.primingLast.message, { now })}`
            : 'Never primed.'}
        </p>
      </div>

      <footer className="actions">
        {!isActive && (
          <button
            type="button"
            className="button"
            onClick={() =>
              void run('Make active', (api) => api.setActive({ profile: profile.name }))
            }
          >
            Make active
          </button>
        )}
        {profile.status === 'auth_error' ? (
          <button type="button" className="button primary" onClick={signInAgain}>
            Sign in again
          </button>
        ) : (
          <button type="button" className="button ghost" onClick={signInAgain}>
            Sign in again
          </button>
        )}
        {confirmRemove ? (
          <span
            className="confirm"
            role="group"
            aria-label={`Confirm removing ${profile.name}`}
            onKeyDown={(event) => {
              if (event.key === 'Escape') keep();
            }}
          >
            <span className="small">{removalQuestion(profile.name, pinCount, isActive)}</span>
            <button
              type="button"
              className="button danger"
              onClick={() =>
                void run('Remove', (api) =>
                  api.removeProfile({ profile: profile.name, revoke: false }),
                )
              }
            >
              Remove
            </button>
            <button type="button" className="button ghost" autoFocus onClick={keep}>
              Keep
            </button>
          </span>
        ) : (
          <button
            ref={removeButton}
            type="button"
            className="button ghost danger-text"
            aria-label={`Remove ${profile.name}`}
            onClick={() => setConfirmRemove(true)}
          >
            Remove…
          </button>
        )}
      </footer>
    </article>
  );
}
