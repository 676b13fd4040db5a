/**
 * The boundary check for every number and time that comes from the upstream or from a state file
 * (issue 9, docs/routing.md "Hostile values"): a reset years away, a negative percentage or a
 * number beyond what a `Date` can hold must never reach the router's arithmetic, `toISOString` or
 * `quota.json`. Out-of-range values are dropped (treated as "not said") with a warning, once per
 * kind of value, through the `BoundaryWarn` the caller passes.
 */
import { day } from '../ports.ts';

/** Reports an implausible value (field and raw value); callers log it once per field. */
export type BoundaryWarn = (field: string, value: unknown) => void;

/** Quota windows last at most a week; a reset further ahead than this is nonsense. */
export const maxResetDistanceMs = 400 * day;

/**
 * A Unix-ms time no later than `maxResetDistanceMs` after `now`, else null (and a warning). A
 * time in the past is harmless (it reads as "already reset") and is kept; a negative one is not.
 */
export function plausibleTime(
  ms: number | null,
  now: number,
  field: string,
  warn?: BoundaryWarn,
): number | null {
  if (ms === null) return null;
  if (!Number.isFinite(ms) || ms < 0 || ms - now > maxResetDistanceMs) {
    warn?.(field, ms);
    return null;
  }
  return ms;
}

/** A used percentage clamped to 0–100 (a finite value outside is clamped with a warning). */
export function plausiblePercent(value: number, field: string, warn?: BoundaryWarn): number | null {
  if (!Number.isFinite(value)) {
    warn?.(field, value);
    return null;
  }
  if (value < 0 || value > 100) {
    warn?.(field, value);
    return Math.min(100, Math.max(0, value));
  }
  return value;
}

/** A window length in minutes: positive and at most `maxResetDistanceMs`, else null. */
export function plausibleMinutes(
  value: number | null,
  field: string,
  warn?: BoundaryWarn,
): number | null {
  if (value === null) return null;
  if (!Number.isFinite(value) || value < 0 || value * 60_000 > maxResetDistanceMs) {
    warn?.(field, value);
    return null;
  }
  return value;
}

/**
 * A `BoundaryWarn` that logs through `warn` at most once per field for the life of the process,
 * so a hostile upstream cannot flood the log.
 */
export function warnOncePerField(warn: (fields: object, message: string) => void): BoundaryWarn {
  const seen = new Set<string>();
  return (field, value) => {
    if (seen.has(field)) return;
    seen.add(field);
    warn(
      { field, value: String(value).slice(0, 40) },
      'ignored an out-of-range value from upstream',
    );
  };
}
