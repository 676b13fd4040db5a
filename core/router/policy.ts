/**
 * The routing policy: which profile serves a request, and why. Pure — no I/O, no clock reads
 * (`now` comes in), so every rule is table-tested and one decision costs a few microseconds.
 *
 * Order (DESIGN §4): (1) explicit pin, strict unless it allows fallback; (2) the session's current
 * profile while it is healthy (never rotate mid-session otherwise); (3) the active profile;
 * (4) the repo/model bucket's recent profile (shared prefix cache); (5) the best eligible profile:
 * of those with room (`hasRoom`), the week that ends first (its capacity would expire unused),
 * then the most headroom in its tightest window, then the earliest weekly reset, then the user's
 * order; with no room anywhere, the most headroom first.
 */
import {
  leftPercent,
  fiveHourWindow,
  percentLeftText,
  unreadableFile,
  unreadableWhat,
  weeklyWindow,
} from '../format.ts';
import type { LeftCode, RouteReason, RouteRule, RouteWhyView } from '../view-types.ts';
import type { QuotaSnapshot, QuotaWindow } from '../state/schema.ts';
import type { RouteContext } from './route-context.ts';
import {
  joinNamed,
  named,
  plainText,
  profileRef,
  type NamedText,
  type ReasonName,
} from './reason-names.ts';
import { exhaustedUntil } from '../quota/limit-marks.ts';

/** A profile's health as the router sees it. */
export type CandidateStatus = 'ok' | 'limited' | 'auth_error' | 'unknown';

/** One profile the router may pick, in the user's order. */
export interface RoutingCandidate {
  name: string;
  status: CandidateStatus;
  /**
   * Why it is not `ok`, as the view's `statusCode` (e.g. `corrupt_file`): an `auth_error` whose
   * auth file cannot be read is told apart from one that needs a sign-in (see `ineligibility`).
   */
  statusCode?: string | null;
  /** Unix ms until which the profile is skipped (limited), or null. */
  unavailableUntil: number | null;
  /** Unix ms until which the circuit breaker keeps the profile out (5xx/network), or null. */
  circuitOpenUntil: number | null;
  /** The latest known quota, or null when never observed. */
  quota: QuotaSnapshot | null;
}

/** An explicit pin in force for this request. */
export interface RoutingPin {
  profile: string;
  /** When true, an ineligible pinned profile falls over instead of blocking. */
  allowFallback: boolean;
  source: 'header' | 'session' | 'repo';
}

/** Everything one decision depends on. */
export interface RoutingInput {
  /** Every profile, in the user's order. */
  candidates: readonly RoutingCandidate[];
  context: RouteContext;
  /** The profile this session is currently on, or null for a new session. */
  sessionProfile: string | null;
  /**
   * The name of the profile this session was on when that profile has been removed since (then
   * `sessionProfile` is null): wherever its turn goes now, it leaves that profile, a fallback.
   * Default null.
   */
  sessionRemoved?: string | null;
  pin: RoutingPin | null;
  /** `'auto'` or the name of the profile new unpinned sessions use. */
  active: string;
  /** The repo/model bucket's recent profile, or null. */
  bucketProfile: string | null;
  /** Profiles that already failed this request: a decision that avoids them is a fallback. */
  exclude: ReadonlySet<string>;
  /** Unix ms. */
  now: number;
  /**
   * False for a request that spends no quota (Codex's model list, a usage read): the upstream
   * answers those from a limited account too, so when no profile could take a turn it still goes
   * to one (see `readPick`). Default true.
   */
  spendsQuota?: boolean;
}

/** Why a candidate cannot serve now, as a stable code. */
export type IneligibleCode = LeftCode;

/** A candidate that cannot serve now. `reason` is a human phrase for the activity log. */
export interface ExcludedCandidate {
  profile: string;
  reason: string;
  code: IneligibleCode;
  /** Unix ms when it may serve again, or null when unknown or never without the user. */
  until: number | null;
}

/** What happened. */
export type RoutingOutcome = 'routed' | 'pinned_unavailable' | 'unknown_pin' | 'none_eligible';

