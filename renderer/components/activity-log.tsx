/**
 * The activity log: routing decisions, fallbacks, limits, sign-in problems and primes, newest first.
 */
import type { ActivityEntry } from '../../core/service/contract.ts';
import { activityKindLabel, humanizeTimes } from '../../core/format.ts';
import { formatClock } from '../format.ts';

/** Props of `ActivityLog`. */
export interface ActivityLogProps {
  activity: ActivityEntry[];
  /** The page's ticking clock: moments in a line are worded as of now, in the browser's zone. */
  now: number;
}

/** The log (most recent 100 lines). */
export function ActivityLog({ activity, now }: ActivityLogProps) {
  const entries = activity.slice(-100).reverse();
  return (
    <section className="card" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing yet: routing decisions, fallbacks and primes show up here.</p>
      ) : (
        <ol className="log" role="log" aria-label="Activity log">
          {entries.map((entry) => (
            <li key={entry.id} className={`log-line kind-${entry.kind}`} data-kind={entry.kind}>
              <time dateTime={entry.at} className="muted">
                {formatClock(entry.at, now)}
              </time>
              <span className={`kind kind-badge-${entry.kind}`}>
                {activityKindLabel(entry.kind)}
              </span>
              {entry.profile && (
                <span className="log-profile" title={entry.profile}>
                  {entry.profile}
                </span>
              )}
              <span className="log-message">{humanizeTimes(entry.message, { now })}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
