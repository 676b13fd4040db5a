/**
 * The accounts as a dense list, one row each: the name (which opens the account's full card
 * under the list), the state it is in (active, limited, needs sign-in, in use, pinned) in words,
 * and both quota windows as thin bars with their figure and the time left to their reset. Made
 * so 15 or 30 accounts fit a normal window without scrolling.
 */
import type { LabState, QuotaWindowView } from '../../core/service/contract.ts';
import {
  asOfText,
  windowLeft,
  windowName,
  windowsByLength,
  type NotLiveQuota,
} from '../../core/format.ts';
import { Fragment } from 'react';
import { focusWhenShown } from '../focus.ts';
import {
  accountState,
  barTone,
  barWords,
  lastKnownLine,
  quotaNotLive,
  sessionMarks,
  windowTitle,
  type AccountState,
  type SessionMarks,
} from '../format.ts';
import { useLabStore } from '../stores/use-lab-store.ts';

/** The id of a profile's full card, for the row's `aria-controls` (card keys are profile names). */
export function cardIdOf(key: string): string {
  return `card-${key}`;
}

/** The name button of `name`'s row in the dense list, if it is on the page. */
export function rowButton(name: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(
    `li[data-profile-row="${CSS.escape(name)}"] .row-name`,
  );
}

/**
 * Opens or closes one account's card from the list. Opening moves focus into the card (it
 * opens under the list, out of sight of the row); the row's button keeps it when closing.
 */
export function toggleCard(key: string, open: boolean): void {
  useLabStore.getState().setCardOpen(key, open);
  if (open) focusWhenShown(() => document.getElementById(cardIdOf(key)));
}

/** Closes a card opened from the list, handing focus back to its row. */
export function closeCard(key: string, name: string): void {
  useLabStore.getState().setCardOpen(key, false);
  focusWhenShown(() => rowButton(name));
}

/** Props of `WindowCell`. */
interface WindowCellProps {
  profile: string;
  window: QuotaWindowView | null;
  fallbackTitle: string;
  now: number;
  /** Set when the account's figures are its last reading, not live (`quotaNotLive`). */
  notLive: NotLiveQuota | null;
}

/**
 * One window in a row: "5h", a thin bar of what is left, "63%" ("used up" in place of the bar and
 * figure once the window is), "2h 59m" (to its reset). The bar carries the card's own accessible
 * name and value (`barWords`: the reset's clock time too), so a screen reader hears what the
 * card's bar says. Figures that are not live are grey and muted, and say so first.
 */
