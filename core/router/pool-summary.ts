/**
 * The pool at a glance, as one pure function every surface uses (dashboard banner, tray, `list`
 * footer, `usage --pool`): headroom in the tightest window across eligible profiles, the next time
 * a limited profile frees up, who a new unpinned session would get now and why — asked of the
 * router's own chooser, so the answer cannot drift from what routing does — and the pool's weekly
 * forecast at this week's pace.
 */
import type { PoolSummaryView, RouteReason } from '../view-types.ts';
import { forecastWeekly, weeklySlot, type QuotaForecast } from '../quota/forecast.ts';
import type { QuotaPoint, QuotaSnapshot } from '../state/schema.ts';
import {
  chooseProfile,
  ineligibility,
  quotaKnown,
  tightestUsedPercent,
  type CandidateStatus,
  type RoutingCandidate,
  type RoutingPin,
} from './policy.ts';
import type { RouteContext } from './route-context.ts';

/** One profile as the pool summary sees it. */
export interface PoolProfile {
  name: string;
  status: CandidateStatus;
  /** The view's `statusCode`: tells an unreadable auth file from a missing sign-in. */
  statusCode?: string | null;
  /** Unix ms until which the profile is limited, or null. */
  unavailableUntil: number | null;
  /** Unix ms until which the circuit breaker keeps it out, or null. */
  circuitOpenUntil?: number | null;
  quota: QuotaSnapshot | null;
  history: readonly QuotaPoint[];
}

/** Everything the summary depends on. */
export interface PoolInput {
  /** Every profile, in the user's order. */
  profiles: readonly PoolProfile[];
  /** `'auto'` or the active profile's name. */
  active: string;
  /** Unix ms. */
  now: number;
  /**
   * The repo and model of the most recent session and the profile that served it (the router's
   * bucket, which always has both): a new session there goes where that one went, to share its
   * prompt cache. `pin` is that repo's pin, when it has one: a new session there goes where the
   * pin says, and the reason says so.
   */
  recent?: RecentBucket | null;
}

/** The most recent session's repo, model and profile, and the repo's pin if it has one. */
export interface RecentBucket {
  repo: string;
  model: string;
  profile: string;
  pin?: RoutingPin | null;
}

/** Where a new session in the most recent session's repo and model goes, when not `next`. */
export interface SameRepoNext {
  repo: string;
  model: string;
  profile: string;
  detail: string;
}

/** The pool's weekly outlook. */
export type PoolOutlook = 'runs_out' | 'lasts' | 'exhausted' | 'unknown';

/** The summary, times in Unix ms. */
export interface PoolSummary {
  counted: number;
  eligible: string[];
  /** Eligible profiles whose quota no answer has reported yet (not read, or read with no window). */
  unread: string[];
  needsSignIn: string[];
  /** Profiles whose auth file cannot be read (not in `needsSignIn`: a sign-in is not the fix). */
  unreadable: string[];
  /** Those of `unreadable` whose OS keychain is locked or unavailable (no file to mend). */
  keychainUnavailable: string[];
  headroomPercent: number | null;
  nextFree: { profile: string; at: number } | null;
  next: {
    profile: string | null;
    route: RouteReason | null;
    detail: string;
    /** A new session in the most recent session's repo and model, when it goes elsewhere. */
    sameRepo: SameRepoNext | null;
  };
  forecast: {
    outlook: PoolOutlook;
    runsOutAt: number | null;
    nextResetAt: number | null;
    percentPerHour: number;
  };
}

/** A new session: no id, no repo, no model, no pin header (what "a new unpinned session" means). */
const newSession: RouteContext = {
  sessionId: null,
  sessionSource: null,
  repo: null,
  model: null,
  headerProfile: null,
  turnState: null,
};
const noExclusions: ReadonlySet<string> = new Set();

