/**
 * The pool summary of a set of profile views: the bridge between what every surface already has
 * (the `ProfileView`s, live-merged in the router, from the files in the CLI) and the pure
 * `summarizePool`. One path, so the banner, the tray, `list` and `usage --pool` agree.
 */
import { summarizePool, toPoolSummaryView, type RecentBucket } from '../router/pool-summary.ts';
import type { PoolSummaryView, ProfileView } from '../view-types.ts';
import { viewQuota } from './views.ts';

/**
 * The pool summary of `views` (in the user's order) with `active` ("auto" or a name) at `now`.
 * Moments stay ISO times, in `next.detail` too: each surface words them where they are shown, in
 * its own time zone and as of its own clock (the dashboard re-words them every second).
 */
export function poolSummaryOf(
  views: readonly ProfileView[],
  active: string,
  now: number,
  recent: RecentBucket | null = null,
): PoolSummaryView {
  return toPoolSummaryView(
    summarizePool({
      profiles: views.map((view) => {
        const { snapshot, history } = viewQuota(view);
        return {
          name: view.name,
          status: view.status,
          statusCode: view.statusCode ?? null,
          unavailableUntil:
            view.unavailableUntil === null ? null : Date.parse(view.unavailableUntil),
          // The router's own breaker, as the live view carries it: a profile it skips is not
          // where a new session goes (unless every usable one is, `circuitTrial`).
          circuitOpenUntil: view.skippedUntil === undefined ? null : Date.parse(view.skippedUntil),
          quota: snapshot,
          history,
        };
      }),
      active,
      now,
      recent,
    }),
  );
}
