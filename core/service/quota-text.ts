/**
 * The words for the pool summary and the forecasts, shared by the CLI and the tray so both say
 * the same thing: "Pool 47% left · 2 of 3 ready", "next free: team at 14:05", "at this pace:
 * runs out Tue 18:00", "fine until reset". 24-hour clock; a day name when the moment is not
 * within the next 20 hours.
 */
import {
  formatClockTime,
  humanizeTimes,
  poolForecastSentence,
  poolReadiness,
  sameRepoLead,
} from '../format.ts';
import type { ForecastView, PoolSummaryView, ProfileView, RequestView } from '../view-types.ts';

/** Formatting options: a fixed time zone makes the output deterministic in tests. */
export interface QuotaTextOptions {
  /** Current time (Unix ms). */
  now: number;
  /** IANA time zone; the system's when omitted. */
  timeZone?: string;
}

/** "14:05" when within the next 20 hours, else "Tue 14:05" (the shared clock-time wording). */
export function formatWhen(iso: string, options: QuotaTextOptions): string {
  return formatClockTime(Date.parse(iso), options);
}

/** A profile's forecast: "at this pace: runs out Tue 18:00", "fine until reset", … */
export function forecastText(forecast: ForecastView | null, options: QuotaTextOptions): string {
  if (!forecast) return 'pace not known yet';
  if (forecast.outlook === 'exhausted') {
    return forecast.resetsAt
      ? `used up until ${formatWhen(forecast.resetsAt, options)}`
      : 'used up';
  }
  if (forecast.outlook === 'runs_out' && forecast.runsOutAt) {
    return `at this pace: runs out ${formatWhen(forecast.runsOutAt, options)}`;
  }
  return 'at this pace: fine until reset';
}

/** The pool's forecast sentence (worded once, in `core/format.ts`). */
export function poolForecastText(pool: PoolSummaryView, options: QuotaTextOptions): string {
  return poolForecastSentence(pool.forecast, (iso) => formatWhen(iso, options));
}

/** The pool in a few lines: a short title, a headline and detail lines. */
export interface PoolText {
  /** "47%" (for a menu-bar title), or "" when nothing is known. */
  short: string;
  /** "Pool 47% left · 2 of 3 ready" or "All accounts limited · next free: team at 14:05". */
  headline: string;
  /** "New sessions → work (best: …)", "Next free: …", "This week: …", "Needs sign-in: …". */
  lines: string[];
}

/** The pool summary in words. */
export function describePool(pool: PoolSummaryView, options: QuotaTextOptions): PoolText {
  if (pool.counted === 0 && pool.needsSignIn.length === 0) {
    return { short: '', headline: 'No accounts yet', lines: [] };
  }
  const nextFree = pool.nextFree
    ? `${pool.nextFree.profile} at ${formatWhen(pool.nextFree.at, options)}`
    : null;
  const short = pool.headroomPercent === null ? '' : `${pool.headroomPercent}%`;
  let headline: string;
  if (pool.eligible.length === 0) {
    headline = pool.counted === 0 ? 'Every account needs sign-in' : 'All accounts limited';
    if (nextFree) headline += ` · next free: ${nextFree}`;
  } else {
    const readiness = poolReadiness(pool, pool.counted + pool.needsSignIn.length);
    // With no headroom known, the readiness says why ("quota not known yet") by itself.
    headline =
      pool.headroomPercent === null
        ? `Pool · ${readiness}`
        : `Pool ${pool.headroomPercent}% left · ${readiness}`;
  }
  // The router's reasons name moments in ISO; they are worded here, in this surface's time zone.
  const reason = (detail: string) => lowerFirst(humanizeTimes(detail, options));
  const lines: string[] = [];
  lines.push(
    pool.next.profile
      ? `New sessions → ${pool.next.profile}: ${reason(pool.next.detail)}`
      : 'New sessions → none can take one now',
  );
  const sameRepo = pool.next.sameRepo;
  if (sameRepo) {
    lines.push(
      `${sameRepoLead(sameRepo.repo, sameRepo.model)} → ${sameRepo.profile}: ${reason(sameRepo.detail)}`,
    );
  }
  if (nextFree && pool.eligible.length > 0) lines.push(`Next free: ${nextFree}`);
  lines.push(`This week: ${poolForecastText(pool, options)}`);
  if (pool.needsSignIn.length > 0) lines.push(`Needs sign-in: ${pool.needsSignIn.join(', ')}`);
  return { short, headline, lines };
}

function lowerFirst(text: string): string {
  const trimmed = text.replace(/\.$/, '');
  return `${trimmed.charAt(0).toLowerCase()}${trimmed.slice(1)}`;
}

/**
 * The one line `codex-lab codex` prints after Codex exits when any of its turns moved or were
 * refused ("this run: work → team at 14:02, work limited until 16:40"), or null when none did.
 * Then it names the accounts behind it and what frees each: those the run moved away from, and on
 * a refusal those that could have served it — limited ones when the pool was out of quota, and any
 * needing a sign-in (the one thing the user can fix at once). Codex retries a refused turn, so
 * refusals are counted as requests, not turns.
 */
export function describeRun(
  requests: readonly RequestView[],
  profiles: readonly Pick<ProfileView, 'name' | 'status' | 'unavailableUntil'>[],
  options: QuotaTextOptions,
): string | null {
  const turns = requests.filter(
    (request) => request.kind === 'responses' || request.kind === 'compact',
  );
  const parts: string[] = [];
  const involved = new Set<string>();
  let lastMove = '';
  for (const turn of turns) {
    if (turn.route !== 'fallback' || turn.profile === null) continue;
    const from = turn.fallback.map((entry) => entry.profile).join(', ');
    const move = `${from || '?'} → ${turn.profile}`;
    // A session that moved once serves its next turns on the new profile: say it once.
    if (move !== lastMove) parts.push(`${move} at ${formatWhen(turn.at, options)}`);
    lastMove = move;
    for (const entry of turn.fallback) involved.add(entry.profile);
  }
  const refused = turns.filter((turn) => turn.profile === null);
  if (refused.length > 0) {
    const first = refused[0] as RequestView;
    const outOfQuota = first.status === 429;
    const why = outOfQuota ? 'no account had quota left' : `status ${first.status}`;
    const times = refused.length === 1 ? 'once' : `${refused.length} times`;
    parts.push(`refused ${times} from ${formatWhen(first.at, options)} (${why})`);
    for (const profile of profiles) {
      if (profile.status === 'auth_error' || (outOfQuota && profile.status === 'limited')) {
        involved.add(profile.name);
      }
    }
  }
  if (parts.length === 0) return null;
  for (const profile of profiles) {
    if (!involved.has(profile.name)) continue;
    if (profile.status === 'limited') {
      parts.push(
        profile.unavailableUntil
          ? `${profile.name} limited until ${formatWhen(profile.unavailableUntil, options)}`
          : `${profile.name} limited`,
      );
    } else if (profile.status === 'auth_error') {
      parts.push(`${profile.name} needs a sign-in (codex-lab login ${profile.name})`);
    }
  }
  return `this run: ${parts.join(', ')}`;
}