/** The policy's answer. */
export interface RoutingDecision {
  /** The profile to use, or null when the request cannot be routed. */
  profile: string | null;
  /** The `x-codex-lab-route` value; `'pinned'` for pin outcomes, null when none is eligible. */
  route: RouteReason | null;
  /** One human sentence explaining the decision. */
  detail: string;
  /** Where `detail` names profiles (`core/router/reason-names.ts`): what a rename rewrites. */
  detailNames: readonly ReasonName[];
  /**
   * The rule that placed it and the profiles it left (what the live sessions say); for a request
   * that is not routed, the pin or nothing that was asked for.
   */
  why: RouteWhyView;
  /** The candidates that could not serve, and why. */
  excluded: ExcludedCandidate[];
  /**
   * When nobody (or the blocked pin) can serve: the earliest time a usage limit lifts, for the
   * 429's `resets_at`. Null when routed or unknown.
   */
  earliestReset: number | null;
  outcome: RoutingOutcome;
  /** For `pinned_unavailable` / `unknown_pin`: why the pinned profile cannot serve. */
  blockedBy: ExcludedCandidate | null;
}

/** What the single pass learned about one named profile (pin, session, active or bucket). */
interface Named {
  found: boolean;
  reason: ExcludedCandidate | null;
}

/**
 * Decides which profile serves a request. Pure: the same input gives the same decision. One pass
 * over the candidates gathers eligibility, the named profiles and the best one, so a decision
 * over 50 profiles allocates little and builds no lookup table.
 */