/**
 * Summarises the pool. Pure: the same input gives the same summary. Profiles that need a sign-in
 * or whose auth file cannot be read are left out of every number (they cannot serve until the user acts); limited ones count with
 * no headroom; ready ones whose quota no answer has reported yet are left out of the headroom; one
 * skipped for failing upstream (an open circuit, for seconds or minutes) is not ready, and counts
 * with the headroom it has.
 */
export function summarizePool(input: PoolInput): PoolSummary {
  const { now } = input;
  const candidates: RoutingCandidate[] = input.profiles.map((profile) => ({
    name: profile.name,
    status: profile.status,
    statusCode: profile.statusCode ?? null,
    unavailableUntil: profile.unavailableUntil,
    circuitOpenUntil: profile.circuitOpenUntil ?? null,
    quota: profile.quota,
  }));
  const eligible: string[] = [];
  const unread: string[] = [];
  const needsSignIn: string[] = [];
  const unreadable: string[] = [];
  const keychainUnavailable: string[] = [];
  let counted = 0;
  let headroom = 0;
  // The profiles the headroom averages: an account whose quota is not known yet has no figure
  // to add (counting it as 100 % free would promise what nobody has read), a limited one adds 0.
  let measured = 0;
  // Ready profiles with a known quota: with none, the headroom is not known (a limited profile's
  // 0 alone would read "0% left" while an account is ready).
  let readyKnown = 0;
  let nextFree: PoolSummary['nextFree'] = null;
  let remaining = 0;
  // Counted profiles whose weekly window no answer has reported: the pool is not known to be
  // used up while one of them may still have all of its week.
  let weeklyUnknown = 0;
  let burn = 0;
  let anyForecast = false;
  let nextResetAt: number | null = null;

  input.profiles.forEach((profile, index) => {
    const candidate = candidates[index] as RoutingCandidate;
    const reason = ineligibility(candidate, noExclusions, now);
    if (reason?.code === 'auth_error') {
      needsSignIn.push(profile.name);
      return;
    }
    if (reason?.code === 'unreadable_file') {
      unreadable.push(profile.name);
      if (profile.statusCode === 'keyring_unavailable') keychainUnavailable.push(profile.name);
      return;
    }
    counted++;
    if (!reason) {
      eligible.push(profile.name);
      if (quotaKnown(profile.quota)) {
        measured++;
        readyKnown++;
        headroom += Math.max(0, 100 - tightestUsedPercent(profile.quota, now));
      } else {
        // It can take a session, but "ready" would promise quota nobody has read.
        unread.push(profile.name);
      }
    } else if (reason.code === 'circuit_open') {
      // Skipped for failing upstream for a short while: its quota is not spent, and counts.
      if (quotaKnown(profile.quota)) {
        measured++;
        headroom += Math.max(0, 100 - tightestUsedPercent(profile.quota, now));
      }
    } else {
      measured++;
      if (
        (reason.code === 'limited' || reason.code === 'exhausted') &&
        reason.until !== null &&
        (nextFree === null || reason.until < nextFree.at)
      ) {
        nextFree = { profile: profile.name, at: reason.until };
      }
    }
    const forecast: QuotaForecast | null = forecastWeekly(profile.quota, profile.history, now);
    const weekly = weeklyUsed(profile.quota, now);
    if (weekly !== null) remaining += Math.max(0, 100 - weekly.used);
    else weeklyUnknown++;
    if (weekly?.resetsAt != null && (nextResetAt === null || weekly.resetsAt < nextResetAt)) {
      nextResetAt = weekly.resetsAt;
    }
    // A used-up week is a forecast with no pace (nothing left to burn): the pool's pace is known
    // only from a profile that still has some week, read long enough to measure it.
    if (forecast && forecast.usedPercent < 100) {
      anyForecast = true;
      burn += forecast.percentPerHour;
    }
  });

  const decision = chooseProfile({
    candidates,
    context: newSession,
    sessionProfile: null,
    pin: null,
    active: input.active,
    bucketProfile: null,
    exclude: noExclusions,
    now,
  });

  return {
    counted,
    eligible,
    unread,
    needsSignIn,
    unreadable,
    keychainUnavailable,
    headroomPercent:
      measured === 0 || (eligible.length > 0 && readyKnown === 0)
        ? null
        : Math.round(headroom / measured),
    nextFree,
    next: {
      profile: decision.profile,
      route: decision.route,
      detail: decision.detail,
      sameRepo: sameRepoNext(candidates, input, decision.profile),
    },
    forecast: poolForecast(counted, remaining, weeklyUnknown, burn, anyForecast, nextResetAt, now),
  };
}

