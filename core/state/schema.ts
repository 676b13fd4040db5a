/**
 * Router, quota and priming state, kept apart from the registry under `state/` so that a busy
 * router never rewrites `auth-profiles.json`.
 */
import { z } from 'zod';

/**
 * Bounds for numbers read back from state files (issue 9): a time must be a Unix-ms value a
 * `Date` can print (≤ year 2286), a percentage finite. A file holding anything else is reported
 * as corrupt, by name, instead of crashing `list` or every routed request.
 */
const storedTime = z.number().finite().min(0).max(1e13);
const storedPercent = z.number().finite().min(0).max(1000);
const storedMinutes = z.number().finite().min(0).max(1e7);

/** One quota window as the core keeps it (times in Unix milliseconds). */
export const quotaWindowSchema = z.looseObject({
  usedPercent: storedPercent,
  windowMinutes: storedMinutes.nullable(),
  resetsAt: storedTime.nullable(),
});
/** One quota window. */
export type QuotaWindow = z.infer<typeof quotaWindowSchema>;

/** Credits as the upstream reports them. */
export const creditsSchema = z.looseObject({
  hasCredits: z.boolean(),
  unlimited: z.boolean(),
  balance: z.string().nullable(),
});
/** Credits as the upstream reports them. */
export type Credits = z.infer<typeof creditsSchema>;

/** Banked rate-limit resets the account can redeem (`wham/rate-limit-reset-credits`). */
export const resetCreditsSchema = z.looseObject({
  /** How many are available now (always ≥ 1: an account with none has no value at all). */
  available: z.number().int().min(1).max(1e6),
  /** When the soonest-expiring available one lapses (Unix ms), or null when not said. */
  nextExpiresAt: storedTime.nullable(),
});
/** Banked rate-limit resets the account can redeem. */
export type ResetCredits = z.infer<typeof resetCreditsSchema>;

/** One limit family (`codex`, `codex_bengalfox`, …) at one moment. */
export const limitSnapshotSchema = z.looseObject({
  limitId: z.string(),
  limitName: z.string().nullable(),
  primary: quotaWindowSchema.nullable(),
  secondary: quotaWindowSchema.nullable(),
});
/** One limit family at one moment. */
export type LimitSnapshot = z.infer<typeof limitSnapshotSchema>;

/** Everything known about one profile's quota at one moment. */
export const quotaSnapshotSchema = z.looseObject({
  observedAt: storedTime,
  source: z.enum(['usage', 'headers']),
  plan: z.string().nullable(),
  primary: quotaWindowSchema.nullable(),
  secondary: quotaWindowSchema.nullable(),
  credits: creditsSchema.nullable(),
  activeLimit: z.string().nullable(),
  limitReached: z.boolean().nullable(),
  others: z.array(limitSnapshotSchema).default([]),
  /**
   * Reset credits: absent when not read (a header snapshot, or the read failed), null when the
   * account has none (or the endpoint answered 404).
   */
  resetCredits: resetCreditsSchema.nullish(),
});
/** Everything known about one profile's quota at one moment. */
export type QuotaSnapshot = z.infer<typeof quotaSnapshotSchema>;

/** A point of the short history behind the UI's chart. */
export const quotaPointSchema = z.looseObject({
  at: storedTime,
  primary: storedPercent.nullable(),
  secondary: storedPercent.nullable(),
});
/** A point of the short history. */
export type QuotaPoint = z.infer<typeof quotaPointSchema>;

/**
 * A state file's shape: version 1 and one `entry` per profile name. Every object here is loose:
 * fields a newer Codex Lab (or a hand edit) added are kept through every rewrite, as the registry
 * keeps them.
 */
function perProfileFile<Entry extends z.ZodType>(entry: Entry) {
  return z.looseObject({ version: z.literal(1), profiles: z.record(z.string(), entry) });
}

/** `state/quota.json`. */
export const quotaFileSchema = perProfileFile(
  z.looseObject({
    latest: quotaSnapshotSchema.nullable(),
    history: z.array(quotaPointSchema).default([]),
    /**
     * The account stamp of the profile the figures were read for (`accountStamp`): an entry is
     * shown for a profile only while that profile is the same account. Absent in older files.
     */
    account: z.string().max(64).nullable().optional(),
  }),
);
/** `state/quota.json`. */
export type QuotaFile = z.infer<typeof quotaFileSchema>;

/** A profile's health. */
export const healthStatusSchema = z.enum(['ok', 'limited', 'auth_error', 'unknown']);
/** A profile's health. */
export type HealthStatus = z.infer<typeof healthStatusSchema>;

/**
 * One per-model limit family's mark (a 429 for `codex_spark`, or a usage read showing it spent):
 * the family is skipped on the profile until `until`. A mark lifted by a later reading with room
 * stays as one that has lapsed (`until` = when it was lifted), so a process holding the older
 * mark sees it is over.
 */
export const familyMarkSchema = z.looseObject({
  until: storedTime,
  /** When the mark (or its lifting) was made: a reading older than it says nothing of it. */
  markedAt: storedTime,
  /** The models the 429s named for this family: routing knows them after a restart. */
  models: z.array(z.string().max(200)).max(50).default([]),
});
/** One per-model limit family's mark. */
export type FamilyMark = z.infer<typeof familyMarkSchema>;

/** `state/health.json`: per-profile status that outlives a process. */
export const healthFileSchema = perProfileFile(
  z.looseObject({
    status: healthStatusSchema,
    /** Unix ms until which the profile is skipped (limited), or null. */
    unavailableUntil: storedTime.nullable(),
    /** Error code behind the status, e.g. `refresh_token_reused`. */
    code: z.string().nullable(),
    /** The message shown to the user (Codex's wording for refresh failures). */
    message: z.string().nullable(),
    updatedAt: storedTime,
  }),
).extend({
  /**
   * Per-model family marks: profile → family → mark. Absent in files written before they were
   * kept here (read as none).
   */
  families: z.record(z.string(), z.record(z.string(), familyMarkSchema)).optional(),
});
/** `state/health.json`. */
export type HealthFile = z.infer<typeof healthFileSchema>;

/** One priming attempt's outcome (times in Unix ms). */
export const primingOutcomeSchema = z.looseObject({
  at: storedTime,
  window: z.enum(['weekly', 'five_hour']),
  outcome: z.enum(['primed', 'confirmed', 'failed', 'skipped', 'dry_run']),
  message: z.string(),
});
/** One priming attempt's outcome. */
export type PrimingOutcome = z.infer<typeof primingOutcomeSchema>;

/** `state/priming.json`: the last outcome and a short log of attempts per profile. */
export const primingFileSchema = perProfileFile(
  z.looseObject({
    last: primingOutcomeSchema.nullable(),
    log: z.array(primingOutcomeSchema).default([]),
  }),
);
/** `state/priming.json`. */
export type PrimingFile = z.infer<typeof primingFileSchema>;