export function chooseProfile(input: RoutingInput): RoutingDecision {
  const { candidates, exclude, now, pin, sessionProfile, bucketProfile } = input;
  const active = input.active === 'auto' ? null : input.active;
  const pinName = pin ? pin.profile : null;
  const pinned: Named = { found: false, reason: null };
  const session: Named = { found: false, reason: null };
  const activeNamed: Named = { found: false, reason: null };
  const bucket: Named = { found: false, reason: null };
  const excluded: ExcludedCandidate[] = [];
  let best: RoutingCandidate | null = null;
  let bestTight = 0;
  let bestWeekly = 0;
  let bestRoomy = false;
  let bestExpires = 0;
  // The least used tightest window among profiles with room: a pick above it was chosen because
  // its capacity expires first, and its sentence says so.
  let roomyTight = Number.POSITIVE_INFINITY;

  const trial = circuitTrial(candidates, exclude, now);
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index] as RoutingCandidate;
    const reason = ineligibility(candidate, exclude, now, trial);
    const name = candidate.name;
    if (reason) excluded.push(reason);
    if (name === pinName) note(pinned, reason);
    if (name === sessionProfile) note(session, reason);
    if (name === active) note(activeNamed, reason);
    if (name === bucketProfile) note(bucket, reason);
    if (reason) continue;
    const quota = candidate.quota;
    const tight = tightestUsedPercent(quota, now);
    const weekly = weeklyResetAt(quota, now) ?? Number.POSITIVE_INFINITY;
    const roomy = hasRoom(quota, now);
    // Capacity that expires unused is lost: among profiles with room, the week that ends first
    // (by the clock hour it ends in, so windows read moments apart usually tie and headroom decides).
    const expires = roomy ? Math.floor(weekly / expiryStepMs) : Number.POSITIVE_INFINITY;
    if (roomy && tight < roomyTight) roomyTight = tight;
    if (
      best === null ||
      (roomy && !bestRoomy) ||
      (roomy === bestRoomy &&
        (expires < bestExpires ||
          (expires === bestExpires &&
            (tight < bestTight || (tight === bestTight && weekly < bestWeekly)))))
    ) {
      best = candidate;
      bestTight = tight;
      bestWeekly = weekly;
      bestRoomy = roomy;
      bestExpires = expires;
    }
  }

  // Any profile that failed this very request makes whatever we pick now a fallback.
  let fallingBack = exclude.size > 0;
  let notes = plainText('');
  // The profiles that should have served and did not: the pinned one, the session's own, and
  // those that failed this request (by their freshest reason).
  const left: { profile: string; code: LeftCode }[] = [];
  const leave = (entry: ExcludedCandidate): void => {
    if (!left.some((each) => each.profile === entry.profile)) {
      left.push({ profile: entry.profile, code: entry.code });
    }
  };
  const routed = (
    profile: string,
    route: RouteReason,
    detail: NamedText,
    rule: RouteRule,
  ): RoutingDecision => {
    if (exclude.size > 0) {
      for (const entry of excluded) if (exclude.has(entry.profile)) leave(entry);
    }
    return {
      profile,
      route: fallingBack && route !== 'pinned' ? 'fallback' : route,
      detail: detail.text,
      detailNames: detail.names,
      why: {
        rule,
        pin: rule === 'pin' && pin ? pin.source : null,
        left: route === 'pinned' ? [] : left,
      },
      excluded,
      earliestReset: null,
      outcome: 'routed',
      blockedBy: null,
    };
  };

  // (1) Explicit pin.
  if (pin) {
    if (!pinned.found) {
      return {
        profile: null,
        route: 'pinned',
        // Not a profile's name: nothing for a rename to follow.
        detail: `Pinned by ${pinSourceText(pin.source)} to "${pin.profile}", which is not a profile.`,
        detailNames: [],
        why: { rule: 'pin', pin: pin.source, left: [] },
        excluded,
        earliestReset: null,
        outcome: 'unknown_pin',
        blockedBy: {
          profile: pin.profile,
          reason: 'no such profile',
          code: 'unknown_profile',
          until: null,
        },
      };
    }
    const blockedBy = pinned.reason;
    if (!blockedBy) {
      return routed(
        pin.profile,
        'pinned',
        plainText(`Pinned by ${pinSourceText(pin.source)}.`),
        'pin',
      );
    }
    if (!pin.allowFallback) {
      if (input.spendsQuota === false && spendsOnlyQuota(blockedBy)) {
        return routed(
          pin.profile,
          'pinned',
          named`Pinned by ${pinSourceText(pin.source)}; ${profileRef(pin.profile)} ${blockedBy.reason}, which does not matter to a request that spends no quota.`,
          'pin',
        );
      }
      const detail = named`Pinned by ${pinSourceText(pin.source)} to ${profileRef(pin.profile)}, which ${blockedBy.reason}.`;
      return {
        profile: null,
        route: 'pinned',
        detail: detail.text,
        detailNames: detail.names,
        why: { rule: 'pin', pin: pin.source, left: [] },
        excluded,
        earliestReset:
          blockedBy.code === 'limited' || blockedBy.code === 'exhausted' ? blockedBy.until : null,
        outcome: 'pinned_unavailable',
        blockedBy,
      };
    }
    // Leaving a pinned or session profile because it cannot serve is a fallback, like a failure.
    notes = named`pinned ${profileRef(pin.profile)} ${blockedBy.reason}, pin allows fallback; `;
    leave(blockedBy);
    fallingBack = true;
  }

  // (2) The session stays where it is while that profile is healthy.
  if (session.found && sessionProfile !== pinName) {
    if (!session.reason) {
      return routed(
        sessionProfile as string,
        'sticky',
        sentence(notes, 'session stays on its profile'),
        'session',
      );
    }
    notes = named`${notes}session's ${profileRef(sessionProfile as string)} ${session.reason.reason}; `;
    leave(session.reason);
    fallingBack = true;
  } else if (sessionProfile === null && input.sessionRemoved) {
    // Its account is gone, and its prompt cache and reasoning with it: the turn moves, said as
    // the move it is on every surface (not as a new session's pick). The name is no profile's
    // now, so no rename follows it.
    const removed = input.sessionRemoved;
    notes = named`${notes}session's ${removed} was removed; `;
    if (!left.some((each) => each.profile === removed))
      left.push({ profile: removed, code: 'removed' });
    fallingBack = true;
  }

  // (3) The active profile for new sessions.
  if (activeNamed.found) {
    if (!activeNamed.reason)
      return routed(active as string, 'active', sentence(notes, 'active profile'), 'active');
    notes = named`${notes}active ${profileRef(active as string)} ${activeNamed.reason.reason}; `;
  }

  // (4) The bucket's recent profile keeps one repo/model on one account for prefix caching.
  if (bucket.found && !bucket.reason) {
    return routed(
      bucketProfile as string,
      'best',
      sentence(notes, 'same repo and model as a recent session (its prompt cache is there)'),
      'cache',
    );
  }

  // (5) Best eligible profile.
  if (best) {
    const text =
      bestRoomy && bestTight > roomyTight
        ? expiresFirstText(best, bestWeekly, now)
        : bestText(best, bestWeekly, now);
    return routed(best.name, 'best', sentence(notes, text), 'best');
  }

  // Nobody can take a turn; a request that spends none still has an account to go to.
  if (input.spendsQuota === false) {
    const read = readPick(excluded, exclude);
    if (read !== null) {
      fallingBack = exclude.size > 0;
      return routed(
        read.profile,
        'best',
        named`No profile can take a turn now; ${profileRef(read.profile)} frees soonest (it ${read.reason}), and this request spends no quota.`,
        'best',
      );
    }
  }

  // Nobody can serve: the 429 names the earliest moment a usage limit lifts.
  let earliestReset: number | null = null;
  for (const entry of excluded) {
    if ((entry.code === 'limited' || entry.code === 'exhausted') && entry.until !== null) {
      if (earliestReset === null || entry.until < earliestReset) earliestReset = entry.until;
    }
  }
  const detail =
    candidates.length === 0
      ? plainText('No profile is signed in.')
      : named`No eligible profile: ${joinNamed(
          excluded.map((entry) => named`${profileRef(entry.profile)} ${entry.reason}`),
          '; ',
        )}.`;
  return {
    profile: null,
    route: null,
    detail: detail.text,
    detailNames: detail.names,
    why: { rule: 'best', pin: null, left: [] },
    excluded,
    earliestReset,
    outcome: 'none_eligible',
    blockedBy: null,
  };
}

