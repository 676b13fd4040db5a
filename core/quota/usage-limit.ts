/**
 * The upstream's 429 `usage_limit_reached` (docs/codex-protocol.md §6.3): reading when the
 * profile may be used again, and building the pool-wide 429 the router answers with when every
 * profile is limited (Codex shows its own message from this shape and does not retry it).
 */
import { formatMoment, signInCommand } from '../format.ts';
import type { QuotaSnapshot, QuotaWindow } from '../state/schema.ts';
import { plausibleTime, type BoundaryWarn } from './bounds.ts';

/** What a 429 body says. */
export interface UsageLimitInfo {
  /** `error.type`, e.g. `usage_limit_reached` or `usage_not_included`; null if unreadable. */
  type: string | null;
  /** Unix ms when the limit lifts, or null when nothing says. */
  resetsAt: number | null;
  planType: string | null;
}

/**
 * Reads a 429 body (text or parsed JSON). The reset comes from `resets_at` (Unix seconds),
 * else `now + resets_in_seconds`, else the response headers' windows (`headerSnapshot`): an
 * exhausted window's reset, or failing that the earliest reset still ahead. Never throws.
 */
export function parseUsageLimitBody(
  body: unknown,
  now: number,
  headerSnapshot: QuotaSnapshot | null = null,
  warn?: BoundaryWarn,
): UsageLimitInfo {
  let value = body;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof value === 'string' ? value : new TextDecoder().decode(value));
    } catch {
      value = null;
    }
  }
  const error = isRecord(value) && isRecord(value.error) ? value.error : null;
  const type = error && typeof error.type === 'string' ? error.type : null;
  const planType = error && typeof error.plan_type === 'string' ? error.plan_type : null;
  let resetsAt: number | null = null;
  const resetsAtSeconds = error ? finite(error.resets_at) : null;
  const resetsInSeconds = error ? finite(error.resets_in_seconds) : null;
  const fromBody =
    resetsAtSeconds !== null && resetsAtSeconds > 0
      ? plausibleTime(Math.round(resetsAtSeconds * 1000), now, 'error.resets_at', warn)
      : null;
  const fromDelay =
    fromBody === null && resetsInSeconds !== null && resetsInSeconds >= 0
      ? plausibleTime(
          now + Math.round(resetsInSeconds * 1000),
          now,
          'error.resets_in_seconds',
          warn,
        )
      : null;
  if (fromBody !== null) resetsAt = fromBody;
  else if (fromDelay !== null) resetsAt = fromDelay;
  else if (headerSnapshot) resetsAt = resetFromWindows(headerSnapshot, now);
  return { type, resetsAt, planType };
}

/** The reset of the exhausted window (the latest, if several), else the earliest one ahead. */
function resetFromWindows(snapshot: QuotaSnapshot, now: number): number | null {
  const windows = [snapshot.primary, snapshot.secondary].filter(
    (window): window is QuotaWindow & { resetsAt: number } =>
      window !== null && window.resetsAt !== null && window.resetsAt > now,
  );
  const exhausted = windows.filter((window) => window.usedPercent >= 100);
  if (exhausted.length > 0) return Math.max(...exhausted.map((window) => window.resetsAt));
  if (windows.length > 0) return Math.min(...windows.map((window) => window.resetsAt));
  return null;
}

/**
 * The 429 body the router returns when no profile can serve: Codex's own shape, so Codex shows
 * its usage-limit message with the earliest reset across the pool. The message names it as people
 * read times (`at 02:35 (in 2h 10m)`, the weekday when 20 hours away or more, in this machine's
 * time zone); `resets_at` and `resets_in_seconds` carry it for programs.
 */
export function buildPoolLimitBody(options: {
  earliestReset: number | null;
  now: number;
  planType?: string | null;
  profileCount?: number;
  /**
   * How many of `profileCount` reached the limit (the others cannot serve for another reason);
   * all of them when omitted.
   */
  limitedCount?: number;
  /**
   * Profiles that need a new sign-in: said with the command, since signing one in may give
   * capacity before any reset.
   */
  signInNeeded?: readonly string[];
  /** IANA time zone of the message's clock time; this machine's when omitted (tests fix it). */
  timeZone?: string;
}): { error: Record<string, unknown> } {
  const { earliestReset, now } = options;
  const count = options.profileCount;
  const limited = options.limitedCount ?? count;
  const who =
    count === undefined || limited === undefined
      ? 'Every Codex Lab profile'
      : limited < count
        ? `${limited} of ${count} Codex Lab profiles`
        : `All ${count} Codex Lab profiles`;
  const when =
    earliestReset === null
      ? 'No reset time is known; run `codex-lab usage --refresh` to check.'
      : `The earliest resets at ${formatMoment(earliestReset, { now, ...(options.timeZone ? { timeZone: options.timeZone } : {}) })}.`;
  const names = options.signInNeeded ?? [];
  const signIn =
    names.length === 0
      ? ''
      : ` ${names.join(', ')} ${names.length === 1 ? 'needs' : 'need'} a new sign-in, which may give capacity now: run ${signInCommand(names[0]!)}${names.length > 1 ? ' (and each other one)' : ''}.`;
  return {
    error: {
      type: 'usage_limit_reached',
      message: `${who} reached the usage limit. ${when}${signIn}`,
      plan_type: options.planType ?? null,
      resets_at: earliestReset === null ? null : Math.ceil(earliestReset / 1000),
      resets_in_seconds:
        earliestReset === null ? null : Math.max(0, Math.ceil((earliestReset - now) / 1000)),
    },
  };
}

function finite(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
