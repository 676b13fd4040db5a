/**
 * The usage endpoint, `GET {base}/wham/usage` (docs/codex-protocol.md §7), as "build the
 * request → process the response" so the HTTP client stays outside. Also the reverse: rendering a
 * snapshot back into that JSON, because the router answers Codex's own usage call with the routed
 * account's numbers (peers.md §0.3).
 */
import { z } from 'zod';
import { codexClientHeaders } from '../auth/codex-identity.ts';
import { defaultChatGptBaseUrl } from '../config.ts';
import { LabError } from '../errors.ts';
import type { LimitSnapshot, QuotaSnapshot, QuotaWindow } from '../state/schema.ts';
import { defaultLimitId } from './headers.ts';
import { plausibleMinutes, plausiblePercent, plausibleTime, type BoundaryWarn } from './bounds.ts';

/** A request ready for any HTTP client. Holds the access token: never log it. */
export interface UsageRequest {
  url: string;
  headers: Record<string, string>;
}

/**
 * Builds the usage request. `ChatGPT-Account-Id` is required for Team/Business accounts (without
 * it the upstream answers as a free account), so it is sent whenever known.
 */
export function buildUsageRequest(
  baseUrl: string | null | undefined,
  credentials: { accessToken: string; accountId: string | null },
): UsageRequest {
  return buildBackendRequest(baseUrl, credentials, 'wham/usage');
}

/**
 * A GET of `{base}/{path}` on the ChatGPT backend with the headers the usage read sends (Codex's
 * client headers, the bearer, `ChatGPT-Account-Id` when known): one place for every quota read.
 */
export function buildBackendRequest(
  baseUrl: string | null | undefined,
  credentials: { accessToken: string; accountId: string | null },
  path: string,
): UsageRequest {
  const base = (baseUrl && baseUrl.trim() !== '' ? baseUrl.trim() : defaultChatGptBaseUrl).replace(
    /\/+$/,
    '',
  );
  const headers: Record<string, string> = {
    ...codexClientHeaders('application/json'),
    authorization: `Bearer ${credentials.accessToken}`,
  };
  if (credentials.accountId) headers['chatgpt-account-id'] = credentials.accountId;
  return { url: `${base}/${path}`, headers };
}

const windowSchema = z
  .looseObject({
    used_percent: z.number().nullish(),
    limit_window_seconds: z.number().nullish(),
    reset_after_seconds: z.number().nullish(),
    reset_at: z.number().nullish(),
  })
  .nullish()
  .catch(null);

const rateLimitSchema = z
  .looseObject({
    allowed: z.boolean().nullish(),
    limit_reached: z.boolean().nullish(),
    primary_window: windowSchema,
    secondary_window: windowSchema,
  })
  .nullish()
  .catch(null);

/** The usage payload, lenient: unknown fields pass, a malformed part reads as null. */
export const usageResponseSchema = z.looseObject({
  plan_type: z.string().nullish().catch(null),
  rate_limit: rateLimitSchema,
  credits: z
    .looseObject({
      has_credits: z.boolean().nullish(),
      unlimited: z.boolean().nullish(),
      balance: z.union([z.string(), z.number()]).nullish(),
    })
    .nullish()
    .catch(null),
  additional_rate_limits: z
    .array(
      z
        .looseObject({
          limit_name: z.string().nullish(),
          metered_feature: z.string().nullish(),
          rate_limit: rateLimitSchema,
        })
        .nullable()
        .catch(null),
    )
    .nullish()
    .catch(null),
});

type UsageWindowJson = z.infer<typeof windowSchema>;

/**
 * Turns a usage response into a snapshot, mapping as Codex does: minutes = ceil(seconds / 60)
 * (null when ≤ 0), `reset_at` seconds → ms, `reset_after_seconds` ignored. Throws `upstream_error`
 * when the body is not a JSON object.
 */