/**
 * True when only quota (a usage limit, a spent window) keeps it out. Not an open circuit: that
 * profile's upstream is failing, and the breaker's job is to send it nothing for a while.
 */
function spendsOnlyQuota(reason: ExcludedCandidate): boolean {
  return reason.code === 'limited' || reason.code === 'exhausted';
}

/**
 * The profile a request that spends no quota goes to when none can take a turn: of those kept out
 * only by quota (not a sign-in, an open circuit, or one that failed this request), the one that
 * frees soonest (an unknown time last, then the user's order), so a usage read shows the pool's
 * next free moment. Null when none is.
 */
function readPick(
  excluded: readonly ExcludedCandidate[],
  exclude: ReadonlySet<string>,
): ExcludedCandidate | null {
  let pick: ExcludedCandidate | null = null;
  for (const entry of excluded) {
    if (!spendsOnlyQuota(entry) || exclude.has(entry.profile)) continue;
    if (
      pick === null ||
      (entry.until !== null && (pick.until === null || entry.until < pick.until))
    ) {
      pick = entry;
    }
  }
  return pick;
}

function note(named: Named, reason: ExcludedCandidate | null): void {
  // Names are unique; the first match wins should a caller ever pass duplicates.
  if (named.found) return;
  named.found = true;
  named.reason = reason;
}

/**
 * Whether every otherwise usable candidate (status ok or unknown, not failed on this request) is
 * kept out by an open circuit: then answering 503 helps nobody, and the request goes
 * through as a trial, to the profile it would use were the circuits closed. The one place this
 * rule lives, so the router and every surface's "where new sessions go" agree. Stops at the first
 * usable candidate with a closed circuit: with no circuit open, that is the first one.
 */
export function circuitTrial(
  candidates: readonly RoutingCandidate[],
  exclude: ReadonlySet<string>,
  now: number,
): boolean {
  let usable = false;
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index] as RoutingCandidate;
    if (candidate.status !== 'ok' && candidate.status !== 'unknown') continue;
    if (exclude.size > 0 && exclude.has(candidate.name)) continue;
    const circuit = candidate.circuitOpenUntil;
    if (circuit === null || circuit <= now) return false;
    usable = true;
  }
  return usable;
}

