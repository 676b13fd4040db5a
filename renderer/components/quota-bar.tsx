/**
 * One quota window as a labelled bar with its reset countdown.
 */
import type { QuotaWindowView } from '../../core/service/contract.ts';
import { formatReset, windowTitle } from '../format.ts';

/** Props of `QuotaBar`. */
export interface QuotaBarProps {
  profile: string;
  window: QuotaWindowView | null;
  fallbackTitle: string;
  now: number;
}

/** A meter for one window: green, amber from 70%, red from 90%. */
export function QuotaBar({ profile, window, fallbackTitle, now }: QuotaBarProps) {
  const title = windowTitle(window, fallbackTitle);
  if (!window) {
    return (
      <div className="quota">
        <div className="quota-head">
          <span>{title}</span>
          <span className="muted">not reported yet</span>
        </div>
        <div className="bar bar-empty" aria-hidden="true" />
      </div>
    );
  }
  const used = Math.max(0, Math.min(100, Math.round(window.usedPercent)));
  const level = used >= 90 ? 'high' : used >= 70 ? 'mid' : 'low';
  return (
    <div className="quota">
      <div className="quota-head">
        <span>{title}</span>
        <span>
          <strong data-testid="quota-value">{used}%</strong>
          <span className="muted"> used · {formatReset(window.resetsAt, now)}</span>
        </span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label={`${profile} ${title} quota used`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={used}
        aria-valuetext={`${used}% used, ${formatReset(window.resetsAt, now)}`}
      >
        {/* React sets style through the CSSOM, which the CSP allows (no inline style attribute). */}
        <div className={`bar-fill bar-${level}`} style={{ width: `${used}%` }} />
      </div>
    </div>
  );
}
