/** File shapes: Codex's own `auth.json`, and our registry `auth-profiles.json`. */
import { z } from 'zod';

/** `tokens` inside Codex's auth.json. Unknown fields are kept as they are. */
export const authTokensSchema = z.looseObject({
  id_token: z.string(),
  access_token: z.string(),
  refresh_token: z.string(),
  account_id: z.string().nullable().optional(),
});

/**
 * Codex's `auth.json` exactly (docs/codex-protocol.md section 3.2). Unknown fields such as
 * `agent_identity` are preserved on rewrite.
 */
export const authDotJsonSchema = z.looseObject({
  auth_mode: z.string().optional(),
  OPENAI_API_KEY: z.string().nullable().optional(),
  tokens: authTokensSchema.optional(),
  last_refresh: z.string().optional(),
});

/** A parsed auth.json. */
export type AuthDotJson = z.infer<typeof authDotJsonSchema>;
/** The tokens of a parsed auth.json. */
export type AuthTokens = z.infer<typeof authTokensSchema>;

/** `^[a-z0-9][a-z0-9._-]{0,63}$`: the only names that ever reach a path. */
export const profileNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Where a profile's auth.json lives. */
export const storeKindSchema = z.enum(['file', 'keyring']);
/** Where a profile's auth.json lives. */
export type StoreKind = z.infer<typeof storeKindSchema>;

/** Which quota window priming watches. */
export const primingWindowSchema = z.enum(['weekly', 'five_hour']);
/** Which quota window priming watches. */
export type PrimingWindow = z.infer<typeof primingWindowSchema>;

/**
 * A local time of day written "HH:MM" (00:00 to 23:59, two digits each), as hours and minutes, or
 * null when `text` is not one. The one reading of `priming.at`: the registry is refused with it,
 * and the scheduler plans with it, so a time the registry accepts is the time priming uses.
 */
export function parseLocalTime(text: string): { hours: number; minutes: number } | null {
  // Spaces around it are forgiven, as the scheduler always did: a registry that worked before
  // must not become unreadable over them.
  const match = /^\s*([01]\d|2[0-3]):([0-5]\d)\s*$/.exec(text);
  return match ? { hours: Number(match[1]), minutes: Number(match[2]) } : null;
}

/** One profile in the registry. Secrets never live here. */
export const profileRecordSchema = z.looseObject({
  name: z.string().regex(profileNamePattern),
  label: z.string().nullable().default(null),
  email: z.string().nullable().default(null),
  plan: z.string().nullable().default(null),
  accountId: z.string().nullable().default(null),
  userId: z.string().nullable().default(null),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().default(null),
  store: storeKindSchema.default('file'),
  /**
   * True for the legacy `$CODEX_LAB_HOME/auth.json` once it needs a registry entry (for settings
   * such as priming): its tokens stay in that file, used in place.
   */
  legacy: z.boolean().optional(),
  /**
   * When the tokens the profile holds were signed in (the sign-in's own time; a refresh leaves it
   * as it is): a sign-in kept in the journal is saved only when it is newer than this. Absent for
   * profiles signed in before it was recorded.
   */
  signedInAt: z.string().optional(),
  priming: z
    .looseObject({
      enabled: z.boolean().default(false),
      // At least one: "priming on" with no window would watch nothing yet prime the weekly one.
      windows: z
        .array(primingWindowSchema)
        .min(1, { message: 'expected at least one window: "weekly", "five_hour" or both' })
        .default(['weekly']),
      /** Local time "HH:MM" to prime at, or null for "as soon as the window is idle". */
      at: z
        .string()
        .refine((text) => parseLocalTime(text) !== null, {
          message: 'expected a local time HH:MM, from 00:00 to 23:59, or null',
        })
        .nullable()
        .default(null),
      model: z.string().nullable().default(null),
    })
    .default({ enabled: false, windows: ['weekly'], at: null, model: null }),
});
/** One profile in the registry. */
export type ProfileRecord = z.infer<typeof profileRecordSchema>;

/** A stored pin: a session or repo path bound to a profile. */
export const pinSchema = z.looseObject({
  profile: z.string().regex(profileNamePattern),
  /** When true, an exhausted pinned profile falls over instead of returning the upstream error. */
  allowFallback: z.boolean().default(false),
  createdAt: z.string(),
});
/** A stored pin. */
export type Pin = z.infer<typeof pinSchema>;

/** The current registry schema version. */
export const registryVersion = 1;

/** `auth-profiles.json`. */
export const registrySchema = z.looseObject({
  version: z.literal(registryVersion),
  /** "auto", or the name of the profile new unpinned sessions use. */
  active: z.string().default('auto'),
  /** In the user's order; names are unique regardless of case (a folder each). */
  profiles: z
    .array(profileRecordSchema)
    .default([])
    .refine(
      (profiles) =>
        new Set(profiles.map((profile) => profile.name.toLowerCase())).size === profiles.length,
      { message: 'two profiles have the same name' },
    ),
  pins: z
    .looseObject({
      sessions: z.record(z.string(), pinSchema).default({}),
      repos: z.record(z.string(), pinSchema).default({}),
    })
    .default({ sessions: {}, repos: {} }),
});
/** `auth-profiles.json`. */
export type Registry = z.infer<typeof registrySchema>;

/** A registry with nothing in it. */
export function emptyRegistry(): Registry {
  return {
    version: registryVersion,
    active: 'auto',
    profiles: [],
    pins: { sessions: {}, repos: {} },
  };
}

/**
 * How often a profile's `lastUsedAt` is written at most (each is a registry rewrite, which every
 * router and window reloads): the store skips a touch within it, and the router does not ask.
 */
export const lastUseIntervalMs = 60_000;