/**
 * Why `candidate` cannot serve at `now`, or null when it is eligible. Eligible means: status ok or
 * unknown (or a limit that has lifted), circuit closed (or open during a trial: `circuitTrial`),
 * not failed on this request, and no quota window at 100 % whose reset is still ahead.
 */
export function ineligibility(
  candidate: RoutingCandidate,
  exclude: ReadonlySet<string>,
  now: number,
  trial = false,
): ExcludedCandidate | null {
  const profile = candidate.name;
  // A profile that failed this request usually has just been marked (limited, auth_error): the
  // specific reason wins, so its reset still counts for the pool's earliest reset.
  if (candidate.status === 'auth_error') {
    // The one place an unreadable auth file is told apart from a missing sign-in: every surface
    // (pool summary, refusals, banner, tray) words it from this code.
    return unreadableFile(candidate.statusCode)
      ? {
          profile,
          reason: unreadableWhat(candidate.statusCode).phrase,
          code: 'unreadable_file',
          until: null,
        }
      : { profile, reason: 'needs sign-in', code: 'auth_error', until: null };
  }
  const until = candidate.unavailableUntil;
  if (until !== null && until > now) {
    return { profile, reason: `is limited until ${isoTime(until)}`, code: 'limited', until };
  }
  if (candidate.status === 'limited' && until === null) {
    return { profile, reason: 'is limited (reset unknown)', code: 'limited', until: null };
  }
  const spentUntil = exhaustedUntil(candidate.quota, now);
  if (spentUntil !== null) {
    return {
      profile,
      reason: `has used up its quota until ${isoTime(spentUntil)}`,
      code: 'exhausted',
      until: spentUntil,
    };
  }
  if (exclude.has(profile)) {
    return { profile, reason: 'failed on this request', code: 'failed', until: null };
  }
  const circuit = candidate.circuitOpenUntil;
  if (circuit !== null && circuit > now && !trial) {
    return {
      profile,
      reason: `is failing upstream (retry after ${isoTime(circuit)})`,
      code: 'circuit_open',
      until: circuit,
    };
  }
  return null;
}

/** A 5-hour window used beyond this (whole percent) has no room for a new session. */
export const fiveHourRoomMaxUsed = 75;
/** A week with less than this left (percent) has no room for a new session. */
export const weeklyRoomMinLeft = 10;
/** Weekly resets are compared by the clock hour they end in (windows read moments apart usually tie). */
const expiryStepMs = 3_600_000;

/**
 * Whether a new session may start on a profile whose capacity expires first (docs/routing.md,
 * "Capacity that expires"): its 5-hour window has a quarter left, so the session does not run
 * into it within its first turns (and a 5-hour window refills on its own: waiting loses little),
 * and its week has a tenth left, so the session is not moved at once. Unknown quota has room.
 */
export function hasRoom(quota: QuotaSnapshot | null, now: number): boolean {
  if (!quota) return true;
  // The windows by what they are, by the rule every surface uses (a missing 5-hour window is
  // normal; a lone 5-hour window is no week).
  // (Not `windowsByLength`: no object per candidate of every new session.)
  const fiveHour = fiveHourWindow(quota);
  const weekly = weeklyWindow(quota);
  if (fiveHour !== null && liveUsed(fiveHour, now) > fiveHourRoomMaxUsed) return false;
  return weekly === null || 100 - liveUsed(weekly, now) >= weeklyRoomMinLeft;
}

/**
 * The used percent of a snapshot's tightest window that still applies at `now` (a window whose
 * reset has passed counts as 0). Unknown quota counts as 0: the first response's headers teach us.
 */
export function tightestUsedPercent(quota: QuotaSnapshot | null, now: number): number {
  if (!quota) return 0;
  // Whole percents, so the weekly-reset and user-order tie-breaks are not drowned by noise.
  return Math.round(Math.max(liveUsed(quota.primary, now), liveUsed(quota.secondary, now)));
}

/** Whether a snapshot reports any window: an account's quota is known only once it does. */
export function quotaKnown(quota: QuotaSnapshot | null): quota is QuotaSnapshot {
  return quota !== null && (quota.primary !== null || quota.secondary !== null);
}