/** The router's choice for a new session in `input.recent`'s repo and model, if not `generic`. */
function sameRepoNext(
  candidates: RoutingCandidate[],
  input: PoolInput,
  generic: string | null,
): SameRepoNext | null {
  const recent = input.recent;
  if (!recent) return null;
  const decision = chooseProfile({
    candidates,
    context: { ...newSession, repo: recent.repo, model: recent.model },
    sessionProfile: null,
    pin: recent.pin ?? null,
    active: input.active,
    bucketProfile: recent.profile,
    exclude: noExclusions,
    now: input.now,
  });
  if (decision.profile === null || decision.profile === generic) return null;
  return {
    repo: recent.repo,
    model: recent.model,
    profile: decision.profile,
    detail: decision.detail,
  };
}

function poolForecast(
  counted: number,
  remaining: number,
  weeklyUnknown: number,
  burn: number,
  anyForecast: boolean,
  nextResetAt: number | null,
  now: number,
): PoolSummary['forecast'] {
  const base = { nextResetAt, percentPerHour: burn };
  if (counted === 0) return { ...base, outlook: 'unknown', runsOutAt: null };
  if (remaining <= 0) {
    return weeklyUnknown > 0
      ? { ...base, outlook: 'unknown', runsOutAt: null }
      : { ...base, outlook: 'exhausted', runsOutAt: now };
  }
  if (!anyForecast) return { ...base, outlook: 'unknown', runsOutAt: null };
  if (burn <= 0) return { ...base, outlook: 'lasts', runsOutAt: null };
  // The pool drains at the sum of every profile's pace; a reset refills one account, so running
  // out after the earliest reset means "lasts past the resets" at this pace.
  const runsOutAt = Math.round(now + (remaining / burn) * 3_600_000);
  if (nextResetAt !== null && runsOutAt >= nextResetAt) {
    return { ...base, outlook: 'lasts', runsOutAt: null };
  }
  return { ...base, outlook: 'runs_out', runsOutAt };
}

/** The weekly window's used percent at `now` (0 after its reset), or null when unknown. */
function weeklyUsed(
  quota: QuotaSnapshot | null,
  now: number,
): { used: number; resetsAt: number | null } | null {
  if (!quota) return null;
  const slot = weeklySlot(quota);
  const window = slot ? quota[slot] : null;
  if (!window) return null;
  if (window.resetsAt !== null && window.resetsAt <= now) return { used: 0, resetsAt: null };
  return { used: window.usedPercent, resetsAt: window.resetsAt };
}

/** The summary as the contract's view (ISO times). */
export function toPoolSummaryView(summary: PoolSummary): PoolSummaryView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    counted: summary.counted,
    eligible: summary.eligible,
    unread: summary.unread,
    needsSignIn: summary.needsSignIn,
    unreadable: summary.unreadable,
    keychainUnavailable: summary.keychainUnavailable,
    headroomPercent: summary.headroomPercent,
    nextFree: summary.nextFree
      ? { profile: summary.nextFree.profile, at: new Date(summary.nextFree.at).toISOString() }
      : null,
    next: summary.next,
    forecast: {
      outlook: summary.forecast.outlook,
      runsOutAt: iso(summary.forecast.runsOutAt),
      nextResetAt: iso(summary.forecast.nextResetAt),
      percentPerHour: Math.round(summary.forecast.percentPerHour * 100) / 100,
    },
  };
}
