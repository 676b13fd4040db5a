/**
 * The pool at a glance, at the top of the page: what is left across the accounts that can serve, the
 * next time a limited one frees up, who a new session gets now and why, and the week's forecast.
 * The numbers come from the core's pool summary (the same one the tray and the CLI show).
 */
import type { PoolSummaryView } from '../../core/service/contract.ts';
import {
  humanizeTimes,
  noEligibleHeadline,
  noNewSessionTarget,
  poolLeftParts,
  poolTotal,
  poolForecastSentence,
  poolReadiness,
  sameRepoLead,
  unreadableGroups,
} from '../../core/format.ts';
import { formatDuration, formatAt } from '../format.ts';

/** Props of `PoolBanner`. */
export interface PoolBannerProps {
  pool: PoolSummaryView;
  now: number;
}

/** The banner (nothing when there are no accounts yet). */
export function PoolBanner({ pool, now }: PoolBannerProps) {
  const total = poolTotal(pool);
  if (total === 0) return null;
  const allLimited = pool.eligible.length === 0;
  // A profile whose sign-in cannot be read is named apart: a sign-in is not what it needs.
  const signIn = pool.needsSignIn;
  const nextFree = pool.nextFree
    ? `${pool.nextFree.profile} at ${formatAt(pool.nextFree.at, now)} (in ${formatDuration(
        Date.parse(pool.nextFree.at) - now,
      )})`
    : null;
  const forecast = poolForecastSentence(pool.forecast, (iso) => formatAt(iso, now));
  // What is left, in the words of every other surface ("47%" / "left in the pool").
  const left = poolLeftParts(pool);
  // The router's reasons name moments in ISO: worded here, in the browser's time zone, and again
  // every second as `now` ticks, so "(in 2h 3m)" counts down like the cards do.
  const reason = (detail: string) => humanizeTimes(detail, { now });
  const tone = allLimited ? 'limited' : (pool.headroomPercent ?? 100) < 20 ? 'low' : 'ok';
  return (
    <section className={`card pool pool-${tone}`} aria-label="Pool summary" role="region">
      <div className="pool-headroom">
        <strong className="pool-percent" data-testid="pool-headroom">
          {left.figure}
        </strong>
        <span className="muted small">{left.words}</span>
      </div>
      <div className="pool-lines">
        <p className="pool-headline" data-testid="pool-headline">
          {allLimited
            ? `${noEligibleHeadline(pool)}.`
            : `${poolReadiness(pool, total, total === 1 ? 'account' : 'accounts')}.`}
          {allLimited && nextFree && (
            <>
              {' '}
              Next free: <strong data-testid="pool-next-free">{nextFree}</strong>.
            </>
          )}
        </p>
        <p className="small" data-testid="pool-next">
          <span className="muted">New sessions → </span>
          {pool.next.profile ? (
            <>
              <strong>{pool.next.profile}</strong>
              <span className="muted"> · {reason(pool.next.detail)}</span>
            </>
          ) : (
            <span>{noNewSessionTarget}</span>
          )}
        </p>
        {pool.next.sameRepo && (
          <p className="small" data-testid="pool-next-same-repo">
            <span className="muted">
              {sameRepoLead(pool.next.sameRepo.repo, pool.next.sameRepo.model)} →{' '}
            </span>
            <strong>{pool.next.sameRepo.profile}</strong>
            <span className="muted"> · {reason(pool.next.sameRepo.detail)}</span>
          </p>
        )}
        {!allLimited && nextFree && (
          <p className="small">
            <span className="muted">Next free: </span>
            {nextFree}
          </p>
        )}
        <p className="small" data-testid="pool-forecast">
          <span className="muted">This week: </span>
          {forecast}
        </p>
        {signIn.length > 0 && (
          <p className="small">
            <span className="muted">Needs sign-in: </span>
            {signIn.join(', ')}
          </p>
        )}
        {unreadableGroups(pool).map((group) => (
          <p className="small" key={group.label}>
            <span className="muted">{group.label}: </span>
            {group.names.join(', ')}
          </p>
        ))}
      </div>
    </section>
  );
}
