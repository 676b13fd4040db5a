/**
 * The weekly forecast as a pure function of one profile's latest snapshot and short history:
 * "at this pace the window runs out Tue 18:00" or "fine until the reset". Linear over the burn
 * seen since the window began, so it is explainable in one sentence and cheap to compute for
 * every surface (cards, `usage`, the pool summary).
 */
import { windowSlots, type WindowSlot } from '../format.ts';
import type { QuotaPoint, QuotaSnapshot, QuotaWindow } from '../state/schema.ts';

/** When the weekly window runs out at the current burn rate. */
export interface QuotaForecast {
  /** Unix ms when usage reaches 100 %, or null when it will not before the reset. */
  runsOutAt: number | null;
  /** The weekly window's reset (Unix ms), or null when unknown. */
  resetsAt: number | null;
  /** Current burn, in percent of the window per hour. */
  percentPerHour: number;
  /** The weekly window's used percent now. */
  usedPercent: number;
}

/** Less than this much history is noise, not a rate. */
export const minimumForecastSpanMs = 10 * 60_000;

/**
 * When the weekly window (`weeklySlot`) runs out at the burn rate seen since the window began:
 * simple linear. Null when unknown (no weekly window, or too little history to tell).
 */
export function forecastWeekly(
  latest: QuotaSnapshot | null,
  history: readonly QuotaPoint[],
  now: number,
): QuotaForecast | null {
  if (!latest) return null;
  const slot = weeklySlot(latest);
  if (!slot) return null;
  const window = latest[slot] as QuotaWindow;
  const resetsAt = window.resetsAt !== null && window.resetsAt > now ? window.resetsAt : null;
  // A window whose reset has passed starts again from zero.
  const usedPercent = window.resetsAt !== null && resetsAt === null ? 0 : window.usedPercent;
  if (usedPercent >= 100) {
    return { runsOutAt: resetsAt === null ? null : now, resetsAt, percentPerHour: 0, usedPercent };
  }
  if (resetsAt === null && window.resetsAt !== null) return null;
  const windowStart =
    resetsAt !== null && window.windowMinutes !== null
      ? resetsAt - window.windowMinutes * 60_000
      : now - 24 * 60 * 60_000;
  let first: { at: number; used: number } | null = null;
  for (const point of history) {
    const used = point[slot];
    if (point.at < windowStart || used === null) continue;
    // After a reset, values drop: restart from the lowest point of the current run.
    if (first === null || used < first.used) first = { at: point.at, used };
  }
  const last = { at: latest.observedAt, used: usedPercent };
  if (!first || last.at - first.at < minimumForecastSpanMs) return null;
  const perMs = (last.used - first.used) / (last.at - first.at);
  const percentPerHour = perMs * 60 * 60_000;
  if (perMs <= 0) {
    return { runsOutAt: null, resetsAt, percentPerHour: Math.max(0, percentPerHour), usedPercent };
  }
  const runsOutAt = Math.round(now + (100 - last.used) / perMs);
  return {
    runsOutAt: resetsAt !== null && runsOutAt >= resetsAt ? null : runsOutAt,
    resetsAt,
    percentPerHour,
    usedPercent,
  };
}

/** Which slot holds the weekly window, by the one rule (`windowSlots`); null when none is. */
export function weeklySlot(snapshot: QuotaSnapshot): WindowSlot | null {
  return windowSlots(snapshot).weekly;
}
