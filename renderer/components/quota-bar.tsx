/**
 * One quota window as a labelled bar of what is left, with its reset as a clock time and a
 * countdown (`resets 14:05 (in 2h 59m)`, in its words: a hover title is out of reach by keyboard
 * and touch). The words come from the shared formatting module (`windowLeft`, `barWords`), so the
 * bar says what the list, the CLI and the tray say; the bar empties as quota is used. Figures that
 * are not live (`quotaNotLive`) are drawn muted and said as last known.
 */
import { quotaUnknownText, windowLeft, type NotLiveQuota } from '../../core/format.ts';
import type { QuotaWindowView } from '../../core/service/contract.ts';
import { barTone, barWords, windowTitle } from '../format.ts';

/** Props of `QuotaBar`. */
export interface QuotaBarProps {
  profile: string;
  window: QuotaWindowView | null;
  fallbackTitle: string;
  now: number;
  /** Set when the account's figures are its last reading, not live (`quotaNotLive`). */
  notLive?: NotLiveQuota | null;
}

/**
 * A meter of what is left in one window: green, amber at 30% left, red at 10% (`barTone`); grey,
 * its figure muted and its value said as last known, when the figures are not live.
 */
export function QuotaBar({ profile, window, fallbackTitle, now, notLive = null }: QuotaBarProps) {
  const title = windowTitle(window, fallbackTitle);
  const parts = windowLeft(window, now);
  const words = barWords(window, now, notLive);
  if (parts.left === null) {
    return (
      <div className="quota">
        <div className="quota-head">
          <span>{title}</span>
          <span className="muted">{quotaUnknownText}</span>
        </div>
        <div className="bar bar-empty" aria-hidden="true" />
      </div>
    );
  }
  const stale = words.lastKnown !== null;
  return (
    <div className={stale ? 'quota quota-stale' : 'quota'}>
      <div className="quota-head">
        <span>{title}</span>
        {/* The figure stays beside the window's name; on a narrow card the reset takes the
            next line, whole, rather than breaking inside "(in 2d 23h)". Figures that are not
            live are muted (the card's line above says they are last known, and why). */}
        <span className="quota-words">
          {/* Two pieces (the box lays them out apart): the figure with its comma, the reset. */}
          <span>
            <strong data-testid="quota-value">{parts.amount}</strong>,
          </span>{' '}
          <span className="muted quota-reset" data-testid="quota-reset">
            {words.reset}
          </span>
        </span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label={`${profile} ${title} window`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={parts.left}
        aria-valuetext={words.spoken}
      >
        {/* React sets style through the CSSOM, which the CSP allows (no inline style attribute). */}
        <div
          className={`bar-fill bar-${stale ? 'stale' : barTone(parts.left)}`}
          style={{ width: `${parts.left}%` }}
        />
      </div>
    </div>
  );
}
