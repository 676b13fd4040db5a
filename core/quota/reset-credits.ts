/**
 * Reset credits: banked rate-limit resets an account can redeem, listed by
 * `GET {base}/wham/rate-limit-reset-credits` (docs/quota.md "Reset credits" has the answer's
 * shape and where it comes from). Read alongside the usage endpoint by `readUsage`.
 */
import { z } from 'zod';
import type { ResetCredits } from '../state/schema.ts';
import { plausibleTime, type BoundaryWarn } from './bounds.ts';

/** The endpoint's path under the ChatGPT base URL. */
export const resetCreditsPath = 'wham/rate-limit-reset-credits';

/** The endpoint's answer for an account with no credits (what `parseResetCredits` reads as none). */
export const noResetCreditsAnswer = { available_count: 0, credits: [] } as const;

// A time is an ISO-8601 string in the answers seen; some clients also accept Unix seconds.
const timeSchema = z.union([z.string(), z.number()]).nullish().catch(null);

const creditSchema = z
  .looseObject({
    status: z.string().nullish().catch(null),
    expires_at: timeSchema,
  })
  .nullable()
  .catch(null);

const answerSchema = z.looseObject({
  available_count: z.number().nullish().catch(null),
  credits: z.array(creditSchema).nullish().catch(null),
});

/** What one answer says: the account's credits, or null when it has none. */
export type ResetCreditsRead =
  { ok: true; value: ResetCredits | null } | { ok: false; code: 'upstream_error'; message: string };

/**
 * Reads an answer: the count is `available_count` when it is a whole number ≥ 0, else the listed
 * credits whose status is `available`; the next expiry is the soonest `expires_at` among available
 * credits that has not passed. A count of 0 is "none" (null), never a zero to show. An answer with
 * neither a count nor a list is not a reset-credit answer.
 */
export function parseResetCredits(
  json: unknown,
  now: number,
  warn?: BoundaryWarn,
): ResetCreditsRead {
  const parsed = answerSchema.safeParse(json);
  const body = parsed.success ? parsed.data : null;
  const count = body?.available_count;
  const countIsValid = typeof count === 'number' && Number.isInteger(count) && count >= 0;
  if (!body || (!countIsValid && !body.credits)) {
    return {
      ok: false,
      code: 'upstream_error',
      message: 'The reset-credits endpoint sent an answer without a count or a list of credits.',
    };
  }
  const available = (body.credits ?? []).filter(
    (credit) => credit !== null && (credit.status ?? 'available').toLowerCase() === 'available',
  );
  const total = countIsValid ? count : available.length;
  if (total === 0) return { ok: true, value: null };
  let nextExpiresAt: number | null = null;
  for (const credit of available) {
    const expiresAt = plausibleTime(
      toMs(credit?.expires_at),
      now,
      'rate_limit_reset_credits.expires_at',
      warn,
    );
    if (expiresAt === null || expiresAt <= now) continue;
    if (nextExpiresAt === null || expiresAt < nextExpiresAt) nextExpiresAt = expiresAt;
  }
  return { ok: true, value: { available: Math.min(total, 1e6), nextExpiresAt } };
}

function toMs(value: string | number | null | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