export function processUsageResponse(
  json: unknown,
  now: number,
  warn?: BoundaryWarn,
): QuotaSnapshot {
  const toWindow = (window: UsageWindowJson, field: string) =>
    readUsageWindow(window, now, field, warn);
  const parsed = usageResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new LabError(
      'upstream_error',
      'The usage endpoint answered with something that is not a usage report. Try again later.',
    );
  }
  const body = parsed.data;
  const others: LimitSnapshot[] = [];
  for (const extra of body.additional_rate_limits ?? []) {
    if (!extra) continue;
    const primary = toWindow(
      extra.rate_limit?.primary_window,
      'additional_rate_limits.primary_window',
    );
    const secondary = toWindow(
      extra.rate_limit?.secondary_window,
      'additional_rate_limits.secondary_window',
    );
    others.push({
      limitId: extra.metered_feature ?? extra.limit_name ?? 'unknown',
      limitName: extra.limit_name ?? null,
      primary,
      secondary,
    });
  }
  const credits = body.credits;
  return {
    observedAt: now,
    source: 'usage',
    plan: body.plan_type ?? null,
    primary: toWindow(body.rate_limit?.primary_window, 'rate_limit.primary_window'),
    secondary: toWindow(body.rate_limit?.secondary_window, 'rate_limit.secondary_window'),
    credits:
      credits && typeof credits.has_credits === 'boolean'
        ? {
            hasCredits: credits.has_credits,
            unlimited: credits.unlimited ?? false,
            balance:
              credits.balance === null || credits.balance === undefined
                ? null
                : String(credits.balance),
          }
        : null,
    activeLimit: null,
    limitReached: body.rate_limit?.limit_reached ?? null,
    others,
  };
}

function readUsageWindow(
  window: UsageWindowJson,
  now: number,
  field: string,
  warn: BoundaryWarn | undefined,
): QuotaWindow | null {
  if (!window || typeof window.used_percent !== 'number') return null;
  const usedPercent = plausiblePercent(window.used_percent, `${field}.used_percent`, warn);
  if (usedPercent === null) return null;
  const seconds = window.limit_window_seconds;
  return {
    usedPercent,
    windowMinutes: plausibleMinutes(
      typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0
        ? Math.ceil(seconds / 60)
        : null,
      `${field}.limit_window_seconds`,
      warn,
    ),
    resetsAt: plausibleTime(
      typeof window.reset_at === 'number' ? Math.round(window.reset_at * 1000) : null,
      now,
      `${field}.reset_at`,
      warn,
    ),
  };
}

/**
 * Renders a snapshot as the `wham/usage` JSON Codex expects (integers where Codex's generated
 * models have integers). `null` renders an empty report: unknown plan, no rate limit.
 */
export function usageResponseFromSnapshot(
  snapshot: QuotaSnapshot | null,
  now: number = Date.now(),
): Record<string, unknown> {
  if (!snapshot) {
    return {
      plan_type: 'unknown',
      rate_limit: null,
      credits: null,
      additional_rate_limits: null,
      rate_limit_reached_type: null,
    };
  }
  const limitReached =
    snapshot.limitReached ??
    (isExhausted(snapshot.primary, now) || isExhausted(snapshot.secondary, now));
  return {
    plan_type: snapshot.plan ?? 'unknown',
    rate_limit: renderRateLimit(snapshot.primary, snapshot.secondary, limitReached, now),
    credits: snapshot.credits
      ? {
          has_credits: snapshot.credits.hasCredits,
          unlimited: snapshot.credits.unlimited,
          balance: snapshot.credits.balance,
          approx_local_messages: null,
          approx_cloud_messages: null,
        }
      : null,
    additional_rate_limits:
      snapshot.others.length === 0
        ? null
        : snapshot.others
            .filter((other) => other.limitId !== defaultLimitId)
            .map((other) => ({
              limit_name: other.limitName ?? other.limitId,
              metered_feature: other.limitId,
              rate_limit: renderRateLimit(
                other.primary,
                other.secondary,
                isExhausted(other.primary, now) || isExhausted(other.secondary, now),
                now,
              ),
            })),
    rate_limit_reached_type: limitReached ? { type: 'rate_limit_reached' } : null,
  };
}

function renderRateLimit(
  primary: QuotaWindow | null,
  secondary: QuotaWindow | null,
  limitReached: boolean,
  now: number,
): Record<string, unknown> | null {
  if (!primary && !secondary) return null;
  return {
    allowed: !limitReached,
    limit_reached: limitReached,
    primary_window: renderWindow(primary, now),
    secondary_window: renderWindow(secondary, now),
  };
}

function renderWindow(window: QuotaWindow | null, now: number): Record<string, number> | null {
  if (!window) return null;
  const resetAt = window.resetsAt === null ? null : Math.floor(window.resetsAt / 1000);
  return {
    used_percent: Math.round(window.usedPercent),
    limit_window_seconds: (window.windowMinutes ?? 0) * 60,
    reset_after_seconds:
      window.resetsAt === null ? 0 : Math.max(0, Math.round((window.resetsAt - now) / 1000)),
    reset_at: resetAt ?? 0,
  };
}

function isExhausted(window: QuotaWindow | null, now: number): boolean {
  return (
    window !== null &&
    window.usedPercent >= 100 &&
    (window.resetsAt === null || window.resetsAt > now)
  );
}