/**
 * The reset time of the weekly window (placed by `windowSlots`; a missing 5-hour window is
 * normal), if it is still ahead of `now`.
 */
export function weeklyResetAt(quota: QuotaSnapshot | null, now: number): number | null {
  if (!quota) return null;
  const window = weeklyWindow(quota);
  if (!window || window.resetsAt === null || window.resetsAt <= now) return null;
  return window.resetsAt;
}

function liveUsed(window: QuotaWindow | null, now: number): number {
  if (!window) return 0;
  if (window.resetsAt !== null && window.resetsAt <= now) return 0;
  return Number.isFinite(window.usedPercent) ? window.usedPercent : 0;
}

const noExclusions: ReadonlySet<string> = new Set();

/** The reason a session that stays on its profile is routed there (one string, built once). */
export const stickyDetail = 'Session stays on its profile.';

/** Why a session that stays on its profile is there (one object, shared by every such turn). */
export const stickyWhy: RouteWhyView = Object.freeze({
  rule: 'session',
  pin: null,
  left: Object.freeze([]) as RouteWhyView['left'],
});

/**
 * Whether a session's own profile may keep serving it (no pin, nothing excluded): the rule behind
 * `stickyDecision`, for a caller that needs no decision object.
 */
export function staysOnProfile(candidate: RoutingCandidate, now: number): boolean {
  return ineligibility(candidate, noExclusions, now) === null;
}

/**
 * The decision `chooseProfile` makes for a session that stays where it is — no pin, nothing
 * excluded, its profile eligible — found without walking the pool: routing an existing session
 * costs the same with 5 profiles or 200. Null when the full walk is needed. (`excluded` lists only
 * what was looked at: the session's own profile, which is eligible.)
 */
export function stickyDecision(candidate: RoutingCandidate, now: number): RoutingDecision | null {
  if (!staysOnProfile(candidate, now)) return null;
  return {
    profile: candidate.name,
    route: 'sticky',
    detail: stickyDetail,
    detailNames: [],
    why: stickyWhy,
    excluded: [],
    earliestReset: null,
    outcome: 'routed',
    blockedBy: null,
  };
}

/**
 * Joins the notes gathered on the way down and the final reason into one capitalised sentence
 * (the notes start with a word of ours, never a profile's name, so capitalising changes no name).
 */
function sentence(notes: NamedText, text: string): NamedText {
  const joined = named`${notes}${text}.`;
  return { ...joined, text: `${joined.text.charAt(0).toUpperCase()}${joined.text.slice(1)}` };
}

function pinSourceText(source: RoutingPin['source']): string {
  if (source === 'header') return 'header';
  if (source === 'session') return 'session pin';
  return 'repo pin';
}

function bestText(candidate: RoutingCandidate, weekly: number, now: number): string {
  if (!quotaKnown(candidate.quota)) return 'best: quota not known yet';
  // The moment in ISO, as every reason names moments: each surface words it when it shows it
  // (`humanizeTimes`), so a reason read a day later does not still say "in 3d".
  const weeklyText = Number.isFinite(weekly) ? `, weekly resets ${isoTime(weekly)}` : '';
  // What is left in the shared words (core/format.ts), from the unrounded figure, so the reason
  // shows the number the card's bar and the pool banner show.
  const { primary, secondary } = candidate.quota;
  const left = leftPercent(Math.max(liveUsed(primary, now), liveUsed(secondary, now)));
  return `best: ${percentLeftText(left)} in its tightest window${weeklyText}`;
}

function expiresFirstText(candidate: RoutingCandidate, weekly: number, now: number): string {
  const quota = candidate.quota as QuotaSnapshot;
  const left = leftPercent(liveUsed(weeklyWindow(quota), now));
  return `best: its week ends first, at ${isoTime(weekly)}, with ${percentLeftText(left)}, used before it expires`;
}

/** The same few reset times recur on every request: format each once. */
const isoCache = new Map<number, string>();

function isoTime(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= 256) isoCache.clear();
    text = new Date(ms).toISOString();
    isoCache.set(ms, text);
  }
  return text;
}
