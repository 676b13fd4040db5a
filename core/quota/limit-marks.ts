/**
 * The one rule between a profile's usage-limit marks (a 429 `usage_limit_reached`) and the
 * figures it reads (`wham/usage`, response headers): the newest reading of the same limit wins.
 * A usage read taken after a 429 that shows that limit with room lifts the mark; one that shows it
 * spent keeps it, or, with no mark, makes one until the window resets. The account's main
 * (`codex`) windows speak only for the main limit: a per-model family's mark (`codex_spark`) is
 * lifted or kept only by that family's own figures. Every process applies it through this module
 * (the router's memory, a CLI command's files, the views), so every surface and routing agree.
 */
import { curedByTokensOnDisk } from '../auth/constants.ts';
import {
  effectiveHealth,
  liftFamilyMark,
  okHealth,
  setFamilyMark,
  setHealth,
  type ProfileHealth,
} from '../state/health-store.ts';
import type {
  HealthFile,
  HealthStatus,
  LimitSnapshot,
  QuotaSnapshot,
  QuotaWindow,
} from '../state/schema.ts';
import { defaultLimitId } from './headers.ts';

/** A limit mark as held in memory or in `state/health.json`. */
export interface LimitMark {
  status: HealthStatus;
  unavailableUntil: number | null;
  /** When the mark was made (Unix ms); undefined for a mark of unknown age. */
  updatedAt?: number;
}

/** What a reading says of a mark: lift it, limit until `until`, or nothing new (null). */
export type ReadingVerdict = { lift: true } | { lift: false; until: number } | null;

/** When a window at 100 % resets, if that is still ahead of `now`; otherwise null. */
function exhaustedWindowUntil(window: QuotaWindow | null, now: number): number | null {
  if (!window || window.usedPercent < 100 || window.resetsAt === null || window.resetsAt <= now) {
    return null;
  }
  return window.resetsAt;
}

/**
 * When the used-up windows of a reading (100 %, reset ahead) lift: the latest such reset; null if
 * none. A window at 100 % with an unknown reset does not count: stale figures must not lock an
 * account out forever.
 */
export function exhaustedUntil(
  quota: Pick<QuotaSnapshot, 'primary' | 'secondary'> | null,
  now: number,
): number | null {
  if (!quota) return null;
  // Two windows, checked without building a list: routing runs this for every candidate.
  const primary = exhaustedWindowUntil(quota.primary, now);
  const secondary = exhaustedWindowUntil(quota.secondary, now);
  if (primary === null) return secondary;
  return secondary === null || primary > secondary ? primary : secondary;
}

/** True when a reading shows room in every window it reports (none at 100 %, none reported spent). */
export function showsHeadroom(
  snapshot: Pick<QuotaSnapshot, 'primary' | 'secondary'> & { limitReached?: boolean | null },
): boolean {
  if (snapshot.limitReached === true) return false;
  const windows = [snapshot.primary, snapshot.secondary].filter((window) => window !== null);
  return windows.length > 0 && windows.every((window) => window.usedPercent < 100);
}

/**
 * What `reading` says of `mark`, the account's main limit: null when the mark stands as it is.
 * A reading older than the mark (a read under way when the 429 came) says nothing; a needs-sign-in
 * mark is never the quota's to lift.
 */
export function mainLimitVerdict(
  mark: LimitMark | undefined,
  reading: QuotaSnapshot,
  now: number,
): ReadingVerdict {
  if (mark?.status === 'auth_error') return null;
  if (mark?.updatedAt !== undefined && reading.observedAt < mark.updatedAt) return null;
  const holds =
    mark?.status === 'limited' && (mark.unavailableUntil === null || mark.unavailableUntil > now);
  const spent = exhaustedUntil(reading, now);
  // A mark that holds already says "spent" (with the 429's own reset); no mark, a mark that has
  // lapsed or an `ok` one gets the reading's.
  if (spent !== null) return holds ? null : { lift: false, until: spent };
  return holds && showsHeadroom(reading) ? { lift: true } : null;
}

/** The family a limit id names (`codex-spark` and `codex_spark` are one), or null for the main limit. */
export function limitFamily(limitId: string | null | undefined): string | null {
  if (!limitId) return null;
  const family = limitId.replaceAll('-', '_');
  return family === defaultLimitId ? null : family;
}

