/**
 * One profile: name (renamed in place), status, both quota windows, history, priming, actions.
 */
import { Fragment, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ProfileView } from '../../core/service/contract.ts';
import {
  capitalize,
  familyLimitParts,
  forecastSentence,
  formatResetCredits,
  humanizeTimes,
  windowsByLength,
} from '../../core/format.ts';
import {
  accountState,
  cardStatusMessage,
  formatAgo,
  formatLimitedUntil,
  formatAt,
  lastKnownLine,
  quotaNotLive,
  removalQuestion,
  signInFixes,
} from '../format.ts';
import { focusWhenShown, profileCard, useKeepFocusAcross, useReturnFocus } from '../focus.ts';
import { useLabStore } from '../stores/use-lab-store.ts';
import { FieldError, useInlineForm } from './inline-form.tsx';
import { HistoryChart } from './history-chart.tsx';
import { QuotaBar } from './quota-bar.tsx';

/** Props of `ProfileCard`. */
export interface ProfileCardProps {
  profile: ProfileView;
  /** True when this profile is the tray's choice (not Auto). */
  isActive: boolean;
  /**
   * True when new sessions go to this profile and "Active" does not already say so
   * (`sessionMarks`): in Auto, or when the active profile cannot take them.
   */
  takesNewSessions?: boolean;
  now: number;
  /**
   * Set when the card was opened from the dense list's row (`AccountList`): the card gets this id
   * and a Close button that calls `onClose`.
   */
  opened?: { id: string; onClose(): void };
  /** True while the page has lost its router: the figures are the last it said (`quotaNotLive`). */
  offline?: boolean;
}

/** "Weekly pace 1.2%/h: runs out Tue 18:00, before the weekly reset.", … (the shared words). */
function forecastText(profile: ProfileView, now: number): string {
  return `${capitalize(forecastSentence(profile.forecast, (iso) => formatAt(iso, now)))}.`;
}

/** Props of `RenameForm`. */
interface RenameFormProps {
  name: string;
  /** Called with the new name once saved, or null when the user cancelled. */
  onClose: (renamedTo: string | null) => void;
}

/** The rename form that replaces a card's title; its error shows under it (`useInlineForm`). */
function RenameForm({ name, onClose }: RenameFormProps) {
  const form = useInlineForm<HTMLInputElement>();
  const [draft, setDraft] = useState(name);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const to = draft.trim();
    if (to === '' || to === name) {
      onClose(null);
      return;
    }
    const result = await form.submit((api) => api.renameProfile({ from: name, to }));
    if (result?.ok) onClose(to);
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    // Handled here: the card opened from the list must not close with the form.
    event.preventDefault();
    onClose(null);
  };
  return (
    <form onSubmit={(event) => void save(event)} className="rename" aria-busy={form.busy}>
      <input
        aria-label={`New name for ${name}`}
        value={draft}
        autoFocus
        {...form.field}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKey}
      />
      <button type="submit" className="button small-button">
        Save
      </button>
      <button type="button" className="button ghost small-button" onClick={() => onClose(null)}>
        Cancel
      </button>
      <FieldError id={form.errorId} error={form.error} />
    </form>
  );
}

/**
 * Where focus goes when a card is removed: the next card, else the previous one, else Add
 * account (nothing is left to act on); under the dense list, the next account's row, else the
 * previous one's (the other cards open there are only some of the accounts). Taken before the
 * removal, since the card may be gone from the page before the answer comes back.
 */
function focusAfterRemoval(card: HTMLElement | null, name: string): () => void {
  const row = document.querySelector(`li[data-profile-row="${CSS.escape(name)}"]`);
  const [next, previous] = row
    ? [row.nextElementSibling, row.previousElementSibling].map(
        (node) => node?.querySelector('.row-name') ?? null,
      )
    : [card?.nextElementSibling ?? null, card?.previousElementSibling ?? null];
  const isTarget = (node: Element | null | undefined): node is HTMLElement =>
    node instanceof HTMLElement && node.matches('article[data-profile], .row-name');
  return () => {
    const target = [next, previous].find((node) => isTarget(node) && node.isConnected);
    if (target instanceof HTMLElement) target.focus();
    else document.getElementById('add-account')?.focus();
  };
}

