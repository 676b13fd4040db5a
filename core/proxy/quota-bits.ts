/**
 * The few quota facts the router reads on its hot path: the `x-codex-*` headers of each answer,
 * the 429 `usage_limit_reached` body, the pool-wide 429 the router answers itself, and the
 * `wham/usage` answer built from a snapshot (research/codex-protocol.md sections 6 and 7).
 * Kept here, small and allocation-light, as the router's adapter over the quota formats.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { QuotaSnapshot, QuotaWindow } from '../state/schema.ts';
import type { UsageLimit } from './engine.ts';

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function headerNumber(headers: IncomingHttpHeaders, name: string): number | null {
  const text = headerText(headers, name);
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function windowFrom(headers: IncomingHttpHeaders, prefix: string, now: number): QuotaWindow | null {
  const used = headerNumber(headers, `${prefix}-used-percent`);
  if (used === null) return null;
  const minutes = headerNumber(headers, `${prefix}-window-minutes`);
  const resetAt = headerNumber(headers, `${prefix}-reset-at`);
  const resetAfter = headerNumber(headers, `${prefix}-reset-after-seconds`);
  // Codex counts a window only when something in it is non-zero or a reset is given.
  if (used === 0 && !minutes && resetAt === null && resetAfter === null) return null;
  const resetsAt =
    resetAt !== null ? resetAt * 1000 : resetAfter !== null ? now + resetAfter * 1000 : null;
  return { usedPercent: used, windowMinutes: minutes, resetsAt };
}

/** Reads the `x-codex-primary-*` / `x-codex-secondary-*` headers; null when there are none. */
export function parseQuotaHeaders(headers: IncomingHttpHeaders, now: number): QuotaSnapshot | null {
  if (
    headers['x-codex-primary-used-percent'] === undefined &&
    headers['x-codex-secondary-used-percent'] === undefined
  ) {
    return null;
  }
  const primary = windowFrom(headers, 'x-codex-primary', now);
  const secondary = windowFrom(headers, 'x-codex-secondary', now);
  if (!primary && !secondary) return null;
  const hasCredits = headerText(headers, 'x-codex-credits-has-credits');
  return {
    observedAt: now,
    source: 'headers',
    plan: headerText(headers, 'x-codex-plan-type') ?? null,
    primary,
    secondary,
    credits:
      hasCredits === undefined
        ? null
        : {
            hasCredits: /^(true|1)$/i.test(hasCredits),
            unlimited: /^(true|1)$/i.test(headerText(headers, 'x-codex-credits-unlimited') ?? ''),
            balance: headerText(headers, 'x-codex-credits-balance') ?? null,
          },
    activeLimit: headerText(headers, 'x-codex-active-limit') ?? null,
    limitReached: null,
    others: [],
  };
}

/** A 429 body that says the account's quota is spent, or null for any other 429. */
export function parseUsageLimitBody(
  body: string,
  headers: IncomingHttpHeaders,
  now: number,
): UsageLimit | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const error = (parsed as { error?: Record<string, unknown> } | null)?.error;
  if (!error || error['type'] !== 'usage_limit_reached') return null;
  const resetsAtSeconds = typeof error['resets_at'] === 'number' ? error['resets_at'] : null;
  const resetsIn =
    typeof error['resets_in_seconds'] === 'number' ? error['resets_in_seconds'] : null;
  const afterHeader =
    headerNumber(headers, 'x-codex-primary-reset-after-seconds') ??
    headerNumber(headers, 'x-codex-secondary-reset-after-seconds');
  const resetsAt =
    resetsAtSeconds !== null
      ? resetsAtSeconds * 1000
      : resetsIn !== null
        ? now + resetsIn * 1000
        : afterHeader !== null
          ? now + afterHeader * 1000
          : null;
  const message =
    typeof error['message'] === 'string' ? error['message'] : 'The usage limit has been reached.';
  return { resetsAt, message };
}

/** The router's own 429 when no profile is left: Codex's `usage_limit_reached` shape. */
export function poolLimitBody(earliestMs: number | null, message: string, now: number): unknown {
  const error: Record<string, unknown> = {
    type: 'usage_limit_reached',
    code: 'usage_limit_reached',
    message,
  };
  if (earliestMs !== null) {
    error['resets_at'] = Math.ceil(earliestMs / 1000);
    error['resets_in_seconds'] = Math.max(0, Math.ceil((earliestMs - now) / 1000));
  }
  return { error };
}

function windowJson(window: QuotaWindow | null, now: number): unknown {
  if (!window) return null;
  const seconds = window.windowMinutes ? window.windowMinutes * 60 : 0;
  const resetAt = window.resetsAt === null ? null : Math.floor(window.resetsAt / 1000);
  return {
    used_percent: Math.round(window.usedPercent),
    limit_window_seconds: seconds,
    reset_after_seconds:
      window.resetsAt === null ? 0 : Math.max(0, Math.round((window.resetsAt - now) / 1000)),
    reset_at: resetAt,
  };
}

/** The `wham/usage` JSON for a profile's snapshot, shaped like the upstream's answer. */
export function usageFromSnapshot(snapshot: QuotaSnapshot, now: number = Date.now()): unknown {
  const worst = Math.max(snapshot.primary?.usedPercent ?? 0, snapshot.secondary?.usedPercent ?? 0);
  return {
    plan_type: snapshot.plan ?? 'plus',
    rate_limit: {
      allowed: worst < 100,
      limit_reached: worst >= 100,
      primary_window: windowJson(snapshot.primary, now),
      secondary_window: windowJson(snapshot.secondary, now),
    },
    credits: snapshot.credits
      ? {
          has_credits: snapshot.credits.hasCredits,
          unlimited: snapshot.credits.unlimited,
          balance: snapshot.credits.balance,
        }
      : null,
  };
}

function usageWindow(raw: unknown): QuotaWindow | null {
  if (!raw || typeof raw !== 'object') return null;
  const window = raw as Record<string, unknown>;
  if (typeof window['used_percent'] !== 'number') return null;
  const seconds =
    typeof window['limit_window_seconds'] === 'number' ? window['limit_window_seconds'] : 0;
  return {
    usedPercent: window['used_percent'],
    windowMinutes: seconds > 0 ? Math.ceil(seconds / 60) : null,
    resetsAt: typeof window['reset_at'] === 'number' ? window['reset_at'] * 1000 : null,
  };
}

/** Reads a `wham/usage` answer into a snapshot; null when it is not the expected shape. */
export function parseUsagePayload(text: string, now: number): QuotaSnapshot | null {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return null;
  }
  if (!payload || typeof payload !== 'object') return null;
  const body = payload as Record<string, unknown>;
  const rateLimit = (body['rate_limit'] ?? null) as Record<string, unknown> | null;
  const credits = (body['credits'] ?? null) as Record<string, unknown> | null;
  return {
    observedAt: now,
    source: 'usage',
    plan: typeof body['plan_type'] === 'string' ? body['plan_type'] : null,
    primary: usageWindow(rateLimit?.['primary_window']),
    secondary: usageWindow(rateLimit?.['secondary_window']),
    credits: credits
      ? {
          hasCredits: credits['has_credits'] === true,
          unlimited: credits['unlimited'] === true,
          balance: typeof credits['balance'] === 'string' ? credits['balance'] : null,
        }
      : null,
    activeLimit: null,
    limitReached:
      typeof rateLimit?.['limit_reached'] === 'boolean'
        ? (rateLimit['limit_reached'] as boolean)
        : null,
    others: [],
  };
}