/**
 * What `reading` says of one per-model family's mark (`until`, made at `markedAt`; undefined when
 * there is none): only that family's own figures (`others`) count, never the main windows.
 */
export function familyLimitVerdict(
  family: string,
  mark: { until: number; markedAt: number } | undefined,
  reading: QuotaSnapshot,
  now: number,
): ReadingVerdict {
  if (mark !== undefined && reading.observedAt < mark.markedAt) return null;
  const own = reading.others.find((other: LimitSnapshot) => limitFamily(other.limitId) === family);
  if (own === undefined) return null;
  const holds = mark !== undefined && mark.until > now;
  const spent = exhaustedUntil(own, now);
  if (spent !== null) return holds ? null : { lift: false, until: spent };
  return holds && showsHeadroom(own) ? { lift: true } : null;
}

/**
 * What `reading` says of each of a profile's families: those it reports and those `markOf` knows
 * a mark for, each by that family's own figures (`familyLimitVerdict`); families it says nothing
 * new of are left out. The one walk the router's memory and health.json (`applyReading`) share.
 */
export function familyVerdicts(
  marked: Iterable<string>,
  markOf: (family: string) => { until: number; markedAt: number } | undefined,
  reading: QuotaSnapshot,
  now: number,
): Array<{ family: string; verdict: NonNullable<ReadingVerdict> }> {
  const families = new Set(marked);
  for (const other of reading.others) {
    const family = limitFamily(other.limitId);
    if (family !== null) families.add(family);
  }
  const verdicts: Array<{ family: string; verdict: NonNullable<ReadingVerdict> }> = [];
  for (const family of families) {
    const verdict = familyLimitVerdict(family, markOf(family), reading, now);
    if (verdict !== null) verdicts.push({ family, verdict });
  }
  return verdicts;
}

/**
 * A profile's health as every surface shows it and routing holds it: its mark, or `limited` until
 * the reset when its latest figures show a window used up (as good as a 429 until then). A
 * needs-sign-in or limited mark is kept as it is.
 */
export function standingHealth<
  Health extends { status: HealthStatus; unavailableUntil: number | null; code: string | null },
>(health: Health, latest: QuotaSnapshot | null, now: number): Health {
  if (health.status === 'auth_error' || health.status === 'limited') return health;
  const until = exhaustedUntil(latest, now);
  if (until === null) return health;
  return { ...health, status: 'limited', unavailableUntil: until, code: 'usage_limit_reached' };
}

/** The message of a limit mark a reading made (the upstream's own words when a 429 made it). */
export const limitReachedMessage = 'The usage limit has been reached.';

/**
 * The one rule between a usage reading and the marks health.json holds for its profile (the
 * router applies the same verdicts to its memory, then writes them here): the main limit's mark
 * by `mainLimitVerdict`, each family's by `familyLimitVerdict`; a profile not seen working yet, or
 * marked for a missing auth file whose tokens have just worked, is `ok`. False when nothing
 * changed.
 */
export function applyReading(
  file: HealthFile,
  name: string,
  snapshot: QuotaSnapshot,
  now: number,
): boolean {
  let changed = false;
  const marks = file.families?.[name] ?? {};
  for (const { family, verdict } of familyVerdicts(
    Object.keys(marks),
    (family) => marks[family],
    snapshot,
    now,
  )) {
    changed =
      (verdict.lift
        ? liftFamilyMark(file, name, family, now)
        : setFamilyMark(file, name, family, verdict.until, null, now)) || changed;
  }
  const stored = file.profiles[name];
  const current = effectiveHealth(stored, now);
  const verdict = mainLimitVerdict(stored, snapshot, now);
  if (verdict !== null && !verdict.lift) {
    return setHealth(file, name, limitedByReading(verdict.until), now) || changed;
  }
  if (
    current.status === 'unknown' ||
    verdict?.lift === true ||
    (current.status === 'auth_error' && curedByTokensOnDisk(current.code))
  ) {
    return setHealth(file, name, okHealth, now) || changed;
  }
  return changed;
}

/** The mark a reading that shows the main limit used up makes, until `until`. */
function limitedByReading(until: number): ProfileHealth {
  return {
    status: 'limited',
    unavailableUntil: until,
    code: 'usage_limit_reached',
    message: limitReachedMessage,
  };
}
