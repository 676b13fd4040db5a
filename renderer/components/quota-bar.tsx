/**
 * One quota window as a labelled bar of what is left, with its reset countdown (its local clock
 * time in the countdown's title, `resetClockText`). The words come
 * from the shared formatting module (`windowLeft`), so the bar says what the list, the CLI and the
 * tray say; the bar empties as quota is used.
 */
import { quotaUnknownText, resetClockText, windowLeft } from '../../core/format.ts';
import type { QuotaWindowView } from '../../core/service/contract.ts';
import { barTone, windowTitle } from '../format.ts';

/** Props of `QuotaBar`. */
export interface QuotaBarProps {
  profile: string;
  window: QuotaWindowView | null;
  fallbackTitle: string;
  now: number;
}

/** A meter of what is left in one window: green, amber at 30% left, red at 10% (`barTone`). */
export function QuotaBar({ profile, window, fallbackTitle, now }: QuotaBarProps) {
  const title = windowTitle(window, fallbackTitle);
  const parts = windowLeft(window, now);
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
  return (
    <div className="quota">
      <div className="quota-head">
        <span>{title}</span>
        <span>
          <strong data-testid="quota-value">{parts.amount}</strong>
          <span
            className="muted"
            data-testid="quota-reset"
            // The countdown says how long; the title says when, in the browser's zone.
            title={resetClockText(window?.resetsAt ?? null, { now }) ?? undefined}
          >
            {' '}
            · {parts.reset}
          </span>
        </span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label={`${profile} ${title} quota left`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={parts.left}
        aria-valuetext={parts.text}
      >
        {/* React sets style through the CSSOM, which the CSP allows (no inline style attribute). */}
        <div
          className={`bar-fill bar-${barTone(parts.left)}`}
          style={{ width: `${parts.left}%` }}
        />
      </div>
    </div>
  );
}
