/**
 * Pure detection of idle ("not started") quota windows from successive usage observations
 * (docs/peers.md, "Upstream facts" item 4): the upstream has no "started" field, but an idle
 * window reports its reset one full window from "now" on every observation, so its `reset_at`
 * keeps moving forward with the clock. Once a completed turn starts it, `reset_at` stops moving.
 */
import type { PrimingWindow } from '../profiles/schema.ts';
import type { QuotaSnapshot, QuotaWindow } from '../state/schema.ts';

/** Full length of each window the scheduler knows, in milliseconds. */
export const windowLengthMs: Readonly<Record<PrimingWindow, number>> = {
  five_hour: 5 * 60 * 60 * 1000,
  weekly: 7 * 24 * 60 * 60 * 1000,
};

/** Reset times wobble by a second or two between observations; anything within this is "equal". */
export const defaultJitterMs = 5_000;

/**
 * How far apart two looks must be for their resets to tell "moving with the clock" from "stopped"
 * whatever the jitter: closer than twice the jitter, a reset may fit both (one rounded to whole
 * seconds moves 5 s in 5.5 s). The scheduler keeps an older look until a newer one is this far.
 */
export const decisiveLookGapMs = 2 * defaultJitterMs;

/** One window as seen in one observation (times in Unix ms). */
export interface WindowSample {
  observedAt: number;
  /** When the window resets, or null when the upstream did not say. */
  resetsAt: number | null;
  /** Full window length, from `window_minutes`, or null when unknown. */
  windowMs: number | null;
  usedPercent: number;
}

/** What the observations say about one window. */
export type WindowState = 'idle' | 'started' | 'unknown';

/** The verdict on one window, with the reason in words for the activity log. */
export interface WindowAssessment {
  state: WindowState;
  reason: string;
}

/**
 * Picks `window` out of a snapshot. Windows are matched by length when the upstream gives it
 * (a plan without the 5-hour window may carry the weekly one as primary); otherwise by position.
 */
export function pickWindow(snapshot: QuotaSnapshot, window: PrimingWindow): QuotaWindow | null {
  const candidates = [snapshot.primary, snapshot.secondary].filter(
    (entry): entry is QuotaWindow => entry !== null,
  );
  const byLength = candidates.find(
    (entry) => entry.windowMinutes !== null && classifyMinutes(entry.windowMinutes) === window,
  );
  if (byLength) return byLength;
  const positional = window === 'five_hour' ? snapshot.primary : snapshot.secondary;
  return positional && positional.windowMinutes === null ? positional : null;
}

/** Builds the sample of `window` in `snapshot`, or null when the snapshot does not carry it. */
export function sampleWindow(snapshot: QuotaSnapshot, window: PrimingWindow): WindowSample | null {
  const entry = pickWindow(snapshot, window);
  if (!entry) return null;
  return {
    observedAt: snapshot.observedAt,
    resetsAt: entry.resetsAt,
    windowMs: entry.windowMinutes === null ? windowLengthMs[window] : entry.windowMinutes * 60_000,
    usedPercent: entry.usedPercent,
  };
}

/**
 * Decides whether a window has started, from the previous and the current sample of it.
 *
 * - Idle: `reset_at` moved forward by as much as the clock did (the countdown is pinned at full
 *   length), or a known reset has passed and the new countdown is still at full length, so nothing
 *   shows that anything started it.
 * - Started: some quota is used, `reset_at` stopped moving, or the countdown is below full length.
 * - Unknown: one pinned observation alone cannot tell an idle window from one started this second.
 */
export function assessWindow(
  previous: WindowSample | null,
  current: WindowSample,
  jitterMs: number = defaultJitterMs,
): WindowAssessment {
  if (current.resetsAt === null) {
    if (previous?.resetsAt != null && previous.resetsAt <= current.observedAt) {
      return idle('its known reset has passed and no observation shows a new window');
    }
    return unknown('the upstream reports no reset time');
  }
  if (current.resetsAt <= current.observedAt) {
    return idle('its reset time has passed and no newer observation shows it started');
  }
  // Usage in a window whose reset is ahead is the surest sign it runs, whatever its reset did
  // between two reads (a turn that started it just before this read moved the reset forward).
  if (current.usedPercent > 0) return started(`${current.usedPercent}% of it is used`);
  const countdown = current.resetsAt - current.observedAt;
  const pinned = current.windowMs !== null && Math.abs(countdown - current.windowMs) <= jitterMs;
  if (previous && previous.resetsAt !== null) {
    const drift = current.resetsAt - previous.resetsAt;
    const elapsed = current.observedAt - previous.observedAt;
    // A drift that fits both readings (looks less than twice the jitter apart) tells nothing.
    const moving = Math.abs(drift - elapsed) <= jitterMs;
    const stopped = Math.abs(drift) <= jitterMs;
    if (elapsed > jitterMs && moving && !stopped) {
      return idle('its reset time keeps moving forward with the clock');
    }
    if (elapsed > jitterMs && stopped && !moving) {
      return started('its reset time stopped moving');
    }
    if (previous.resetsAt <= current.observedAt && pinned) {
      return idle('its previous reset has passed and the new countdown is still at full length');
    }
  }
  if (current.windowMs !== null && !pinned) {
    return started('its countdown is below the full window length');
  }
  return unknown('one observation at full length cannot tell idle from just started');
}

/** The epoch-aligned slot of `window` containing `at`, in Unix seconds: the claim key. */
export function resetSlot(window: PrimingWindow, at: number): number {
  const length = windowLengthMs[window];
  return Math.floor(Math.floor(at / length) * length) / 1000;
}

function classifyMinutes(minutes: number): PrimingWindow | null {
  if (minutes >= 24 * 60) return 'weekly';
  if (minutes > 0) return 'five_hour';
  return null;
}

function idle(reason: string): WindowAssessment {
  return { state: 'idle', reason };
}

function started(reason: string): WindowAssessment {
  return { state: 'started', reason };
}

function unknown(reason: string): WindowAssessment {
  return { state: 'unknown', reason };
}