/** The card. */
export function ProfileCard({
  profile,
  isActive,
  takesNewSessions = false,
  now,
  opened,
  offline = false,
}: ProfileCardProps) {
  // "Ready", "Limited", "Weekly used up", "Failing upstream, tried again in 40s": the words the
  // list's row says too (`accountState`).
  const state = accountState(profile, now);
  // An account that cannot be read keeps its last figures: shown as last known, reason first.
  const notLive = quotaNotLive(profile, offline);
  // A card's own actions say a failure on the card, where the user clicked: the page's notice
  // at the top is out of sight from a card further down (or opened from the list).
  const makeActive = useInlineForm<HTMLButtonElement>();
  const priming = useInlineForm<HTMLInputElement>();
  const [renaming, setRenaming] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const removal = useInlineForm<HTMLButtonElement>();
  const card = useRef<HTMLElement>(null);
  // The card outlives a rename (keyed by account, `renames.ts`), and a control that goes (Make
  // active once active): focus stays inside it.
  useKeepFocusAcross(card);
  const pinCount = useLabStore(
    (state) => state.lab?.pins.filter((pin) => pin.profile === profile.name).length ?? 0,
  );
  // Keyboard focus follows the confirmation: onto Keep (the safe choice) when it opens, back to
  // Remove… when it is kept, rather than to the top of the page with the button that vanished.
  const removeButton = useReturnFocus<HTMLButtonElement>(confirmRemove);
  const keep = () => {
    removeButton.returnOnClose();
    removal.clear();
    setConfirmRemove(false);
  };
  const remove = async () => {
    const moveFocus = focusAfterRemoval(card.current, profile.name);
    const result = await removal.submit((api) =>
      api.removeProfile({ profile: profile.name, revoke: false }),
    );
    if (result?.ok) moveFocus();
  };

  // Likewise for the rename form: back to ✎ when it closes, on the card's new name once saved
  // (the same card, which takes that name when the state with it arrives).
  const renameButton = useReturnFocus<HTMLButtonElement>(renaming);
  const closeRename = (renamedTo: string | null) => {
    if (renamedTo === null) renameButton.returnOnClose();
    else {
      focusWhenShown(
        () => profileCard(renamedTo)?.querySelector<HTMLElement>('.rename-button') ?? null,
      );
    }
    setRenaming(false);
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
      ref={card}
      className={`card profile ${isActive ? 'profile-active' : ''} status-${profile.status}`}
      aria-label={`Profile ${profile.name}`}
      data-profile={profile.name}
      id={opened?.id}
      // Focusable by script only: where focus lands when the card before it is removed.
      tabIndex={-1}
      // A card opened from the list closes with Escape, as the dialog does, back to its row;
      // an Escape the card's own forms handled (rename, the Remove confirmation) is theirs.
      onKeyDown={(event) => {
        if (opened && event.key === 'Escape' && !event.defaultPrevented) opened.onClose();
      }}
    >
      <header className={renaming ? 'profile-head profile-head-renaming' : 'profile-head'}>
        <div className="profile-title">
          {renaming ? (
            <RenameForm name={profile.name} onClose={closeRename} />
          ) : (
            <h3>
              {profile.name}
              <button
                ref={renameButton.ref}
                type="button"
                className="icon-button rename-button"
                aria-label={`Rename ${profile.name}`}
                title="Rename"
                onClick={() => setRenaming(true)}
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
          {takesNewSessions && (
            <span className="badge badge-next" title="New sessions go here">
              New sessions
            </span>
          )}
          <span
            className={`badge badge-${state.tone}`}
            aria-label={`Status: ${state.badge}`}
            title={state.title}
          >
            {state.badge}
          </span>
          {opened && (
            <button
              type="button"
              className="icon-button close-button"
              aria-label={`Close ${profile.name}`}
              title="Close (back to the list)"
              onClick={opened.onClose}
            >
              ×
            </button>
          )}
        </div>
      </header>

      {(limitedFor || (profile.statusMessage && profile.status !== 'ok')) && (
        <p className={`status-line status-line-${profile.status}`} role="status">
          {profile.statusMessage
            ? cardStatusMessage(profile.statusMessage, signInFixes(profile), now)
            : state.badge}
          {limitedFor && (
            <>
              {' '}
              <strong className="status-until">({limitedFor})</strong>
            </>
          )}
        </p>
      )}

      <div className="quotas">
        {notLive && (
          <p className="small quota-last-known" data-testid="last-known">
            {lastKnownLine(notLive, now)}
          </p>
        )}
        <QuotaBar
          profile={profile.name}
          window={windowsByLength(profile.quota).fiveHour}
          fallbackTitle="5-hour"
          now={now}
          notLive={notLive}
        />
        <QuotaBar
          profile={profile.name}
          window={windowsByLength(profile.quota).weekly}
          fallbackTitle="Weekly"
          now={now}
          notLive={notLive}
        />
        {/* The last-known line above already says when the figures were read. */}
        {!notLive && (
          <p className="small muted">Updated {formatAgo(profile.quota.updatedAt, now)}</p>
        )}
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
          {profile.limits?.map((family) => {
            // The words `usage` and `list` print, as a term and its description.
            const { label, text } = familyLimitParts(family, now);
            return (
              <Fragment key={family.id}>
                <dt>{label}</dt>
                <dd data-testid="limit-family">{text}</dd>
              </Fragment>
            );
          })}
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
            {...priming.field}
            onChange={(event) =>
              void priming.submit((api) =>
                api.setPriming({ profile: profile.name, enabled: event.target.checked }),
              )
            }
          />
          <span className="switch-track" aria-hidden="true" />
          <span>Prime idle weekly window</span>
        </label>
        <FieldError id={priming.errorId} error={priming.error} />
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
            // Every card has one: the account's name tells them apart out of the card's sight
            // (a screen reader's list of buttons), after the words the button shows.
            aria-label={`Make active: ${profile.name}`}
            {...makeActive.field}
            onClick={() =>
              void makeActive.submit((api) => api.setActive({ profile: profile.name }))
            }
          >
            Make active
          </button>
        )}
        <button
          type="button"
          className={signInFixes(profile) ? 'button primary' : 'button ghost'}
          aria-label={`Sign in again as ${profile.name}`}
          onClick={signInAgain}
        >
          Sign in again
        </button>
        {confirmRemove ? (
          <div
            className="confirm"
            role="group"
            aria-label={`Confirm removing ${profile.name}`}
            aria-busy={removal.busy}
            onKeyDown={(event) => {
              if (event.key !== 'Escape') return;
              event.preventDefault();
              keep();
            }}
          >
            <span className="small">{removalQuestion(profile.name, pinCount, isActive)}</span>
            <button
              type="button"
              className="button danger"
              {...removal.field}
              onClick={() => void remove()}
            >
              Remove
            </button>
            <button type="button" className="button ghost" autoFocus onClick={keep}>
              Keep
            </button>
            <FieldError id={removal.errorId} error={removal.error} />
          </div>
        ) : (
          <button
            ref={removeButton.ref}
            type="button"
            className="button ghost danger-text"
            aria-label={`Remove ${profile.name}`}
            onClick={() => setConfirmRemove(true)}
          >
            Remove…
          </button>
        )}
        <FieldError id={makeActive.errorId} error={makeActive.error} />
      </footer>
    </article>
  );
}