function WindowCell({ profile, window, fallbackTitle, now, notLive }: WindowCellProps) {
  const title = windowTitle(window, fallbackTitle);
  const short = window?.windowMinutes
    ? windowName(window.windowMinutes, 'short')
    : fallbackTitle === 'Weekly'
      ? 'wk'
      : '5h';
  const parts = windowLeft(window, now);
  if (parts.left === null) {
    return (
      <span className="row-window" title={`${title}: ${parts.text}`}>
        <span className="row-window-name">{short}</span>
        <span className="mini-bar bar-empty" aria-hidden="true" />
        <span className="row-percent muted">{parts.figure}</span>
        <span className="row-reset muted" />
      </span>
    );
  }
  const words = barWords(window, now, notLive);
  const stale = words.lastKnown !== null;
  return (
    <span
      className={stale ? 'row-window row-window-stale' : 'row-window'}
      title={`${title}: ${words.spoken}`}
    >
      <span className="row-window-name">{short}</span>
      {/* A used-up window's bar is empty: its words ("used up") take the bar's and the figure's
          room, as wide as the figure's column is not. */}
      <span
        className={parts.exhausted ? 'mini-bar bar-used-up' : 'mini-bar'}
        role="progressbar"
        aria-label={`${profile} ${title} window`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={parts.left}
        aria-valuetext={words.spoken}
      >
        {parts.exhausted ? (
          parts.figure
        ) : (
          // React sets style through the CSSOM, which the CSP allows (no inline style attribute).
          <span
            className={`bar-fill bar-${stale ? 'stale' : barTone(parts.left)}`}
            style={{ width: `${parts.left}%` }}
          />
        )}
      </span>
      {!parts.exhausted && (
        <strong className={stale ? 'row-percent muted' : 'row-percent'}>{parts.figure}</strong>
      )}
      <span className="row-reset muted" aria-hidden="true">
        {parts.countdown}
      </span>
    </span>
  );
}

/** The words a row shows for what its account is in, most urgent first. */
function rowTags(state: AccountState, marks: SessionMarks, sessions: number, pins: number) {
  const tags: Array<{ text: string; tone: string; title: string }> = [];
  // A ready row has no state tag (its bars say it); every other state is words.
  if (state.tone !== 'ok') {
    tags.push({ text: state.text, tone: state.tone, title: state.title });
  }
  if (marks.active) tags.push({ text: 'Active', tone: 'active', title: marks.activeTitle });
  if (marks.newSessions) {
    tags.push({ text: 'New sessions', tone: 'next', title: 'New sessions go here' });
  }
  if (sessions > 0) {
    const count = `${sessions} live session${sessions === 1 ? '' : 's'}`;
    tags.push({ text: 'In use', tone: 'use', title: count });
  }
  if (pins > 0) {
    const count = `${pins} pin${pins === 1 ? '' : 's'}`;
    tags.push({ text: 'Pinned', tone: 'pin', title: count });
  }
  return tags;
}

/** Props of `AccountList`. */
export interface AccountListProps {
  lab: LabState;
  now: number;
  /** True while the page has lost its router: the figures are the last it said (`quotaNotLive`). */
  offline?: boolean;
}

/** The list. */
export function AccountList({ lab, now, offline = false }: AccountListProps) {
  const cardKeys = useLabStore((state) => state.cardKeys);
  const openCards = useLabStore((state) => state.openCards);
  return (
    <ul className="account-list" aria-label="Accounts at a glance">
      {lab.profiles.map((profile) => {
        const key = cardKeys[profile.name] ?? profile.name;
        const open = openCards.includes(key);
        const marks = sessionMarks(lab, profile.name);
        const sessions = lab.sessions.filter((session) => session.profile === profile.name);
        const pins = lab.pins.filter((pin) => pin.profile === profile.name);
        const state = accountState(profile, now);
        const tags = rowTags(state, marks, sessions.length, pins.length);
        const notLive = quotaNotLive(profile, offline);
        return (
          <li
            key={key}
            className={`account-row status-${state.tone}${marks.active ? ' row-active' : ''}${marks.newSessions ? ' row-next' : ''}`}
            data-profile-row={profile.name}
          >
            <button
              type="button"
              // A row with no state tag gives its name the tag's room too: a long name is cut
              // only where the row has none.
              className={tags.length > 0 ? 'row-name' : 'row-name row-name-wide'}
              aria-expanded={open}
              aria-controls={open ? cardIdOf(key) : undefined}
              title={`${profile.name}${profile.email ? ` · ${profile.email}` : ''}: ${open ? 'close' : 'open'} its card`}
              onClick={() => toggleCard(key, !open)}
            >
              <span className="row-caret" aria-hidden="true">
                {open ? '▾' : '▸'}
              </span>
              <span className="row-label">
                <span className="row-title">{profile.name}</span>
                {/* The age of figures that are not live, under the name: its grey bars and its
                    state's tag say they are not. A screen reader hears it whole with each bar. */}
                {notLive && (
                  <span
                    className="row-age muted"
                    title={lastKnownLine(notLive, now)}
                    aria-hidden="true"
                  >
                    {asOfText(notLive, { now })}
                  </span>
                )}
              </span>
            </button>
            {tags.length > 0 && (
              <span className="row-tags">
                {tags.map((tag) => (
                  <span key={tag.text} className={`tag tag-${tag.tone}`} title={tag.title}>
                    {tag.text.split(' ').map((word, index) => (
                      <Fragment key={index}>
                        {index > 0 && ' '}
                        <span className="tag-word">{word}</span>
                      </Fragment>
                    ))}
                  </span>
                ))}
              </span>
            )}
            <WindowCell
              profile={profile.name}
              window={windowsByLength(profile.quota).fiveHour}
              fallbackTitle="5-hour"
              now={now}
              notLive={notLive}
            />
            <WindowCell
              profile={profile.name}
              window={windowsByLength(profile.quota).weekly}
              fallbackTitle="Weekly"
              now={now}
              notLive={notLive}
            />
          </li>
        );
      })}
    </ul>
  );
}
